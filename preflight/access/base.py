"""The project's own host-access interface; backends live beside it.

Gathering only ever needs "run this one sh script there", so the interface is
that and nothing more: transports stay swappable and testable.
"""

from __future__ import annotations

import shlex
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from preflight.access.run import TIMEOUT_RC  # noqa: F401 - re-exported: callers know it from here


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
    """The transport itself failed; ``reason`` is the transport's own words (ssh's stderr line).

    ``cause``: ssh's failure classified (preflight.access.ssh_errors.SshCause's value), "" when
    the transport is not ssh or never ran.
    """

    def __init__(self, reason: str, cause: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.cause = cause


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


def sh_argv(script: str, args: Sequence[str], sudo: bool) -> list[str]:
    """The argv that runs ``script`` with ``args`` as $1..$n; names and paths stay data.

    The script travels as an argument (`sh -c`), not on stdin, so commands inside it can never
    read the rest of the script as their input.
    """
    words = ["sh", "-c", script, "preflight-gather", *args]
    return ["sudo", "-n", *words] if sudo else words


def sh_command(script: str, args: Sequence[str], sudo: bool) -> str:
    """sh_argv as one quoted command line, for ssh (which hands the remote shell a single string)."""
    return shlex.join(sh_argv(script, args, sudo))


def decode(data: bytes) -> str:
    # Config files may hold stray Latin-1 bytes: never fail the whole host over one of them, and keep
    # each as a surrogate escape so `fix` writes it back byte for byte (output escapes it for display).
    return data.decode("utf-8", errors="surrogateescape")
