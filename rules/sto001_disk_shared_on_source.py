"""STO001 disk-shared-on-source — every guest disk is on shared storage on the source.

What it checks
    Each writable disk of each guest (shareable ones too) is a network
    disk (RBD, Gluster, iSCSI ...) or a file on a filesystem libvirt
    treats as shared: NFS, CIFS/SMB, GlusterFS (``fuse.glusterfs``),
    CephFS, GFS2, OCFS2, GPFS, BeeGFS, Lustre. With
    ``--copy-storage-all``/``--copy-storage-inc`` only the disks the copy
    leaves out are judged: ``<shareable/>`` ones (libvirt's
    qemuMigrationSrcIsSafe; measured: a shareable disk in a local
    directory fails with ``--copy-storage-all`` too).

Why it breaks a migration
    libvirt refuses with ``Unsafe migration: Migration without shared
    storage is unsafe``. With ``--unsafe`` it goes ahead and the
    destination opens whatever file has that path there: a missing file
    fails, a *different* file "succeeds" and the guest runs on the wrong
    disk (silent corruption, measured).

How to fix it
    Put the disk on shared storage mounted at the same path on both hosts,
    or migrate with ``--copy-storage-all`` (non-shared storage migration;
    not for a shareable disk, which is never copied).
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed, skipped
from preflight.rules._disks import label
from preflight.view.copies import guest_disks, safety_checked
from preflight.view.storage import filesystem_of, shared

ID = "STO001"
NAME = "disk-shared-on-source"
SEVERITY = Severity.ERROR
NEEDS = ("libvirt", "mounts", "path_stat")  # view facts read (preflight.view.needs)
SEED = "The example assumes shared storage fully configured and all migration requirements met."

SRC = Scope.SOURCE
FIX = ("Move the disk to shared storage mounted at the same path on both hosts (NFS, GlusterFS, CephFS, "
       "GFS2, OCFS2), or plan --copy-storage-all")
FIX_SHAREABLE = ("Move the shareable disk to shared storage mounted at the same path on both hosts (the copy never "
                 "takes a shareable disk), or detach it before migrating")


def check(ctx: Context) -> Iterator[Outcome]:
    copying = ctx.plan.copies_storage
    conn = ctx.source.libvirt_reason()
    if not conn.ok:
        yield not_seen(SRC, "guest disks", conn)
        return
    disks = [(g, d) for g, d in guest_disks(ctx.source.libvirt, ctx.guests) if safety_checked(d, copying)]
    if copying and not disks:
        flag = "--copy-storage-inc" if ctx.plan.copy_storage_inc else "--copy-storage-all"
        yield skipped(SRC, f"{flag} copies the disks: shared storage is not needed")
        return
    unsafe = " (--unsafe only hides this: the destination would open whatever file has that path)" \
        if ctx.plan.unsafe else ""
    for guest, disk in disks:
        what = label(guest, disk) + (" (shareable: never copied)" if copying else "")
        if disk.type == "network":
            yield passed(SRC, f"{what} is a network disk", subject=what)
            continue
        if disk.type == "volume":
            yield not_seen(SRC, f"{what}: storage pool volume", ctx.source.mounts.map(
                lambda _: None, "pool volumes are not resolved to paths"), subject=what)
            continue
        fs = filesystem_of(ctx.source, disk.source or "")
        if not fs.ok:
            yield not_seen(SRC, f"{what}: filesystem", fs, subject=what)
            continue
        mount = fs.get()
        if shared(mount):
            yield passed(SRC, f"{what} is on {mount.fstype} at {mount.mount_point}", subject=what,
                         evidence={"fstype": mount.fstype, "mount": mount.mount_point})
        else:
            yield failed(SRC, f"{what} is on {mount.fstype} at {mount.mount_point}, which is not shared: libvirt "
                         f"refuses with 'Unsafe migration'{unsafe}", FIX_SHAREABLE if copying else FIX, subject=what,
                         evidence={"fstype": mount.fstype, "mount": mount.mount_point, "device": mount.source})
