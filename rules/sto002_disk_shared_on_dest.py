"""STO002 disk-shared-on-dest — each disk path exists on the destination, on shared storage.

What it checks
    Unless ``--copy-storage-all``, every file disk of the planned guests
    exists at the same path on the destination and that path is on a
    shared filesystem there too (see STO001 for the list).

Why it breaks a migration
    The destination's QEMU opens the disk by path: a missing file fails the
    migration (``Could not open ...: No such file or directory``); a local
    file at that path is not the guest's disk.

How to fix it
    Mount the same shared storage at the same path on the destination
    (e.g. the same NFS export on /var/lib/libvirt/images).
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed, skipped
from preflight.rules._disks import label, planned_disks
from preflight.view.storage import filesystem_of, shared

ID = "STO002"
NAME = "disk-shared-on-dest"
SEVERITY = Severity.ERROR
NEEDS = ("libvirt", "mounts", "path_stat")  # view facts read (preflight.view.needs)
SEED = "The example assumes shared storage fully configured (the same storage on both hosts)."

DST = Scope.DESTINATION
FIX = "Mount the source's shared storage at the same path on the destination"


def check(ctx: Context) -> Iterator[Outcome]:
    if ctx.plan.copies_storage:
        yield skipped(DST, "--copy-storage-all creates the disks on the destination")
        return
    if ctx.source.libvirt is None:
        yield not_seen(DST, "guest disks", ctx.source.libvirt_reason())
        return
    for guest, disk in planned_disks(ctx):
        what = label(guest, disk)
        if disk.type not in ("file", "block"):
            continue
        path = disk.source or ""
        if ctx.dest.path_missing(path):
            yield failed(DST, f"{what}: {path} does not exist on the destination", FIX, subject=what)
            continue
        fs = filesystem_of(ctx.dest, path)
        if not fs.ok:
            yield not_seen(DST, f"{what} on the destination", fs, subject=what)
            continue
        mount = fs.get()
        if shared(mount):
            yield passed(DST, f"{what} exists on {mount.fstype} at {mount.mount_point}", subject=what)
        else:
            yield failed(DST, f"{what} exists on the destination but on {mount.fstype} at {mount.mount_point}, "
                         "which is not shared: it is a different, local file", FIX, subject=what,
                         evidence={"fstype": mount.fstype, "mount": mount.mount_point})
