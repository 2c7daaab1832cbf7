"""Progress while hosts are gathered: per host connecting, gathering, done or failed, with the elapsed time.

A hung host can take the whole --timeout before anything is printed; on a terminal
the user sees which host is being waited for. The gatherer reports events through
:func:`event` (a no-op unless the CLI installed a listener), so the gather code
knows nothing of terminals. Only stderr, only when it is a terminal and --quiet
is off: a pipe or a file never gets a progress byte.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from typing import TextIO

from preflight.textsafe import escape_control

Listener = Callable[[str, str, str, str], None]  # role, host spec, state, detail
_listener: Listener | None = None
TICK_S = 0.25  # redraw period of the live line


def event(role: str, spec: str, state: str, detail: str = "") -> None:
    """The gatherer's report; never raises (progress must not break a gather)."""
    listener = _listener
    if listener is None:
        return
    try:
        listener(role, spec, state, detail)
    except Exception:  # noqa: BLE001 - a display error is not the user's problem
        pass


def set_listener(listener: Listener | None) -> None:
    global _listener
    _listener = listener


class TerminalProgress:
    """One live line on a terminal (redrawn in place), and a kept line when a host is done or failed."""

    FINAL = ("done", "failed")

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.lock = threading.Lock()
        self.hosts: dict[str, tuple[str, str, float]] = {}  # role -> (spec, state, started)
        self.stop = threading.Event()
        self.ticker = threading.Thread(target=self._tick, name="progress", daemon=True)
        self.drawn = False

    def __enter__(self) -> TerminalProgress:
        set_listener(self)
        self.ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        set_listener(None)
        self.stop.set()
        self.ticker.join(1.0)
        with self.lock:
            self._clear()
            self.stream.flush()

    def __call__(self, role: str, spec: str, state: str, detail: str = "") -> None:
        now = time.monotonic()
        with self.lock:
            started = self.hosts.get(role, (spec, state, now))[2]
            self.hosts[role] = (spec, state, started)
            if state in self.FINAL:
                self._clear()
                why = f": {detail}" if detail else ""
                self._write(f"preflight: {role} {spec}: {state} in {now - started:.1f} s{why}\n")
            self._draw()

    def _tick(self) -> None:
        while not self.stop.wait(TICK_S):
            with self.lock:
                self._draw()

    def _write(self, text: str) -> None:
        self.stream.write(escape_control(text, keep_newlines=True))
        self.stream.flush()

    def _clear(self) -> None:
        if self.drawn:
            self.stream.write("\r\033[K")
            self.drawn = False

    def _draw(self) -> None:
        now = time.monotonic()
        busy = [f"{role} {spec}: {state} {now - started:.1f} s"
                for role, (spec, state, started) in self.hosts.items() if state not in self.FINAL]
        self._clear()
        if busy:
            width = shutil.get_terminal_size((80, 24)).columns - 1  # a wrapped line could not be redrawn
            self.stream.write(escape_control("preflight: " + " | ".join(busy), keep_newlines=False)[:width])
            self.drawn = True
        self.stream.flush()
