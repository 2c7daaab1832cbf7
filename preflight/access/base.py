"""The project's own host-access interface; backends live beside it.

Gathering only ever needs "run this one sh script there", so the interface is
that and nothing more: transports stay swappable and testable.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from testinfra.backend import base as tbase

TIMEOUT_RC = 124  # what coreutils `timeout` uses; the gatherer reports it as a timeout


@dataclass
class CommandResult:
    rc: int
    stdout: str
    stderr: str


@dataclass
class AccessOptions:
    """How to reach hosts; mirrors the CLI's --timeout, --sudo, --ssh-config."""

    timeout: float = 10.0  # ssh ConnectTimeout, and the bound of each phase
    sudo: bool = False  # run the script with `sudo -n` (never prompts)
    ssh_config: str | None = None  # passed as `ssh -F FILE`
    strict_host_key_checking: str = "yes"  # host-key verification on unless the caller says otherwise
    control_persist: int = 30  # seconds an idle master stays up if we die before `ssh -O exit`


class HostUnreachable(Exception):
    """The transport itself failed; ``reason`` is the transport's own words (ssh's stderr line)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class HostAccess(ABC):
    """Run one sh script on a host. Counters feed the snapshot's benchmark fields."""

    kind: str = ""
    connections_opened: int = 0
    commands_run: int = 0

    def open(self) -> None:  # noqa: B027 - optional hook; only transports with a connection override it
        """Establish the connection (no-op where there is none); raises HostUnreachable."""

    @abstractmethod
    def run_script(self, script: str, timeout: float, args: Sequence[str] = ()) -> CommandResult:
        """Run ``script`` with POSIX sh, ``args`` as $1..$n; raises HostUnreachable if the transport fails."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the connection."""

    def __enter__(self) -> HostAccess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def sh_command(script: str, args: Sequence[str], sudo: bool) -> str:
    """The one shell command line that runs ``script``; everything quoted, so paths and names stay data.

    The script travels as an argument (`sh -c`), not on stdin, so commands inside it can never
    read the rest of the script as their input.
    """
    words = ["sh", "-c", script, "preflight-gather", *args]
    if sudo:
        words = ["sudo", "-n", *words]
    return shlex.join(words)


def decode(data: bytes) -> str:
    # Config files may hold stray Latin-1 bytes; never fail the whole host over one of them.
    return data.decode("utf-8", errors="replace")


class TimedRunMixin(tbase.BaseBackend):
    """testinfra's run_local has no timeout and inherits our stdin; this one has both fixed."""

    run_timeout: float | None = None

    def run_local(self, command: str, *args: str) -> tbase.CommandResult:
        cmd = self.quote(command, *args).encode("utf-8", errors="surrogateescape")
        proc = subprocess.Popen(
            cmd,
            shell=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # so a timeout kills the whole group, not just the shell
        )
        try:
            out, err = proc.communicate(timeout=self.run_timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            err = (
                err.rstrip(b"\n") + b"\n" if err else b""
            ) + f"timed out after {self.run_timeout:g} s".encode()
            return self.result(TIMEOUT_RC, cmd, out, err)
        return self.result(proc.returncode, cmd, out, err)
