"""Which hosts are paired, and the plan each ordered pair is judged with.

Every ordered pair of distinct hosts that share a pairing group: by default every group but
``all`` (``ungrouped`` counts as one), or only the groups named with ``--group`` (``--group all``
pairs every host with every other).
"""

from __future__ import annotations

from dataclasses import dataclass

from preflight.fleet.inventory import ALL, Inventory
from preflight.model.facts import HostSnapshot
from preflight.model.plan import MigrationPlan

Pair = tuple[str, str]


@dataclass(frozen=True)
class PlanFlags:
    """What every pair's `virsh migrate` would be run with (the same for the whole fleet)."""

    live: bool = True
    p2p: bool = False
    tunnelled: bool = False
    concurrency: int | None = None  # None: every running guest of the source at once


def pairing_groups(inv: Inventory, chosen: list[str] | None) -> list[str]:
    if chosen:
        return list(dict.fromkeys(chosen))
    return [g for g in inv.groups if g != ALL]


def ordered_pairs(inv: Inventory, hosts: list[str], groups: list[str]) -> dict[Pair, list[str]]:
    """(source, destination) -> the groups that pair them, in inventory order."""
    wanted = set(hosts)
    out: dict[Pair, list[str]] = {}
    for g in groups:
        members = [h for h in inv.group_hosts(g) if h in wanted]
        for s in members:
            for d in members:
                if s != d:
                    out.setdefault((s, d), []).append(g)
    order = {h: i for i, h in enumerate(hosts)}
    return dict(sorted(out.items(), key=lambda kv: (order[kv[0][0]], order[kv[0][1]])))


def running_guests(snap: HostSnapshot | None) -> list[str] | None:
    """The source's running guests; None when its libvirt could not say."""
    if snap is None or snap.libvirt is None or not snap.libvirt.ok:
        return None
    return [g.name for g in snap.libvirt.guests if g.state == "running"]


def plan_for(dest_uri: str, source: HostSnapshot | None, flags: PlanFlags) -> MigrationPlan:
    """Every running guest of the source, named (so the default concurrency is their number); when the
    source's guests could not be listed, --all-running, which the rules judge UNKNOWN."""
    guests = running_guests(source)
    return MigrationPlan(guests=guests or [], dest_uri=dest_uri, live=flags.live, p2p=flags.p2p,
                         tunnelled=flags.tunnelled, all_running=guests is None, concurrency=flags.concurrency)
