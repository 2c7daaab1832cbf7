"""What must not outlive us: ssh masters, their private directories, running command groups.

Each resource registers an action that releases it; `close_all` runs them (newest first)
on a normal exit and, through the handlers `install_signal_handlers` sets, on SIGTERM,
SIGHUP and SIGINT, which otherwise would leave an ssh master up for ControlPersist seconds
and its temporary directory forever.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)

_lock = threading.RLock()  # re-entrant: a signal may arrive while the main thread holds it
_actions: dict[int, Callable[[], None]] = {}
_next_key = 0


def register(action: Callable[[], None]) -> int:
    """Run ``action`` at exit or on a signal, unless unregistered first; returns its key."""
    global _next_key
    with _lock:
        _next_key += 1
        _actions[_next_key] = action
        return _next_key


def unregister(key: int) -> None:
    with _lock:
        _actions.pop(key, None)


def pending() -> int:
    with _lock:
        return len(_actions)


def close_all() -> None:
    """Run every registered action once, newest first (commands before their master); never raises."""
    with _lock:
        actions = [_actions.pop(k) for k in sorted(_actions, reverse=True)]
    for action in actions:
        try:
            action()
        except Exception:  # cleanup goes on: one failure must not keep the others alive
            pass


def exit_code(signum: int) -> int:
    """128 + N, what a shell reports for a process killed by signal N (143 SIGTERM, 130 SIGINT)."""
    return 128 + signum


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    for sig in SIGNALS:  # a second Ctrl-C must not cut the cleanup short
        signal.signal(sig, signal.SIG_IGN)
    close_all()
    try:
        sys.stderr.write(f"preflight: stopped by {signal.Signals(signum).name}; ssh connections closed\n")
        sys.stderr.flush()
    except Exception:  # stderr may be closed or mid-write; the exit code says it anyway
        pass
    os._exit(exit_code(signum))


def install_signal_handlers() -> None:
    """From the main thread: SIGTERM/SIGHUP/SIGINT release everything registered, then exit 128+N."""
    for sig in SIGNALS:
        signal.signal(sig, _on_signal)
