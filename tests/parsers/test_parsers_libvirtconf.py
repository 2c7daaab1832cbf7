from __future__ import annotations

import pytest

from preflight.parsers.augeas_util import edit_text
from preflight.parsers.libvirtconf import LENS, format_value, parse_libvirt_conf

LIBVIRTD = "/etc/libvirt/libvirtd.conf"


def line_of(text: str, exact: str) -> int:
    return text.splitlines().index(exact) + 1


def test_stock_debian12_libvirtd_conf(fixture_text) -> None:
    text = fixture_text("libvirtd.conf.debian12")
    conf = parse_libvirt_conf(text, LIBVIRTD)
    assert conf.errors == [] and conf.entries == [] and conf.duplicates == []
    assert conf.commented_defaults["max_clients"] == line_of(text, "#max_clients = 5000")
    assert conf.commented_defaults["max_workers"] == line_of(text, "#max_workers = 20")
    assert conf.commented_defaults["listen_tls"] == line_of(text, "#listen_tls = 0")
    assert conf.get("max_clients") is None


def test_stock_debian12_qemu_conf(fixture_text) -> None:
    text = fixture_text("qemu.conf.debian12")
    conf = parse_libvirt_conf(text, "/etc/libvirt/qemu.conf")
    assert conf.errors == [] and conf.entries == []
    assert "security_driver" in conf.commented_defaults


def test_lab_qemu_conf_settings(fixture_text) -> None:
    text = fixture_text("qemu.conf.debian12") + (
        "user = \"root\"\ngroup = 'root'\ndynamic_ownership = 0\n"
        'cgroup_controllers = [ ]\nnamespaces = [ "mount",\n   "ipc", ]\n'
        'stdio_handler = "file" # no virtlogd\n'
    )
    conf = parse_libvirt_conf(text, "/etc/libvirt/qemu.conf")
    assert conf.errors == []
    values = {e.key: e.value for e in conf.entries}
    assert values == {
        "user": "root",
        "group": "root",
        "dynamic_ownership": 0,
        "cgroup_controllers": [],
        "namespaces": ["mount", "ipc"],
        "stdio_handler": "file",
    }
    first_line = len(fixture_text("qemu.conf.debian12").splitlines()) + 1
    assert [e.line for e in conf.entries] == [first_line + i for i in (0, 1, 2, 3, 4, 6)]


def test_first_occurrence_wins_and_duplicates_listed() -> None:
    text = "max_clients = 20\n# later\nmax_clients = 5000\nmax_workers=-1\nmax_clients = +7\n"
    conf = parse_libvirt_conf(text, LIBVIRTD)
    entry = conf.get("max_clients")
    assert entry is not None and (entry.value, entry.line) == (20, 1)
    assert conf.duplicates == [("max_clients", 1, 3), ("max_clients", 1, 5)]
    assert conf.get("max_workers").value == -1  # type: ignore[union-attr]
    assert conf.get("Max_clients") is None  # keys are case-sensitive in virconf


def test_any_key_is_accepted() -> None:
    conf = parse_libvirt_conf('not_a_libvirtd_key = "x"\nfoo2 = 1\n', LIBVIRTD)
    assert conf.errors == [] and [e.key for e in conf.entries] == ["not_a_libvirtd_key", "foo2"]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('max_clients = 5\nlisten_addr = "0.0.0.0\nmax_workers = 3\n', 2, "unterminated string"),
        ("max_clients = 5\n\nmax_clients = abc\n", 3, "expecting a value for 'max_clients': 'abc' is neither"),
        ("max_clients 5\n", 1, "expecting an assignment"),
        ("max_clients =\n", 1, "expecting a value"),
        ("a = 1\nb = 2 3\n", 2, "expecting a separator"),
        ('x = [ "a"\n', 2, "list is not closed with ]: the list of 'x' opened on line 1"),  # libvirt: at EOF
        ('x = [ "a" "b" ]\n', 1, "expecting a separator in list"),
        ("_x = 1\n", 1, "expecting a name"),
        ("a = 1\x00\n", 1, "NUL"),
    ],
)
def test_malformed_file_gives_error_and_no_entries(text: str, line: int, message: str) -> None:
    conf = parse_libvirt_conf(text, LIBVIRTD)
    assert conf.entries == []
    assert len(conf.errors) == 1
    error = conf.errors[0]
    assert (error.file, error.line) == (LIBVIRTD, line)
    assert message in error.message


