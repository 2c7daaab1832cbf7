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
