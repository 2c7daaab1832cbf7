from __future__ import annotations

import pytest

from preflight.parsers.hosts import parse_hosts

DEBIAN = """127.0.0.1\tlocalhost
127.0.1.1\thost1.example.com\thost1

# The following lines are desirable for IPv6 capable hosts
::1     localhost ip6-localhost ip6-loopback
ff02::1 ip6-allnodes
ff02::2 ip6-allrouters
10.0.0.20\thost2.example.com host2   # migration destination
   10.0.0.21  HOST3.example.com\t host3\t
"""


def test_real_world_file() -> None:
    hosts = parse_hosts(DEBIAN)
    assert hosts.errors == []
    assert [(e.address, e.line) for e in hosts.entries] == [
        ("127.0.0.1", 1),
        ("127.0.1.1", 2),
        ("::1", 5),
        ("ff02::1", 6),
        ("ff02::2", 7),
        ("10.0.0.20", 8),
        ("10.0.0.21", 9),
    ]
    assert hosts.entries[2].names == ["localhost", "ip6-localhost", "ip6-loopback"]
    assert hosts.entries[5].names == ["host2.example.com", "host2"]  # trailing comment is not a name


def test_lookup_is_case_insensitive_and_in_file_order() -> None:
    hosts = parse_hosts(DEBIAN)
    assert hosts.addresses_for("localhost") == ["127.0.0.1", "::1"]
    assert hosts.addresses_for("host3") == ["10.0.0.21"]
    assert hosts.addresses_for("host3.EXAMPLE.com") == ["10.0.0.21"]
    assert hosts.addresses_for("Host2") == ["10.0.0.20"]
    assert hosts.lookup("nope") == []


def test_same_name_on_several_lines_keeps_file_order_without_repeats() -> None:
    hosts = parse_hosts("10.0.0.2 b\n10.0.0.1 a b\n10.0.0.2 b2 b\n")
    assert [e.line for e in hosts.lookup("b")] == [1, 2, 3]
    assert hosts.addresses_for("b") == ["10.0.0.2", "10.0.0.1"]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("10.0.0.99", "without a host name"),
        ("10.0.0.99   # only a comment", "without a host name"),
        ("this is garbage", "is not an IP address"),
        ("10.0.0.999 toolarge", "is not an IP address"),
    ],
)
def test_bad_line_reported_with_its_line_and_others_kept(bad: str, message: str) -> None:
    hosts = parse_hosts(f"127.0.0.1 localhost\n{bad}\n10.0.0.20 host2\n", path="/h")
    assert [e.address for e in hosts.entries] == ["127.0.0.1", "10.0.0.20"]
    assert [(e.file, e.line) for e in hosts.errors] == [("/h", 2)]
    assert message in hosts.errors[0].message


def test_several_bad_lines_each_reported() -> None:
    hosts = parse_hosts("1.2.3.4\nok-not\n\n5.6.7.8 five\n9.9.9.9\n")
    assert [e.line for e in hosts.errors] == [1, 2, 5]
    assert [e.names for e in hosts.entries] == [["five"]]


def test_empty_and_no_final_newline() -> None:
    assert parse_hosts("").entries == []
    hosts = parse_hosts("10.0.0.1 a")
    assert hosts.addresses_for("a") == ["10.0.0.1"] and hosts.errors == []


def test_scoped_ipv6_is_not_an_address_for_glibc_and_non_ascii_names_count() -> None:
    # inet_pton() rejects "%eth0": glibc skips the line (it used to be read as an entry).
    hosts = parse_hosts("fe80::1%eth0 gw\n10.0.0.1 hôte\n10.0.0.2 after\n")
    assert hosts.addresses_for("gw") == []
    assert [(e.line, "scope id" in e.message) for e in hosts.errors] == [(1, True)]
    assert [e.line for e in hosts.entries] == [2, 3]
    assert hosts.addresses_for("HÔTE") == [] and hosts.addresses_for("hôte") == ["10.0.0.1"]  # ASCII case only


# --- issue 12 case: a line ending in CR is read by glibc, before the good line -----------------


def test_cr_line_end_is_whitespace_and_its_entry_wins() -> None:
    text = "127.0.0.1 localhost\n127.0.0.1 host2.example.com\r\n10.0.0.20 host2.example.com host2\n"
    hosts = parse_hosts(text)
    assert hosts.errors == []
    first = hosts.lookup("host2.example.com")[0]
    assert (first.address, first.line, first.names) == ("127.0.0.1", 2, ["host2.example.com"])
    assert hosts.addresses_for("host2.example.com") == ["127.0.0.1", "10.0.0.20"]


