"""GST005 machine-type-on-dest — the destination's QEMU offers each guest's machine type.

What it checks
    The machine type in each planned guest's XML (``<type machine=...>``,
    e.g. ``pc-q35-rhel9.2.0``) is among the machine types the
    destination's hypervisor lists in its capabilities (aliases and their
    canonical names).

Why it breaks a migration
    The destination starts QEMU with the same machine type so the guest
    sees the same hardware; an older QEMU, or another distribution's build,
    lacks newer or vendor machine types and the incoming QEMU fails to
    start (``unsupported machine type``).

How to fix it
    Migrate to a destination with the same or newer QEMU from the same
    vendor, or (planned downtime) change the guest to a machine type both
    hosts offer.
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.known import Known
from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed, skipped

ID = "GST005"
NAME = "machine-type-on-dest"
SEVERITY = Severity.ERROR
NEEDS = ("libvirt",)  # view facts read (preflight.view.needs)
SEED = "The destination must use the same hypervisor (beyond the RHEL guide: machine types it offers)."

DST = Scope.DESTINATION


def check(ctx: Context) -> Iterator[Outcome]:
    src = ctx.source.libvirt
    if src is None:
        yield not_seen(DST, "guest machine types", ctx.source.libvirt_reason())
        return
    if ctx.dest.libvirt_is_test_driver:
        yield skipped(DST, "the libvirt test driver does not model machine types")
        return
    dest = ctx.dest.libvirt_reason()
    offered: Known[list[str]] = dest.map(lambda lv: lv.machine_types, "capabilities list no machine types")
    for name in ctx.guests:
        guest = src.guest(name)
        if guest is None or not guest.machine:
            continue
        if not offered.ok:
            yield not_seen(DST, f"{name}: machine type {guest.machine}", offered, subject=name)
        elif guest.machine in offered.get():
            yield passed(DST, f"{name}: machine type {guest.machine} is offered by the destination", subject=name)
        else:
            same_family = [m for m in offered.get() if m.split("-")[:2] == guest.machine.split("-")[:2]]
            yield failed(DST, f"{name}: the destination's QEMU does not offer machine type {guest.machine}"
                         + (f" (it has {', '.join(same_family[-3:])})" if same_family else ""),
                         "Choose a destination with the same or newer QEMU from the same vendor, or change the "
                         "guest's machine type (planned downtime) to one both hosts offer",
                         subject=name, evidence={"machine": guest.machine, "offered": offered.get()})
