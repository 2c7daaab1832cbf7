"""Which guest disks need shared storage, and where they live (pure helpers)."""

from __future__ import annotations

from collections.abc import Iterator

from preflight.model.facts import DiskFact
from preflight.rulekit import Context


def planned_disks(ctx: Context) -> Iterator[tuple[str, DiskFact]]:
    """(guest, disk) for every disk libvirt's safety check looks at.

    Like libvirt, read-only, shareable and source-less disks are left out:
    nothing is written to them, so nothing can diverge.
    """
    lv = ctx.source.libvirt
    if lv is None:
        return
    for name in ctx.guests:
        guest = lv.guest(name)
        if guest is None:
            continue
        for disk in guest.disks:
            if disk.readonly or disk.shareable or not disk.source:
                continue
            yield name, disk


def label(guest: str, disk: DiskFact) -> str:
    return f"{guest}:{disk.target} ({disk.source})"