def test_cr_line_makes_net001_fail_in_image_mode() -> None:
    """End to end: the rule sees what glibc sees (it passed on the Augeas reading)."""
    from preflight.model import probes as P
    from preflight.model.facts import HostMode
    from preflight.model.findings import Status
    from tests.rule_checks.factory import DST_ADDR, baseline, of, run

    src, dst = baseline()
    src.mode = HostMode.IMAGE
    src.files[P.ETC_HOSTS] = f"127.0.0.1 localhost\n127.0.0.1 host2.example.com\r\n{DST_ADDR} host2.example.com\n"
    src.cmds.pop(P.getent_key("host2.example.com"), None)
    found = of(run(src, dst), "NET001")
    assert found and all(f.status is Status.FAIL for f in found)
    assert any("loopback" in f.message and f.line == 2 for f in found)


@pytest.mark.parametrize("space", ["\v", "\f", "\r", "\t \r"])
def test_every_c_isspace_character_separates_fields(space: str) -> None:
    hosts = parse_hosts(f"10.0.0.5{space}five{space}fünf{space}\n")
    assert [(e.address, e.names) for e in hosts.entries] == [("10.0.0.5", ["five", "fünf"])]


@pytest.mark.parametrize("space", ["\u00a0", "\x1c", "\u2003", "\x85"])
def test_unicode_spaces_do_not_separate_fields(space: str) -> None:
    hosts = parse_hosts(f"10.0.0.5 a{space}b\n10.0.0.6{space}c\n")
    assert [(e.address, e.names) for e in hosts.entries] == [("10.0.0.5", [f"a{space}b"])]
    assert [e.line for e in hosts.errors] == [2]


def test_hash_anywhere_ends_the_line() -> None:
    hosts = parse_hosts("10.0.0.7 seven#eight nine\n  # 10.0.0.9 nine\n10.0.0.8#x eight\n")
    assert [(e.address, e.names) for e in hosts.entries] == [("10.0.0.7", ["seven"])]
    assert [e.line for e in hosts.errors] == [3]


@pytest.mark.parametrize("bad", ["127.1", "010.0.0.1", "0x7f.0.0.1", "1.2.3.4.5", "1::2::3", "::ffff:1.2.3",
                                 "1:2:3:4:5:6:7:8::", "[::1]", "１.2.3.4"])
def test_inet_pton_rules_not_inet_aton(bad: str) -> None:
    hosts = parse_hosts(f"{bad} host\n")
    assert hosts.entries == [] and "is not an IP address" in hosts.errors[0].message


def test_addresses_shown_as_glibc_prints_them_and_family_views() -> None:
    text = "FE80::0001 gw\n::FFFF:10.0.0.5 m\n0:0:0:0:0:0:0:1 lo6 m\n10.0.0.6 m\n"
    hosts = parse_hosts(text)
    assert [e.address for e in hosts.entries] == ["fe80::1", "::ffff:10.0.0.5", "::1", "10.0.0.6"]
    assert hosts.entries[0].written == "FE80::0001"
    assert hosts.hostent("m", 4) == ["10.0.0.5", "127.0.0.1", "10.0.0.6"]  # mapped and ::1 converted
    assert hosts.hostent("m", 6) == ["::ffff:10.0.0.5", "::1"]
    assert hosts.getent_hosts("m") == ["::ffff:10.0.0.5", "::1"]
    assert hosts.getent_hosts("gw") == ["fe80::1"]


def test_case_folding_is_ascii_only() -> None:
    hosts = parse_hosts("10.0.0.1 host\u212a\n10.0.0.2 HOSTK\n")  # U+212A KELVIN SIGN
    assert hosts.addresses_for("hostk") == ["10.0.0.2"]


def test_indented_last_line_without_newline_reads_as_glibc_does() -> None:
    # __nss_readline's memmove leaves the tail doubled when no newline ends the line.
    hosts = parse_hosts("10.0.0.1 a\n  10.0.0.2 host")
    assert [e.names for e in hosts.entries] == [["a"], ["hostst"]]
    assert parse_hosts("  10.0.0.2 host\n").entries[0].names == ["host"]


def test_nul_byte_ends_the_line() -> None:
    hosts = parse_hosts("10.0.0.1 a\0b c\n10.0.0.2 d\n")
    assert [e.names for e in hosts.entries] == [["a"], ["d"]]


def test_lines_are_counted_on_newline_only() -> None:
    hosts = parse_hosts("10.0.0.1 a\x0bb\x0cc\x1cd\u2028e\n10.0.0.2 f\n")
    assert [(e.line, e.names) for e in hosts.entries] == [(1, ["a", "b", "c\x1cd\u2028e"]), (2, ["f"])]


@pytest.mark.parametrize("name", ["inet", "libvirt_daemon"])
def test_docstring_examples_of_the_new_modules(name: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"preflight.parsers.{name}"))
    assert result.attempted > 0 and result.failed == 0


def test_longest_address_texts() -> None:
    longest = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"  # 45 characters, INET6_ADDRSTRLEN - 1
    hosts = parse_hosts(f"{longest} a\n0{longest} b\n{'1:' * 100000}1 c\n")
    assert [(e.address, e.names) for e in hosts.entries] == [("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ["a"])]
    assert [e.line for e in hosts.errors] == [2, 3]
