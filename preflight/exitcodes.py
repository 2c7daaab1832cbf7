"""The command line's exit codes, in a module of their own: the CLI names them before (and without)
importing the rule engine."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    READY = 0
    NOT_READY = 1
    USAGE = 2
    COULD_NOT_INSPECT = 3
    INTERNAL = 4  # a bug in preflight (one line on stderr; PREFLIGHT_DEBUG=1 for the traceback)
