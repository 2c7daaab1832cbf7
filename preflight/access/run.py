"""Run one argv (never a shell string) with a deadline; the whole process group dies on timeout."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from preflight.access import cleanup

TIMEOUT_RC = 124  # what coreutils `timeout` uses; the gatherer reports it as a timeout


@dataclass
class RawResult:
    rc: int
    stdout: bytes
    stderr: bytes


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    # only while the child is unreaped: after that its group id could belong to someone else
    if proc.returncode is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run_argv(argv: Sequence[str], timeout: float | None) -> RawResult:
    """``argv`` with stdin from /dev/null, output captured, killed with its children after ``timeout``.

    It runs in a session of its own, so a timeout (or our own exit on a signal: it is
    registered for cleanup while it runs) kills the whole group, not just the first process.
    """
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    key = cleanup.register(lambda: _kill_group(proc))
    try:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            out, err = proc.communicate()
            err = (err.rstrip(b"\n") + b"\n" if err else b"") + f"timed out after {timeout:g} s".encode()
            return RawResult(TIMEOUT_RC, out, err)
        return RawResult(proc.returncode, out, err)
    finally:
        cleanup.unregister(key)
