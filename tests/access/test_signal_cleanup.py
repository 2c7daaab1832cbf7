"""Issue 12, case "SIGTERM during an ssh gather leaves the ssh master running ~30 s and its temp
directory forever": `preflight facts` is stopped mid-gather by a real signal; the master it
started must be gone, and its private directory removed, within a couple of seconds.

The test's own sshd (real, on 127.0.0.1) forces every session to run a script that says it
started and then sleeps: the gather is then certainly in flight, on an established master.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import preflight
from tests.support.sshd_server import Sshd, start_sshd


@pytest.fixture
def hanging_sshd(tmp_path: Path) -> Iterator[tuple[Sshd, Path]]:
    """An sshd of this test whose sessions all run ``hang`` (records its PID, sleeps 60 s)."""
    work = tmp_path / "work"
    work.mkdir()
    hang = work / "hang"
    hang.write_text(f"#!/bin/sh\necho $$ >> '{work}/pids'\nexec sleep 60\n")
    hang.chmod(0o755)
    (tmp_path / "sshd").mkdir()
    with start_sshd(tmp_path / "sshd") as server:
        keys = server.dir / "authorized_keys"
        keys.write_text(f'command="{hang}" ' + keys.read_text())  # sshd rereads it at each login
        try:
            yield server, work
        finally:
            pids = (work / "pids").read_text().split() if (work / "pids").exists() else []
            for pid in pids:  # the sleeps our forced command started
                _kill(int(pid))


@pytest.fixture
def tmpdir_short() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="pft-", dir="/tmp"))  # a socket path has 107 bytes
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper has exited: it counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _wait_for(cond, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return bool(cond())


def _master_pid(socket: Path) -> int:
    out = subprocess.run(["ssh", "-F", "/dev/null", "-o", f"ControlPath={socket}", "-O", "check", "--", "x"],
                         capture_output=True, text=True, timeout=10)
    found = re.search(r"pid=(\d+)", out.stderr)
    assert found, out.stderr
    return int(found.group(1))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signal_mid_gather_closes_master_and_removes_dir(
    hanging_sshd: tuple[Sshd, Path], tmpdir_short: Path, tmp_path: Path, signum: int
) -> None:
    server, work = hanging_sshd
    proc = subprocess.Popen(
        [sys.executable, "-m", "preflight.cli", "facts", server.spec, "-o", str(tmp_path / "facts.json"),
         "--ssh-config", str(server.client_config), "--timeout", "20"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, TMPDIR=str(tmpdir_short)), cwd=Path(preflight.__file__).parent.parent,
    )
    master = 0
    try:
        # mid-gather: the master is up and a session (the script or libvirt's) is running
        assert _wait_for(lambda: (work / "pids").exists(), 20), "no session started"
        sockets = list(tmpdir_short.glob("preflight-ssh-*/master"))
        assert len(sockets) == 1
        private = sockets[0].parent
        master = _master_pid(sockets[0])
        assert _alive(master)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=10)
        assert _wait_for(lambda: not _alive(master), 2), "the ssh master outlived preflight"
        assert _wait_for(lambda: not private.exists(), 2), "the private directory was left behind"
        assert list(tmpdir_short.iterdir()) == []
        # 128+N as a shell reports a death by signal N: never 0 (READY) nor 1 (NOT READY)
        assert proc.returncode == 128 + signum, err
        assert f"stopped by {signal.Signals(signum).name}" in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if master and _alive(master):
            _kill(master)  # the master our preflight started, left by a failing run


PROXY = """import os, socket, sys, threading, time
with open(sys.argv[4], "a") as f:
    f.write(f"{os.getpid()}\\n")
time.sleep(float(sys.argv[3]))  # ssh is still connecting: no master exists yet
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
def pump():
    while data := s.recv(65536):
        os.write(1, data)
threading.Thread(target=pump, daemon=True).start()
while data := os.read(0, 65536):
    s.sendall(data)
"""


def _ours(tmpdir: Path) -> list[int]:
    """PIDs of live processes whose command line names our TMPDIR (started by this test's preflight)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(tmpdir).encode() in (entry / "cmdline").read_bytes() and _alive(int(entry.name)):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def test_sigterm_while_ssh_connects_leaves_no_master(sshd: Sshd, tmpdir_short: Path, tmp_path: Path) -> None:
    """The race a plain `ssh -O exit` misses: the master is still authenticating when we are told to
    stop. Its ssh must be killed then, or it would become a master after we are gone."""
    marker, proxy = tmp_path / "proxy.pids", tmp_path / "proxy.py"
    proxy.write_text(PROXY)
    config = tmp_path / "ssh_config"
    config.write_text(sshd.client_config.read_text()
                      + f"  ProxyCommand {sys.executable} {proxy} 127.0.0.1 %p 2 {marker}\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "preflight.cli", "facts", sshd.spec, "-o", str(tmp_path / "facts.json"),
         "--ssh-config", str(config), "--timeout", "20"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, TMPDIR=str(tmpdir_short)), cwd=Path(preflight.__file__).parent.parent,
    )
    try:
        assert _wait_for(marker.exists, 20), "ssh never started its ProxyCommand"
        assert _ours(tmpdir_short), "the connecting ssh should be running"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
        time.sleep(3)  # past the proxy's delay: a surviving ssh would have authenticated by now
        assert _ours(tmpdir_short) == [], "an ssh outlived preflight"
        assert not any(_alive(int(p)) for p in marker.read_text().split())
        assert list(tmpdir_short.iterdir()) == []
        assert proc.returncode == 128 + signal.SIGTERM, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proxies = [int(p) for p in marker.read_text().split()] if marker.exists() else []
        for pid in _ours(tmpdir_short) + proxies:  # what a failing run left behind
            _kill(pid)
