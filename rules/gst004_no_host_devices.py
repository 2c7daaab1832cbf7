"""GST004 no-host-devices — the guest has no assigned host devices.

What it checks
    Each planned guest's XML has no ``<hostdev>`` (PCI/USB passthrough, SR-IOV
    VFs other than via macvtap).

Why it breaks a migration
    QEMU cannot migrate the state of a device it does not emulate: libvirt
    refuses with ``domain has assigned non-USB host devices`` (or the
    migration is blocked by the device).

How to fix it
    Detach the device before migrating (``virsh detach-device``) and
    re-attach an equivalent one on the destination, or use a migratable
    alternative (virtio-net over a bridge or macvtap).
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed

ID = "GST004"
NAME = "no-host-devices"
SEVERITY = Severity.ERROR
NEEDS = ("libvirt",)  # view facts read (preflight.view.needs)
SEED = "Beyond the seed: live migration needs every device emulated."

SRC = Scope.SOURCE


def check(ctx: Context) -> Iterator[Outcome]:
    conn = ctx.source.libvirt_reason()
    if not conn.ok:
        yield not_seen(SRC, "guest devices", conn)
        return
    for name in ctx.guests:
        guest = conn.get().guest(name)
        if guest is None:
            continue
        if guest.hostdevs:
            yield failed(SRC, f"guest {name!r} has host devices: {', '.join(guest.hostdevs)}",
                         f"Detach them before migrating (virsh detach-device {name} DEV.xml --live)",
                         subject=name, evidence={"hostdevs": guest.hostdevs})
        else:
            yield passed(SRC, f"guest {name!r} has no host devices", subject=name)
