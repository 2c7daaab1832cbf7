"""Gather every host of the fleet once, ``forks`` steps at a time, one ssh master per host.

A host's gather is the pair pipeline's steps (preflight.gather.pair's host gather), ordered by
what each needs from its peers instead of by a pair:

A. connect, then libvirt facts (the guests, their disks and emulators; libvirt's hostname);
B. the host's one script run, once A is done for the host and every peer it shares a group with:
   its own guests' disks plus the disks of every guest its peers would send it, the emulators those
   guests need, and every name its own migrations would resolve (DESTURIs, the peers' libvirt names);
C. names only a destination's script revealed (qemu.conf migration_host; rare), then the master
   is closed.

Ready steps run C before B before A (a host's master is not kept waiting while new hosts connect).
Cancelling (Ctrl-C) runs no new step; the steps in flight end when their ssh masters are closed.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import queue
import sys
import threading
import time
import traceback
from collections.abc import Callable

from preflight.fleet.hosts import FleetHost
from preflight.fleet.pairs import Pair, PlanFlags, plan_for
from preflight.gather.pair import _Host
from preflight.gather.plan import destination_names, guest_disk_paths, guest_emulators
from preflight.model.facts import HostSnapshot
from preflight.model.plan import MigrationPlan
from preflight.textsafe import escape_control

WAIT_AFTER_CANCEL_S = 5.0  # steps in flight get this long to end once their masters are closed

Listener = Callable[["FleetGather"], None]


class _Steps:
    """A small DAG runner: a step runs once the steps it depends on ended; ``workers`` threads."""

    def __init__(self, workers: int, cancel: threading.Event) -> None:
        self.workers = workers
        self.cancel = cancel
        self.ready: queue.PriorityQueue[tuple[int, int, str]] = queue.PriorityQueue()
        self.lock = threading.Lock()
        self.fns: dict[str, tuple[int, Callable[[], None]]] = {}
        self.waiting: dict[str, int] = {}
        self.dependants: dict[str, list[str]] = {}
        self.left = 0
        self.finished = threading.Event()
        self.seq = itertools.count()

    def add(self, name: str, priority: int, fn: Callable[[], None], after: list[str]) -> None:
        self.fns[name] = (priority, fn)
        self.waiting[name] = len(after)
        for dep in after:
            self.dependants.setdefault(dep, []).append(name)
        self.left += 1

    def run(self) -> bool:
        """Run every step; False when cancelled before they all ended."""
        if not self.fns:
            return True
        for name, n in self.waiting.items():
            if n == 0:
                self.ready.put((self.fns[name][0], next(self.seq), name))
        threads = [threading.Thread(target=self._worker, name=f"fleet-{i}", daemon=True)
                   for i in range(self.workers)]
        for t in threads:
            t.start()
        while not self.finished.wait(0.1):
            if self.cancel.is_set():
                break
        if self.cancel.is_set():
            self.finished.wait(WAIT_AFTER_CANCEL_S)
        for _ in threads:
            self.ready.put((-1, -1, ""))  # ahead of everything: stop
        return not self.cancel.is_set()

    def _worker(self) -> None:
        while True:
            _, _, name = self.ready.get()
            if not name:
                return
            if not self.cancel.is_set():
                try:
                    self.fns[name][1]()
                except Exception:  # noqa: BLE001 - a step's own code records what failed; never stall the DAG
                    if os.environ.get("PREFLIGHT_DEBUG"):  # frames and lines only, host text escaped
                        sys.stderr.write(escape_control(traceback.format_exc()))
            with self.lock:
                self.left -= 1
                for dep in self.dependants.get(name, []):
                    self.waiting[dep] -= 1
                    if self.waiting[dep] == 0:
                        self.ready.put((self.fns[dep][0], next(self.seq), dep))
                if self.left == 0:
                    self.finished.set()


class FleetGather:
    """Gathers ``hosts``; ``snapshots`` holds each host whose gather ended (reachable or not)."""

    def __init__(self, hosts: dict[str, FleetHost], pairs: list[Pair], flags: PlanFlags, forks: int,
                 cancel: threading.Event | None = None, listener: Listener | None = None) -> None:
        self.hosts = hosts
        self.flags = flags
        self.forks = max(1, forks)
        self.cancel = cancel or threading.Event()
        self.listener = listener
        self.senders: dict[str, list[str]] = {h: [] for h in hosts}
        self.dests: dict[str, list[str]] = {h: [] for h in hosts}
        for s, d in pairs:
            self.senders[d].append(s)
            self.dests[s].append(d)
        self.gathers: dict[str, _Host] = {}
        self.after_a: dict[str, HostSnapshot] = {}  # frozen copies: peers read them while the host goes on
        self.after_b: dict[str, HostSnapshot] = {}
        self.asked: dict[str, list[str]] = {}
        self.snapshots: dict[str, HostSnapshot] = {}
        self.state: dict[str, str] = {h: "queued" for h in hosts}  # queued, running, done, failed
        self.started = time.monotonic()
        self.lock = threading.Lock()
        self.finished = False
        self.ended_before_cancel: set[str] = set()  # hosts judged after a Ctrl-C: those that ended before it

    # --- bookkeeping --------------------------------------------------------------------------
    def _set(self, name: str, state: str) -> None:
        with self.lock:
            self.state[name] = state
        if self.listener is not None:
            try:
                self.listener(self)
            except Exception:  # noqa: BLE001 - a display error must not stop the gather
                pass

    def mark_cancelled(self) -> None:
        with self.lock:
            self.ended_before_cancel = set(self.snapshots)

    def counts(self) -> dict[str, int]:
        with self.lock:
            states = list(self.state.values())
        return {s: states.count(s) for s in ("queued", "running", "done", "failed")}

    @staticmethod
    def _frozen(snap: HostSnapshot) -> HostSnapshot:
        return dataclasses.replace(snap, probes=dict(snap.probes))

    def _plan(self, source: str, dest: str) -> MigrationPlan:
        return plan_for(self.hosts[dest].dest_uri, self.after_a.get(source), self.flags)

    # --- the steps ----------------------------------------------------------------------------
    def _a(self, name: str) -> None:
        fh = self.hosts[name]
        self._set(name, "running")
        host = _Host(fh.spec, "source", fh.libvirt, fh.options)
        self.gathers[name] = host
        host.connect()
        host.gather_libvirt()
        self.after_a[name] = self._frozen(host.snap)

    def _b(self, name: str) -> None:
        host = self.gathers[name]
        names: list[str] = []
        for d in self.dests[name]:
            if d in self.after_a:
                names += destination_names(self._plan(name, d), self.after_a[d], names)
        every = dataclasses.replace(self._plan(name, name), guests=[], all_running=True)
        paths = guest_disk_paths(host.snap.libvirt, every)
        emulators: list[str] = []
        for s in (s for s in self.senders[name] if s in self.after_a):
            theirs = dataclasses.replace(self._plan(s, name), guests=[], all_running=True)
            paths += guest_disk_paths(self.after_a[s].libvirt, theirs)
            emulators += guest_emulators(self.after_a[s].libvirt, theirs)
        self.asked[name] = names
        host.gather(names, list(dict.fromkeys(paths)), emulators=list(dict.fromkeys(emulators)))
        self.after_b[name] = self._frozen(host.snap)

    def _c(self, name: str) -> None:
        host = self.gathers.get(name)
        if host is None:  # step A raised (a bug): the host is reported, never judged as seen
            fh = self.hosts[name]
            host = _Host(fh.spec, "source", fh.libvirt, fh.options)
            host.unreachable("internal error while connecting (PREFLIGHT_DEBUG=1 shows more)")
        try:
            asked = list(self.asked.get(name, []))
            learned: list[str] = []
            for d in self.dests[name]:
                if d in self.after_b:
                    learned += destination_names(self._plan(name, d), self.after_b[d], asked + learned)
            if learned:
                host.gather(learned, (), names_only=True)
        finally:
            snap = host.finish()
            hint = self.hosts[name].unreachable_hint()
            if hint and not snap.reachable:  # a bastion or key the inventory set and preflight ignored: say so
                snap.unreachable_reason = (snap.unreachable_reason or "unreachable") + hint
            with self.lock:
                self.snapshots[name] = snap
            self._set(name, "done" if snap.reachable else "failed")

    def run(self) -> bool:
        """Gather every host; False when cancelled (``snapshots`` then holds the hosts that ended)."""
        steps = _Steps(self.forks, self.cancel)
        for name in self.hosts:
            peers = set(self.dests[name]) | set(self.senders[name])
            steps.add(f"A {name}", 2, lambda n=name: self._a(n), [])  # type: ignore[misc]
            steps.add(f"B {name}", 1, lambda n=name: self._b(n),  # type: ignore[misc]
                      [f"A {p}" for p in sorted(peers | {name})])
            steps.add(f"C {name}", 0, lambda n=name: self._c(n),  # type: ignore[misc]
                      [f"B {p}" for p in sorted(set(self.dests[name]) | {name})])
        complete = steps.run()
        self.finished = True
        return complete and len(self.snapshots) == len(self.hosts)
