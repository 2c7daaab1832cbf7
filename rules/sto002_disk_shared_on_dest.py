"""STO002 disk-shared-on-dest — each disk path exists on the destination, on shared storage.

What it checks
    Every file or block disk of the planned guests exists at the same path
    on the destination, and a writable one is on a shared filesystem there
    too (see STO001 for the list); a read-only disk (an ISO) may be a local
    copy. With ``--copy-storage-all``/``--copy-storage-inc`` only the disks
    the copy leaves out are judged (read-only and ``<shareable/>`` ones);
    STO004 judges where the copied ones land.

Why it breaks a migration
    The destination's QEMU opens the disk by path: a missing file fails the
    migration (``Cannot access storage file '...': No such file or
    directory``, measured for a read-only ISO with ``--copy-storage-all``);
    a local file at that path is not the guest's disk.

How to fix it
    Mount the same shared storage at the same path on the destination
    (e.g. the same NFS export on /var/lib/libvirt/images).
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed, skipped
from preflight.rules._disks import label
from preflight.view.copies import copied, guest_disks
from preflight.view.storage import filesystem_of, shared

ID = "STO002"
NAME = "disk-shared-on-dest"
SEVERITY = Severity.ERROR
NEEDS = ("libvirt", "mounts", "path_stat")  # view facts read (preflight.view.needs)
SEED = "The example assumes shared storage fully configured (the same storage on both hosts)."

DST = Scope.DESTINATION
FIX = "Mount the source's shared storage at the same path on the destination"
RO_FIX = "Put the same file (e.g. the ISO) at that path on the destination, or eject it from the guest first"


def check(ctx: Context) -> Iterator[Outcome]:
    copying = ctx.plan.copies_storage
    if ctx.source.libvirt is None:
        yield not_seen(DST, "guest disks", ctx.source.libvirt_reason())
        return
    judged = 0
    for guest, disk in guest_disks(ctx.source.libvirt, ctx.guests):
        what = label(guest, disk)
        if disk.type not in ("file", "block") or (copying and copied(disk)):
            continue  # a copied disk's target: STO004
        judged += 1
        path = disk.source or ""
        if ctx.dest.path_missing(path):
            kind = "read-only disk, never copied: " if disk.readonly and copying else ""
            yield failed(DST, f"{what}: {kind}{path} does not exist on the destination (libvirt: 'Cannot access "
                         "storage file')", RO_FIX if disk.readonly else FIX, subject=what)
            continue
        if disk.readonly:
            yield passed(DST, f"{what} exists on the destination (read-only: a local copy will do)", subject=what)
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
    if copying and not judged:
        flag = "--copy-storage-inc" if ctx.plan.copy_storage_inc else "--copy-storage-all"
        yield skipped(DST, f"{flag} copies every disk (STO004 judges where the copies land)")
