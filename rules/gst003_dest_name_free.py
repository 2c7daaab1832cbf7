"""GST003 dest-name-free — the destination has no other guest of the same name.

What it checks
    For each planned guest, the destination's libvirt has no domain with the
    same name and a different UUID, and no running copy of it.

Why it breaks a migration
    libvirt refuses: ``domain 'g1' already exists with uuid ...`` (another
    guest with that name), or ``domain is already active`` (it runs there).
    An inactive definition with the same UUID is fine: libvirt reuses it.

How to fix it
    Rename or undefine the conflicting guest on the destination
    (``virsh -c DESTURI undefine NAME`` after checking what it is).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator

from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed

ID = "GST003"
NAME = "dest-name-free"
SEVERITY = Severity.ERROR
NEEDS = ("libvirt",)  # view facts read (preflight.view.needs)
SEED = "After: `virsh list` on the destination shows the guest running (beyond the RHEL guide: measured conflict)."

DST = Scope.DESTINATION


def check(ctx: Context) -> Iterator[Outcome]:
    src, dst = ctx.source.libvirt_reason(), ctx.dest.libvirt_reason()
    if not dst.ok:
        yield not_seen(DST, "guests on the destination", dst)
        return
    for name in ctx.guests:
        there = dst.get().guest(name)
        mine = src.get().guest(name) if src.ok else None
        if there is None:
            yield passed(DST, f"no guest named {name!r} on the destination", subject=name)
        elif mine is not None and there.uuid != mine.uuid:
            yield failed(DST, f"the destination already has a guest {name!r} with another UUID ({there.uuid}): "
                         f"libvirt fails with \"domain '{name}' already exists with uuid\"",
                         f"Inspect it (virsh -c {ctx.plan.dest_uri} dumpxml {shlex.quote(name)}), then rename or "
                         "undefine it",
                         subject=name, evidence={"dest_uuid": there.uuid, "source_uuid": mine.uuid})
        elif there.state in ("running", "paused"):
            yield failed(DST, f"guest {name!r} is already {there.state} on the destination",
                         "Find out which copy is the real one before migrating; never run both",
                         subject=name, evidence={"state": there.state})
        else:
            yield passed(DST, f"the destination has an inactive definition of {name!r} with the same UUID "
                         "(libvirt reuses it)", subject=name)
