"""Run the gather script on this machine (testinfra's local backend)."""

from __future__ import annotations

from collections.abc import Sequence

from testinfra.backend.local import LocalBackend

from preflight.access.base import AccessOptions, CommandResult, HostAccess, TimedRunMixin, decode, sh_command


class _Backend(TimedRunMixin, LocalBackend):
    pass


class LocalAccess(HostAccess):
    kind = "local"

    def __init__(self, options: AccessOptions | None = None) -> None:
        self.options = options or AccessOptions()
        self._backend = _Backend()
        self._backend._encoding = "utf-8"  # testinfra would otherwise run python to ask
        self.connections_opened = 0
        self.commands_run = 0

    def run_script(self, script: str, timeout: float, args: Sequence[str] = ()) -> CommandResult:
        self._backend.run_timeout = timeout
        self.commands_run += 1
        out = self._backend.run(sh_command(script, args, self.options.sudo))
        return CommandResult(out.rc, decode(out.stdout_bytes), decode(out.stderr_bytes))
