"""Issue 12, case "libvirt URI pasted from the decoded host spec": specs are validated once,
URIs are built from parts (preflight.uri), and libvirt's own parser reads back what we meant."""

from __future__ import annotations

import stat
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

import libvirt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from preflight.access import HostSpecError, parse_host_spec
from preflight.access.spec import HostSpec
from preflight.gather import default_libvirt_uri
from preflight.uri import dest_host_spec, dest_spec_from_uri, libvirt_uri

# The two specs of the issue: a `command=` libvirt would run as root, and host keys turned off
# while connecting to another host than the one inspected.
COMMAND_SPEC = "ssh://root@x%2Fsystem%3Fcommand%3D%2Fpath%2Fprog%23%40127.0.0.1"
NO_VERIFY_SPEC = "ssh://root@x%2Fsystem%3Fno_verify%3D1%23%40127.0.0.1"
FIXED_QUERY = {"no_tty", "no_verify", "command"}


@pytest.mark.parametrize("spec", [COMMAND_SPEC, NO_VERIFY_SPEC])
def test_issue_specs_are_refused(spec: str) -> None:
    with pytest.raises(HostSpecError, match="not a host name"):
        parse_host_spec(spec)
    # the same hostile authority typed as virsh's DESTURI
    desturi = "qemu+ssh://" + spec.removeprefix("ssh://") + "/system"
    with pytest.raises(HostSpecError):
        dest_host_spec(desturi)


@pytest.mark.parametrize(
    "spec",
    [
        "ssh://-oProxyCommand=touch%20x",  # a host ssh would read as an option
        "ssh://-oProxyCommand%3Dx@host2",  # a user likewise
        "ssh://.host2",
        "ssh://host2%0a",  # control character
        "ssh://ro%20ot@host2",
        "ssh://root@host2:0",
        "ssh://root@host2:65536",
        "ssh://root@host2:22x",
        "ssh://fd00::2",  # IPv6 without brackets: which colon is the port?
        "ssh://[fd00::2%25eth0]",
        "ssh://[host2]",
        "ssh://@host2",
        "ssh://a@b@host2",
        "ssh://host2?no_verify=1",
        "ssh://host2#x",
        "ssh://r%ffoot@host2",  # not UTF-8
    ],
)
def test_bad_parts_are_host_spec_errors(spec: str) -> None:
    with pytest.raises(HostSpecError):
        parse_host_spec(spec)


def test_no_hostspec_with_a_bad_part_can_be_built() -> None:
    for kwargs in ({"host": "-oX"}, {"host": "h", "user": "-l"}, {"host": "h", "port": 0}, {"host": "a/b"}):
        with pytest.raises(HostSpecError):
            HostSpec(kind="ssh", **kwargs)  # type: ignore[arg-type]


def test_good_specs_and_their_uris() -> None:
    s = parse_host_spec("ssh://r%6Fot@Host2.Example.com:2222/")
    assert (s.user, s.host, s.port) == ("root", "Host2.Example.com", 2222)
    assert libvirt_uri(s) == "qemu+ssh://root@Host2.Example.com:2222/system?no_tty=1&no_verify=0"
    v6 = parse_host_spec("ssh://svc_user.1@[fd00::2]:22")
    assert (v6.user, v6.host, v6.port) == ("svc_user.1", "fd00::2", 22)
    assert libvirt_uri(v6, verify_host_key=False, command="/tmp/a b/ssh-via-master") == (
        "qemu+ssh://svc_user.1@[fd00::2]:22/system?no_tty=1&no_verify=1&command=/tmp/a%20b/ssh-via-master"
    )
    assert default_libvirt_uri(parse_host_spec("ssh://10.0.0.2")) == "qemu+ssh://10.0.0.2/system?no_tty=1&no_verify=0"


