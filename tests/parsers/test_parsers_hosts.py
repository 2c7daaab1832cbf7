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


def test_scoped_ipv6_and_non_ascii_names() -> None:
    hosts = parse_hosts("fe80::1%eth0 gw\n10.0.0.1 hôte\n10.0.0.2 after\n")
    assert hosts.addresses_for("gw") == ["fe80::1%eth0"]
    assert [e.line for e in hosts.entries] == [1, 2, 3]  # spans count bytes; lines stay right
