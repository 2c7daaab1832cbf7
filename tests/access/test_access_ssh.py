"""SshAccess against a real sshd on 127.0.0.1; nothing else is ever contacted."""

from __future__ import annotations

from pathlib import Path

from preflight.access import AccessOptions, HostUnreachable, SshAccess, parse_host_spec
from tests.support.sshd_server import Sshd, free_port, keygen


def _access(sshd: Sshd, config: Path | None = None, port: int | None = None) -> SshAccess:
    spec = parse_host_spec(f"ssh://root@127.0.0.1:{port or sshd.port}")
    return SshAccess(spec, AccessOptions(timeout=5, ssh_config=str(config or sshd.client_config)))


def test_runs_script_with_quoted_args(sshd: Sshd) -> None:
    with _access(sshd) as acc:
        res = acc.run_script(
            'printf "%s|" "$@"; echo; echo oops >&2; exit 3', 10, ["a b", "it's", "$(id)", '"q"']
        )
    assert res.rc == 3
    assert res.stdout == 'a b|it\'s|$(id)|"q"|\n'
    assert res.stderr.strip() == "oops"


def test_one_connection_for_many_commands(sshd: Sshd) -> None:
    acc = _access(sshd)
    try:
        before = sshd.accepted()
        acc.open()
        assert Path(acc.control_path).parent.stat().st_mode & 0o777 == 0o700
        for _ in range(5):
            assert acc.run_script("true", 10).rc == 0
        assert acc.connections_opened == 1
        assert acc.commands_run == 5
        # the server's own count: one authenticated connection carried all five commands
        assert sshd.accepted() - before == 1
    finally:
        acc.close()
    assert not Path(acc.control_path).exists()  # we sent -O exit to our master
    assert not Path(acc.control_path).parent.exists()


def test_host_key_mismatch_is_a_clear_reason(sshd: Sshd, tmp_path: Path) -> None:
    other = keygen(tmp_path / "other.key")
    kh = tmp_path / "wrong_known_hosts"
    kh.write_text(f"[127.0.0.1]:{sshd.port} {other}\n")
    acc = _access(sshd, sshd.client_config_with(kh))
    try:
        acc.open()
        raise AssertionError("connected despite a wrong host key")
    except HostUnreachable as exc:
        assert exc.reason == "Host key verification failed."
    finally:
        acc.close()


def test_unknown_host_key_is_refused_by_default(sshd: Sshd, tmp_path: Path) -> None:
    kh = tmp_path / "empty_known_hosts"
    kh.write_text("")
    with _access(sshd, sshd.client_config_with(kh)) as acc:
        try:
            acc.run_script("true", 5)
            raise AssertionError("connected to an unknown host key")
        except HostUnreachable as exc:
            assert exc.reason == "Host key verification failed."


def test_closed_port_gives_ssh_reason(sshd: Sshd) -> None:
    port = free_port()
    with _access(sshd, port=port) as acc:
        try:
            acc.open()
            raise AssertionError("connected to a closed port")
        except HostUnreachable as exc:
            assert exc.reason == f"ssh: connect to host 127.0.0.1 port {port}: Connection refused"
        assert acc.connections_opened == 0
