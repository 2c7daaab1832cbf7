"""The source and every destination gathered once, in parallel, with the fleet's gather
(preflight.fleet.run): one ssh master per host; the source's script resolves every DESTURI name,
each destination's examines the source's guests' disks and emulators. A host given as saved facts
(--source-facts, --dest-facts) is not gathered; the gathered hosts then know only each other."""

from __future__ import annotations

import contextlib
import sys
import threading

from preflight.fleet.hosts import FleetHost
from preflight.fleet.pairs import PlanFlags
from preflight.fleet.progress import FleetProgress
from preflight.fleet.run import FleetGather
from preflight.model.facts import HostSnapshot

GATHER_THREADS = 8  # steps at once: a host's connect, libvirt and script are steps


def gather(source: FleetHost, dests: list[FleetHost], flags: PlanFlags,
           loaded: dict[str, HostSnapshot], progress: bool = False) -> dict[str, HostSnapshot]:
    """Snapshots by host name (source, dest1, ...); ``loaded``: the hosts read from saved facts;
    ``progress``: hosts done / failed / in flight on stderr (a terminal)."""
    hosts = {h.name: h for h in [source, *dests] if h.name not in loaded}
    pairs = [(source.name, d.name) for d in dests if source.name in hosts and d.name in hosts]
    got: dict[str, HostSnapshot] = {}
    if hosts:
        shown = FleetProgress(sys.stderr) if progress else None
        run = FleetGather(hosts, pairs, flags, max(2, min(GATHER_THREADS, 2 * len(hosts))), threading.Event(),
                          shown)
        threading.Thread(target=_warm_up, name="warm-up", daemon=True).start()
        with shown if shown is not None else contextlib.nullcontext():
            run.run()
        got = dict(run.snapshots)
    return {**got, **loaded}


def _warm_up() -> None:
    """While the hosts answer: import the rules and compile the Augeas lenses (as `check` does)."""
    from preflight.inspect import _prepare_judging

    _prepare_judging()
