"""Issue 11 item 5: Ctrl-C during a fleet run leaves no ssh master nor temporary file behind and prints
what was judged so far (exit 130).

A real sshd of this test forces every session to hang, so one host's gather is certainly in flight
(its master up, libvirt's session hanging) when SIGINT arrives; two image-root hosts in another
group have been judged by then.
"""

from __future__ import annotations

import json
import os
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

TOP = Path(preflight.__file__).resolve().parent.parent


@pytest.fixture
def hanging_sshd(tmp_path: Path) -> Iterator[tuple[Sshd, Path]]:
    work = tmp_path / "work"
    work.mkdir()
    hang = work / "hang"
    hang.write_text(f"#!/bin/sh\necho $$ >> '{work}/pids'\nexec sleep 60\n")
    hang.chmod(0o755)
    (tmp_path / "sshd").mkdir()
    with start_sshd(tmp_path / "sshd") as server:
        keys = server.dir / "authorized_keys"
        keys.write_text(f'command="{hang}" ' + keys.read_text())
        try:
            yield server, work
        finally:
            for pid in (work / "pids").read_text().split() if (work / "pids").exists() else []:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="pff-", dir="/tmp"))  # ssh's socket path is limited to 107 bytes
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _ours(tmpdir: Path) -> list[int]:
    """Live processes whose command line names our TMPDIR (an ssh master or session of our preflight)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if str(tmpdir).encode() in (entry / "cmdline").read_bytes() and stat != "Z":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def _wait_for(cond, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return bool(cond())


def test_ctrl_c_closes_masters_and_prints_partial_results(hanging_sshd: tuple[Sshd, Path], short_tmp: Path,
                                                          tmp_path: Path) -> None:
    server, work = hanging_sshd
    examples = TOP / "examples"
    for h in ("host1", "host2"):
        shutil.copytree(examples / h, tmp_path / h)
        with open(tmp_path / h / "etc/hosts", "a") as f:
            f.write("10.0.0.10\thost1.example.com\n10.0.0.20\thost2.example.com\n")
    inv = tmp_path / "hosts.ini"
    inv.write_text(
        "[images]\n"
        f"host1.example.com preflight_root=host1 preflight_libvirt=test://{examples}/host1.xml\n"
        f"host2.example.com preflight_root=host2 preflight_libvirt=test://{examples}/host2.xml\n"
        "[live]\n"
        f"hung.example.com ansible_host=127.0.0.1 ansible_port={server.port} ansible_user=root\n"
        "host3.example.com preflight_root=host1\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "preflight.cli", "fleet", "-i", str(inv), "--format", "json",
         "--ssh-config", str(server.client_config), "--timeout", "20"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=TOP,
        env=dict(os.environ, TMPDIR=str(short_tmp)))
    try:
        assert _wait_for(lambda: (work / "pids").exists(), 20), "the hung host's session never started"
        assert _ours(short_tmp), "an ssh master should be up"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
        assert proc.returncode == 130, err
        assert _wait_for(lambda: not _ours(short_tmp), 2), "an ssh process outlived preflight"
        assert list(short_tmp.iterdir()) == [], "a temporary file or directory was left behind"
        assert "interrupted" in err
        data = json.loads(out)
        assert data["interrupted"] is True and data["verdict"] == "unknown"
        assert data["hosts"]["hung.example.com"]["status"] == "interrupted"
        assert data["hosts"]["host1.example.com"]["status"] == "gathered"
        verdicts = {(p["source"], p["destination"]): p for p in data["pairs"]}
        assert verdicts[("host1.example.com", "host2.example.com")]["verdict"] == "ready"  # judged before Ctrl-C
        cut = verdicts[("hung.example.com", "host3.example.com")]
        assert cut["verdict"] == "unknown" and cut["reason"].startswith("not judged: hung.example.com")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in _ours(short_tmp):
            os.kill(pid, signal.SIGKILL)