def test_format_value() -> None:
    assert format_value(50) == "50"
    assert format_value("none") == '"none"'
    assert format_value('say "hi"') == "'say \"hi\"'"
    with pytest.raises(ValueError):
        format_value("both ' and \"")
    with pytest.raises(TypeError):
        format_value(True)


# --- the lens: unchanged trees save back byte for byte; edits keep comments ---


def test_round_trip_unchanged(fixture_text) -> None:
    for name in ("libvirtd.conf.debian12", "qemu.conf.debian12"):
        text = fixture_text(name) + 'a = [ "x",\n  "y", ]   # c\nb = \'q\'\n'
        assert edit_text(LENS, text, name, lambda aug, root: None) == text


def test_fix_in_place_and_after_commented_default(fixture_text) -> None:
    text = fixture_text("libvirtd.conf.debian12") + "max_workers = 20  # keep me\n"
    commented = parse_libvirt_conf(text, LIBVIRTD).commented_defaults["max_clients"]

    def fix(aug, root: str) -> None:
        aug.set(f"{root}/max_workers", format_value(40))
        comment = next(p for p in aug.match(f"{root}/#comment") if aug.get(p) == "max_clients = 5000")
        aug.insert(comment, "max_clients", before=False)
        aug.set(f"{root}/max_clients", format_value(100))
        aug.set(f"{root}/listen_addr", format_value("::"))

    new = edit_text(LENS, text, LIBVIRTD, fix)
    lines = text.splitlines()
    lines.insert(commented, "max_clients = 100")
    lines[-1] = "max_workers = 40  # keep me"
    assert new == "\n".join(lines) + '\nlisten_addr = "::"\n'
    conf = parse_libvirt_conf(new, LIBVIRTD)
    assert conf.get("max_clients").line == commented + 1  # type: ignore[union-attr]


# --- issue 12: virconf.c's syntax and the daemon's typed reads --------------------------------


def test_separators_semicolon_cr_and_crlf() -> None:
    conf = parse_libvirt_conf("a = 1; b = 'x';c=2\rd = 3\r\ne = [ 1,\r\n 2 ]\r\n", LIBVIRTD)
    assert conf.errors == []
    assert [(e.key, e.value, e.line) for e in conf.entries] == [
        ("a", 1, 1), ("b", "x", 1), ("c", 2, 1), ("d", 3, 1), ("e", [1, 2], 2)]  # a lone CR is no new line


def test_triple_quoted_string_spans_lines_and_nested_lists() -> None:
    text = 'motd = """two\nlines "quoted" """\nx = [ [ "a", [ ] ], 1, -2, ]\ny = 5\n'
    conf = parse_libvirt_conf(text, "/etc/libvirt/qemu.conf")
    assert conf.errors == []
    assert [(e.key, e.value, e.line, e.kind) for e in conf.entries] == [
        ("motd", 'two\nlines "quoted" ', 1, "string"), ("x", [["a", []], 1, -2], 3, "list"), ("y", 5, 4, "ulong")]


def test_numbers_wrap_in_64_bits_as_libvirt_does() -> None:
    conf = parse_libvirt_conf("a = 18446744073709551617\nb = -1\nc = -0\nd = +7\ne = 007\n" + "f = " + "9" * 5000
                              + "\n", "/x.conf")
    assert [(e.value, e.kind) for e in conf.entries] == [
        (1, "ulong"), (-1, "long"), (0, "long"), (7, "ulong"), (7, "ulong"), ((10**5000 - 1) % 2**64, "ulong")]


def test_deep_nesting_is_no_recursion_error() -> None:
    conf = parse_libvirt_conf("x = " + "[" * 50000 + "]" * 50000 + "\n", "/x.conf")
    assert conf.errors == [] and conf.get("x") is not None
    broken = parse_libvirt_conf("x = " + "[" * 50000 + "\n", "/x.conf")
    assert broken.errors[0].line == 2  # libvirt: at the end, after the newline
    assert broken.errors[0].message.startswith("list is not closed with ]: the list of 'x' opened on line 1")


