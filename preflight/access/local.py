"""Run the gather script on this machine: our own argv, no shell string."""

from __future__ import annotations

from collections.abc import Sequence

from preflight.access.base import AccessOptions, CommandResult, HostAccess, decode, sh_argv
from preflight.access.run import run_argv


class LocalAccess(HostAccess):
    kind = "local"

    def __init__(self, options: AccessOptions | None = None) -> None:
        self.options = options or AccessOptions()
        self.connections_opened = 0
        self.commands_run = 0

    def run_script(self, script: str, timeout: float, args: Sequence[str] = ()) -> CommandResult:
        self.commands_run += 1
        out = run_argv(sh_argv(script, args, self.options.sudo), timeout)
        return CommandResult(out.rc, decode(out.stdout), decode(out.stderr))
