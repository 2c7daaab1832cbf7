"""STO001 disk-shared-on-source — every guest disk is on shared storage on the source.

What it checks
    Unless ``--copy-storage-all`` is planned, each writable disk of each
    guest is a network disk (RBD, Gluster, iSCSI ...) or a file on a
    filesystem libvirt treats as shared: NFS, CIFS/SMB, GlusterFS
    (``fuse.glusterfs``), CephFS, GFS2, OCFS2, GPFS, BeeGFS, Lustre.

Why it breaks a migration
    libvirt refuses with ``Unsafe migration: Migration without shared
    storage is unsafe``. With ``--unsafe`` it goes ahead and the
    destination opens whatever file has that path there: a missing file
    fails, a *different* file "succeeds" and the guest runs on the wrong
    disk (silent corruption, measured).

How to fix it
    Put the disk on shared storage mounted at the same path on both hosts,
    or migrate with ``--copy-storage-all`` (non-shared storage migration).
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed, skipped
from preflight.rules._disks import label, planned_disks
from preflight.view.storage import filesystem_of, shared

ID = "STO001"
NAME = "disk-shared-on-source"
SEVERITY = Severity.ERROR
NEEDS = ("libvirt", "mounts", "path_stat")  # view facts read (preflight.view.needs)
SEED = "The example assumes shared storage fully configured and all migration requirements met."

SRC = Scope.SOURCE
FIX = ("Move the disk to shared storage mounted at the same path on both hosts (NFS, GlusterFS, CephFS, "
       "GFS2, OCFS2), or plan --copy-storage-all")


def check(ctx: Context) -> Iterator[Outcome]:
    if ctx.plan.copies_storage:
        yield skipped(SRC, "--copy-storage-all copies the disks: shared storage is not needed")
        return
    conn = ctx.source.libvirt_reason()
    if not conn.ok:
        yield not_seen(SRC, "guest disks", conn)
        return
    unsafe = " (--unsafe only hides this: the destination would open whatever file has that path)" \
        if ctx.plan.unsafe else ""
    for guest, disk in planned_disks(ctx):
        what = label(guest, disk)
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
                         f"refuses with 'Unsafe migration'{unsafe}", FIX, subject=what,
                         evidence={"fstype": mount.fstype, "mount": mount.mount_point, "device": mount.source})