@pytest.mark.parametrize(("text", "line", "message"), [
    ("\n", 2, "expecting a name"),  # a file of blank lines only: libvirt refuses it
    ("  \n\n", 3, "expecting a name"),
    ('a = """x""', 1, "expecting a separator"),  # too short for a triple-quoted string
    ('a = """x\n\n\n', 2, "unterminated string"),  # libvirt stops 2 characters before the end
    ("a = [ 1, # c\n 2 ]\n", 1, "expecting a value"),
    ("a = 'x\rb'\n", 1, "unterminated string"),
    ("a = -\n", 1, "unterminated number"),
    ("1a = 1\n", 1, "expecting a name"),
    ("a = 1 # c\nb = 2 3\n", 2, "expecting a separator"),
])
def test_virconf_refusals(text: str, line: int, message: str) -> None:
    conf = parse_libvirt_conf(text, LIBVIRTD)
    assert (conf.errors[0].line, conf.entries) == (line, [])
    assert conf.errors[0].message.startswith(message)


def test_empty_and_comment_only_files_are_fine() -> None:
    for text in ("", "# c\n", "# c\n\n  # d\n", "a = 1\n\n\n"):
        assert parse_libvirt_conf(text, LIBVIRTD).errors == []


@pytest.mark.parametrize(("text", "message"), [
    ('max_clients = "50"\n', "expected an unsigned integer for 'max_clients' parameter (it is the string \"50\")"),
    ("max_workers = -0\n", "expected an unsigned integer for 'max_workers' parameter (it is the number 0)"),
    ("max_clients = -5\n", "expected an unsigned integer for 'max_clients'"),
    ("max_clients = 4294967296\n", "value for 'max_clients' parameter must be in range 0:4294967295"),
    ("max_workers = 0\n", "'max_workers' must be greater than 0"),
    ("keepalive_interval = 2147483648\n", "value for 'keepalive_interval' parameter must be in range"),
    ("listen_tcp = 2\n", "value for 'listen_tcp' parameter must be 0 or 1"),
    ("auth_unix_rw = 'kerberos'\n", "auth_unix_rw: unsupported auth kerberos"),
    ('access_drivers = "polkit"\n', "expected a string list for 'access_drivers' parameter"),
    ("tcp_min_ssf = 56\n", "minimum SSF levels lower than 112 are not supported"),
])
def test_typed_reads_the_daemon_refuses(text: str, message: str) -> None:
    conf = parse_libvirt_conf("# header\n" + text, LIBVIRTD)
    assert conf.errors == [] and len(conf.invalid) == 1
    assert (conf.invalid[0].file, conf.invalid[0].line, conf.invalid[0].daemon) == (LIBVIRTD, 2, "libvirtd")
    assert conf.invalid[0].key == text.split(" ")[0]
    assert conf.invalid[0].message.startswith(message) and conf.invalid[0].message.endswith("libvirtd refuses to start")


def test_first_refusal_in_libvirt_order_and_per_daemon_schema() -> None:
    text = 'max_clients = "1"\nmin_workers = "2"\nlisten_tcp = 5\n'
    assert "'listen_tcp'" in parse_libvirt_conf(text, LIBVIRTD).invalid[0].message  # read first
    modular = parse_libvirt_conf(text, "/etc/libvirt/virtqemud.conf").invalid  # no TCP keys in virtqemud
    assert len(modular) == 1 and "'min_workers'" in modular[0].message and "virtqemud refuses" in modular[0].message
    assert parse_libvirt_conf(text, "/etc/libvirt/qemu.conf").invalid == []  # no daemon schema for qemu.conf


def test_only_the_first_occurrence_is_read_by_the_daemon() -> None:
    conf = parse_libvirt_conf('max_clients = 50\nmax_clients = "x"\nunknown_key = [ 1 ]\n', LIBVIRTD)
    assert conf.invalid == [] and conf.get("max_clients").value == 50  # type: ignore[union-attr]
