"""Run the CLI with stdout and/or stderr on a pseudo-terminal (what a user at a terminal sees)."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]


@dataclass
class Run:
    returncode: int
    tty: str  # what reached the terminal
    stdout: str  # stdout when it was a pipe ("" when it was the terminal)
    stderr: str  # stderr when it was a pipe


def run(*args: str, stdout_tty: bool = True, stderr_tty: bool = True, columns: int = 80,
        env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 60) -> Run:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    full_env = {"PATH": "/usr/sbin:/usr/bin:/bin", "TERM": "xterm", **(env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "preflight.cli", *args], cwd=cwd or TOP, env=full_env,
                            stdin=subprocess.DEVNULL,
                            stdout=slave if stdout_tty else subprocess.PIPE,
                            stderr=slave if stderr_tty else subprocess.PIPE)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every copy of the slave is closed
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
    os.close(master)
    return Run(proc.returncode, b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n"),
               (out or b"").decode("utf-8", "replace"), (err or b"").decode("utf-8", "replace"))