@pytest.mark.parametrize(
    ("desturi", "spec"),
    [
        ("qemu+ssh://root@host2:2222/system", "ssh://root@host2:2222"),
        ("qemu+ssh://host2/system?keyfile=/k&command=/bin/x", "ssh://host2"),  # their query is not ours
        ("qemu+tls://host2:16514/system", "ssh://host2"),  # libvirtd's port, not sshd's
        ("qemu+tcp://admin@host2:16509/system", "ssh://admin@host2"),
        ("qemu://host2/system", "ssh://host2"),
        ("qemu+libssh2://root@[fd00::2]:2222/system", "ssh://root@[fd00::2]:2222"),
    ],
)
def test_dest_spec_from_uri(desturi: str, spec: str) -> None:
    assert dest_spec_from_uri(desturi) == spec
    assert str(parse_host_spec(spec)) == spec  # the spec string round-trips


@pytest.mark.parametrize(
    "desturi", ["qemu:///system", "qemu+ssh://ho%0ast/system", "qemu+ssh://ho\tst/system", "qemu+ssh://-x/system"]
)
def test_dest_uri_without_a_valid_host(desturi: str) -> None:
    with pytest.raises(HostSpecError):
        dest_host_spec(desturi)


_any_text = st.text(st.characters(codec="utf-8") | st.sampled_from(list("%/?#@:[]&=;.-_ ")), max_size=24)
# mostly plausible names, some with a hostile tail: the valid path must be exercised too
_part = st.one_of(
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,12}", fullmatch=True),
    st.tuples(st.from_regex(r"[a-z0-9]{1,6}", fullmatch=True), _any_text).map("".join),
    _any_text,
)


@settings(max_examples=400, deadline=None)
@given(user=_part, host=_part, port=st.integers(-1, 70000), encode=st.booleans())
def test_any_spec_gives_an_error_or_a_uri_with_only_our_query(user: str, host: str, port: int, encode: bool) -> None:
    u, h = (quote(user, safe=""), quote(host, safe="")) if encode else (user, host)
    text = f"ssh://{u}@{h}:{port}"
    try:
        spec = parse_host_spec(text)
    except HostSpecError:
        return
    uri = libvirt_uri(spec, command="/tmp/preflight-ssh-x/ssh-via-master")
    assert uri is not None
    parts = urlsplit(uri)
    assert (parts.scheme, parts.path, parts.fragment) == ("qemu+ssh", "/system", "")
    assert parts.hostname == (spec.host or "").lower() and parts.port == spec.port
    assert parts.username == user and not user.startswith("-") and not (spec.host or "").startswith("-")
    pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True)
    assert pairs == [("no_tty", "1"), ("no_verify", "0"), ("command", "/tmp/preflight-ssh-x/ssh-via-master")]
    assert {k for k, _ in pairs} <= FIXED_QUERY


def _recorder(tmp_path: Path) -> tuple[Path, Path]:
    """An ssh "binary" for libvirt's command= that writes down the argv libvirt gave it."""
    log = tmp_path / "argv"
    prog = tmp_path / "record ssh"  # a space: the value must survive libvirt's unescaping
    prog.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > '{log}'\nexit 1\n")
    prog.chmod(stat.S_IRWXU)
    return prog, log


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("ssh://root@host2.example.com:2222", ["-p", "2222", "-l", "root"]),
        ("ssh://svc.user_1@10.0.0.2", ["-l", "svc.user_1"]),
        ("ssh://[fd00::2]:22", ["-p", "22"]),
    ],
)
def test_libvirt_itself_reads_our_uri_as_meant(tmp_path: Path, spec: str, expected: list[str]) -> None:
    """libvirt's own URI parser (virURIParse is not exposed): the ssh argv it builds from our URI."""
    prog, log = _recorder(tmp_path)
    parsed = parse_host_spec(spec)
    uri = libvirt_uri(parsed, command=str(prog))
    assert uri is not None
    libvirt.registerErrorHandler(lambda _c, _e: None, None)
    with pytest.raises(libvirt.libvirtError):
        libvirt.openReadOnly(uri)  # our recorder exits 1: the connection fails after it ran
    argv = log.read_text().splitlines()
    dashes = argv.index("--")
    assert argv[dashes + 1] == parsed.host
    head = argv[:dashes]
    assert head[: len(expected)] == expected
    assert "StrictHostKeyChecking=no" not in head and "BatchMode=yes" in head
    # then only libvirt's remote command (one word: `sh -c '...'`), nothing from the spec
    assert len(argv) == dashes + 3 and argv[dashes + 2].startswith("sh -c ")
