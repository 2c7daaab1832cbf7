"""A fleet run's live line on a terminal: hosts done / failed / in flight / queued, elapsed time.

Only on stderr, only when it is a terminal and --quiet is off (the CLI decides). A host that
fails gets a kept line with the reason, so a long run shows failures as they happen.
"""

from __future__ import annotations

import shutil
import threading
import time
from typing import TextIO

from preflight.fleet.run import FleetGather
from preflight.textsafe import escape_control

TICK_S = 0.25


class FleetProgress:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.lock = threading.Lock()
        self.gather: FleetGather | None = None
        self.reported: set[str] = set()
        self.stop = threading.Event()
        self.ticker = threading.Thread(target=self._tick, name="fleet-progress", daemon=True)
        self.drawn = False

    def __enter__(self) -> FleetProgress:
        self.ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.ticker.join(1.0)
        with self.lock:
            self._clear()
            self.stream.flush()

    def __call__(self, gather: FleetGather) -> None:
        """FleetGather's listener: a host changed state."""
        with self.lock:
            self.gather = gather
            for name, state in list(gather.state.items()):
                if state == "failed" and name not in self.reported:
                    self.reported.add(name)
                    snap = gather.snapshots.get(name)
                    why = snap.unreachable_reason if snap is not None else ""
                    self._clear()
                    self.stream.write(escape_control(f"preflight: {name}: failed: {why}\n", keep_newlines=True))
            self._draw()

    def line(self) -> str:
        gather = self.gather
        if gather is None:
            return ""
        c = gather.counts()
        return (f"preflight: fleet: {c['done']}/{len(gather.hosts)} hosts done, {c['failed']} failed, "
                f"{c['running']} in flight, {c['queued']} queued, {time.monotonic() - gather.started:.1f} s")

    def _tick(self) -> None:
        while not self.stop.wait(TICK_S):
            with self.lock:
                self._draw()

    def _clear(self) -> None:
        if self.drawn:
            self.stream.write("\r\033[K")
            self.drawn = False

    def _draw(self) -> None:
        text = self.line()
        self._clear()
        if text:
            width = shutil.get_terminal_size((80, 24)).columns - 1
            self.stream.write(escape_control(text, keep_newlines=False)[:width])
            self.drawn = True
        self.stream.flush()
