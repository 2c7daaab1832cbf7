"""Issue 12, case "host string parsed twice, a value starting with '-' on ssh's command line":
every ssh we (or libvirt, through our wrapper) start has fixed options, then `--`, then the
validated host; and a hostile DESTURI runs nothing. Real sshd on 127.0.0.1, real ssh, real libvirt:
the `ssh` first on PATH only writes its argv down and execs the real one."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

import preflight
from preflight.access import AccessOptions, LocalAccess
from tests.support.sshd_server import Sshd

REAL_SSH = "/usr/bin/ssh"
# what may stand before `--`: ours (ssh.py) and libvirt's own (-T -e none, -o BatchMode=yes)
FLAGS = {"-f", "-N", "-T"}
WITH_VALUE = {"-F", "-l", "-p", "-O", "-e", "-o"}
OPTION_KEYS = {"BatchMode", "StrictHostKeyChecking", "ControlPath", "ControlMaster", "ControlPersist",
               "ConnectTimeout"}


def _spy(tmp_path: Path) -> tuple[Path, Path]:
    """A directory to put first on PATH whose `ssh` records its argv (NUL-separated, one file per run)."""
    bindir, logdir = tmp_path / "bin", tmp_path / "argv"
    bindir.mkdir()
    logdir.mkdir()
    spy = bindir / "ssh"
    spy.write_text(f"#!/bin/sh\nprintf '%s\\0' \"$@\" > '{logdir}'/argv.$$\nexec {REAL_SSH} \"$@\"\n")
    spy.chmod(0o755)
    return bindir, logdir


def _calls(logdir: Path) -> list[list[str]]:
    return [f.read_bytes().decode().split("\0")[:-1] for f in sorted(logdir.iterdir())]


def _preflight(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "preflight.cli", *args], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=Path(preflight.__file__).parent.parent)


@pytest.fixture
def tmpdir_short() -> Iterator[Path]:
    """TMPDIR for the run under test: its own, and short (a socket path has 107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="pft-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _env(tmpdir: Path, bindir: Path | None = None) -> dict[str, str]:
    env = dict(os.environ, TMPDIR=str(tmpdir))
    if bindir is not None:
        env["PATH"] = f"{bindir}:{env['PATH']}"
    return env


def _check_argv(argv: list[str], cfg: Path) -> str:
    """Assert the fixed shape; return the kind of call (master, exit, command, libvirt)."""
    assert "--" in argv, argv
    dashes = argv.index("--")
    head, host, tail = argv[:dashes], argv[dashes + 1], argv[dashes + 2:]
    assert host == "127.0.0.1"
    assert len(tail) <= 1  # at most the remote command, as one word
    i, options = 0, dict[str, str]()
    while i < len(head):
        word = head[i]
        if word in FLAGS:
            i += 1
            continue
        assert word in WITH_VALUE, f"unexpected {word!r} in {argv}"
        value = head[i + 1]
        if word == "-o":
            key, _, val = value.partition("=")
            assert key in OPTION_KEYS, value
            options.setdefault(key, val)  # ssh keeps the first value
        elif word == "-F":
            assert value == str(cfg)
        elif word == "-e":
            assert value == "none"
        i += 2
    assert options["BatchMode"] == "yes" and options["StrictHostKeyChecking"] == "yes"
    assert re.fullmatch(r".*/preflight-ssh-[^/]+/master", options["ControlPath"])
    if "-O" in head:
        return "exit"
    if "-f" in head:
        assert options["ControlMaster"] == "yes"
        return "master"
    assert options["ControlMaster"] == "no"  # rides the master
    return "libvirt" if "-T" in head else "command"


def test_every_ssh_argv_is_fixed_options_dashes_host(sshd: Sshd, tmp_path: Path, tmpdir_short: Path) -> None:
    bindir, logdir = _spy(tmp_path)
    env = _env(tmpdir_short, bindir)
    before = sshd.accepted()
    res = _preflight("facts", sshd.spec, "-o", str(tmp_path / "facts.json"), "--ssh-config", str(sshd.client_config),
                     "--timeout", "5", env=env)
    assert res.returncode == 0, res.stderr
    kinds = sorted(_check_argv(argv, sshd.client_config) for argv in _calls(logdir))
    # one master, its script, libvirt's qemu+ssh through our wrapper, and the -O exit at the end
    assert kinds == ["command", "exit", "libvirt", "master"]
    assert sshd.accepted() - before == 1  # all of it on one ssh connection
    assert list(tmpdir_short.iterdir()) == []  # the private directory is gone


def test_hostile_desturi_runs_nothing(sshd: Sshd, tmp_path: Path, tmpdir_short: Path) -> None:
    """The issue's `command=` spec as DESTURI: libvirt would run PROG as root; now a usage error."""
    marker = tmp_path / "ran"
    prog = tmp_path / "prog"
    prog.write_text(f"#!/bin/sh\ntouch '{marker}'\nexit 1\n")
    prog.chmod(0o755)
    desturi = (f"qemu+ssh://root@x%2Fsystem%3Fcommand%3D{quote(str(prog), safe='')}%23%40127.0.0.1:{sshd.port}"
               "/system")
    res = _preflight("check", "g1", desturi, "--source-libvirt", "test:///default", "--ssh-config",
                     str(sshd.client_config), "--timeout", "5", env=_env(tmpdir_short))
    assert not marker.exists()
    assert res.returncode == 2, res.stdout + res.stderr
    assert "not a host name" in res.stderr


def test_no_testinfra_at_run_time() -> None:
    """pytest-testinfra re-parsed our host strings; nothing in preflight/ may import it now."""
    root = Path(preflight.__file__).parent
    importers = [p for p in root.rglob("*.py") if re.search(r"^\s*(from|import)\s+testinfra", p.read_text(), re.M)]
    assert importers == []
    code = ("import sys, preflight.cli, preflight.inspect, preflight.access, preflight.gather; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'testinfra'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_local_runner_keeps_timeout_and_stdin() -> None:
    """What testinfra's local backend lacked and our runner must keep: a deadline that kills the
    whole process group, and stdin from /dev/null (a command reading stdin never waits)."""
    acc = LocalAccess()
    res = acc.run_script("cat; echo done", 5)
    assert (res.rc, res.stdout) == (0, "done\n")
    t0 = time.monotonic()
    res = acc.run_script('sleep 30 & echo "$!"; wait', 2)
    assert time.monotonic() - t0 < 10
    assert res.rc == 124 and "timed out after 2 s" in res.stderr
    child = int(res.stdout.split()[0])
    deadline = time.monotonic() + 2
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)  # the background sleep died with its group


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("user", ["root", "svc.user_1"])
def test_ssh_argv_shape(user: str) -> None:
    from preflight.access import SshAccess, parse_host_spec

    acc = SshAccess(parse_host_spec(f"ssh://{user}@host2.example.com:2222"), AccessOptions(ssh_config="/cfg"))
    try:
        argv = acc.ssh_argv("-O", "exit")
        assert argv[-2:] == ["--", "host2.example.com"]
        assert argv[argv.index("-l") + 1] == user and argv[argv.index("-p") + 1] == "2222"
        wrapper = Path(acc.libvirt_ssh_command())
        assert wrapper.parent == Path(acc.private_dir) and wrapper.stat().st_mode & 0o777 == 0o700
        assert Path(acc.private_dir).stat().st_mode & 0o777 == 0o700
        assert wrapper.read_text().rstrip().endswith('-o ControlMaster=no "$@"')
    finally:
        acc.close()
    assert not Path(acc.private_dir).exists()
