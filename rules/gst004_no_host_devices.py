"""GST004 no-host-devices — the guest has no host device that stops its migration.

What it checks
    Each planned guest's live XML (from the source's libvirt) for
    ``<hostdev>`` and ``<interface type='hostdev'>`` (SR-IOV VFs), each
    named in the finding (``hostdev pci 0000:01:00.0``):

    * PCI (VFIO), mdev, ``scsi_host`` (vhost-scsi) and
      ``mode='capabilities'`` devices: error. A PCI device or VF with
      ``<teaming type='transient'>`` passes: QEMU unplugs it during the
      migration (virtio-net failover).
    * USB devices: warning. libvirt migrates them, but the destination's
      QEMU must find the same device (unless ``startupPolicy='optional'``).
    * SCSI (``type='scsi'``): warning from libvirt 8.6 on (QEMU judges it;
      the destination must reach the same LUN), error before.

    An ``--offline`` migration moves no device state: skipped. No XML: UNKNOWN.

Why it breaks a migration
    QEMU cannot move the state of a device it does not emulate. libvirt
    before 8.6 refuses by itself (``cannot migrate a domain with <hostdev
    mode='subsystem' type='pci'>``, ``... <interface type='hostdev'>``);
    from 8.6 on (libvirt 9.0 here) it asks QEMU, which refuses with
    ``cannot migrate domain: VFIO device doesn't support migration`` unless
    the device's VFIO driver supports migration (QEMU 8.1+ with a
    migration-capable variant driver such as mlx5_vfio_pci).

How to fix it
    Detach the device before migrating (``virsh detach-device GUEST
    HOSTDEV.xml --live``; ``virsh detach-interface GUEST hostdev --mac MAC
    --live`` for a VF) and attach the destination's own device afterwards;
    or use a migratable alternative: virtio-net on a bridge or macvtap, or a
    VF paired with a virtio NIC through ``<teaming type='transient'>``.
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed, skipped
from preflight.view.blockers import hostdev_blockers

ID = "GST004"
NAME = "no-host-devices"
SEVERITY = Severity.ERROR
SEVERITIES = (Severity.ERROR, Severity.WARNING)  # what its findings can carry
NEEDS = ("libvirt",)  # view facts read (preflight.view.needs)
SEED = "Beyond the seed: live migration needs every device emulated (libvirt's qemuMigrationSrcIsAllowedHostdev)."

SRC = Scope.SOURCE


def check(ctx: Context) -> Iterator[Outcome]:
    conn = ctx.source.libvirt_reason()
    if not conn.ok:
        yield not_seen(SRC, "guest devices", conn)
        return
    facts = conn.get()
    for name in ctx.guests:
        guest = facts.guest(name)
        if guest is None:
            continue
        if ctx.plan.offline:
            yield skipped(SRC, f"{name}: an offline migration moves no device state", subject=name)
            continue
        found = hostdev_blockers(guest, facts.lib_version)
        if not found.ok:
            yield not_seen(SRC, f"{name}: host devices", found, subject=name)
            continue
        if not found.get():
            yield passed(SRC, f"guest {name!r} has no host device that stops a migration", subject=name)
        for b in found.get():
            yield failed(SRC, f"{name}: {b.device}: {b.error}", b.remedy, subject=name,
                         severity=Severity.WARNING if b.warning else None,
                         evidence={"device": b.device, "libvirt_error": b.error,
                                   "libvirt_version": facts.lib_version})
