"""What a migration plan asks of the gather: the guests' disk paths, the names to resolve, the sections.

Plan interpretation only; the pipeline that runs it is :mod:`preflight.gather.pair`.
"""

from __future__ import annotations

from collections.abc import Iterable

from preflight.model import probes as P
from preflight.model.facts import HostMode, HostSnapshot, LibvirtFacts
from preflight.model.plan import MigrationPlan
from preflight.view import HostView
from preflight.view.guests import emulator_of, runnable_emulator
from preflight.view.names import names_to_gather
from preflight.view.needs import probe_keys


def guest_disk_paths(facts: LibvirtFacts | None, plan: MigrationPlan) -> list[str]:
    """Local paths of the planned guests' disks (network disks have none); with --copy-storage-inc also
    their backing chains' files, which the destination must already hold (only the top image is copied)."""
    if facts is None or not facts.ok:
        return []
    guests = [g for g in facts.guests if g.state == "running"] if plan.all_running else []
    guests += [g for g in (facts.guest(n) for n in plan.guests) if g is not None]
    disks = [d for g in guests for d in g.disks if d.type in ("file", "block", "dir") and d.source]
    paths = [d.source for d in disks if d.source]
    if plan.copy_storage_inc:
        paths += [b for d in disks for b in d.backing if b.startswith("/")]  # "proto:name": network, no path
    return list(dict.fromkeys(paths))


def guest_emulators(facts: LibvirtFacts | None, plan: MigrationPlan) -> list[str]:
    """The planned guests' ``<emulator>`` paths (from their XML): the destination must have and run each."""
    if facts is None or not facts.ok:
        return []
    guests = [g for g in facts.guests if g.state == "running"] if plan.all_running else []
    guests += [g for g in (facts.guest(n) for n in plan.guests) if g is not None]
    found = (emulator_of(g).value for g in guests)
    return list(dict.fromkeys(e for e in found if e and runnable_emulator(e)))


def wants_emulators(only: Iterable[str] | None) -> bool:
    return only is None or P.EMULATOR_PREFIX in set(only)


def destination_names(plan: MigrationPlan, dest: HostSnapshot | None, asked: Iterable[str] = ()) -> list[str]:
    """Names the source must resolve for this plan, from what is known of the destination so far,
    minus those ``asked`` already (see preflight.view.names)."""
    view = HostView(dest if dest is not None else HostSnapshot(role="destination", spec="", mode=HostMode.SSH))
    done = set(asked)
    return [n for n in names_to_gather(plan, view) if n not in done]



def probes_for(needs: Iterable[str]) -> list[str]:
    """The probe keys (prefixes for per-item ones) behind the selected rules' declared needs."""
    return sorted(probe_keys(needs))


def wants_names(only: Iterable[str] | None) -> bool:
    return only is None or P.GETENT_PREFIX in set(only)


def wants_paths(only: Iterable[str] | None) -> bool:
    return only is None or P.PATH_PREFIX in set(only)
