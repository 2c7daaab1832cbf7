"""STO004 copy-storage-target — with --copy-storage-* the destination can receive every copied disk.

What it checks
    With ``--copy-storage-all`` or ``--copy-storage-inc``, for every disk
    libvirt copies (each writable, non-shareable disk with a source, as
    libvirt's qemuMigrationAnyCopyDisk picks them; a disk on shared storage
    is copied too, in place), on the destination:

    * the disk's path exists there with the same format (qcow2/raw, from
      the image header) and exactly the source's virtual size; or, with
      ``--copy-storage-all`` only, an **active** storage pool has the
      disk's directory as its target path (libvirt pre-creates the volume
      there; only file disks can be pre-created);
    * free space in that directory (``stat -f``, else the pool's
      ``available``), summed over the disks copied there, is at least what
      the copy takes: the full virtual size (plus qcow2 tables) for a
      volume libvirt pre-creates (it preallocates: ``preallocation=falloc``,
      measured), the source's allocation less the existing image's size for
      a qcow2 file that exists (a warning for an existing raw file, whose
      own allocation is not seen); nothing for a file on shared storage;
    * with ``--copy-storage-inc``: the image exists already (nothing is
      pre-created), every file of the backing chain exists, and the image
      names a backing file (qcow2 header).

    Network disks are not pre-created (skipped); pool volumes and the size
    of a block device are not resolved (UNKNOWN).

Why it breaks a migration
    Measured in the lab (libvirt 9.0): nothing at the path and no active
    pool there fails with ``Storage pool not found: no storage pool with
    matching target path '/var/lib/libvirt/images/local'`` (an inactive
    pool too); a pre-created image of another virtual size fails with
    ``Source and target image have different sizes`` (larger or smaller);
    a raw file where the guest has qcow2 fails with ``Image is not in
    qcow2 format``; too little space fails in the pre-creation (``Could
    not preallocate new data: No space left on device``) or in the copy;
    ``--copy-storage-inc`` without the image fails with ``pre-creation of
    storage targets for incremental storage migration is not supported``;
    a backing file missing under it fails with ``Cannot access backing
    file``, and an image without a backing reference "succeeds" with the
    guest running on its top layer alone (its base data gone).

How to fix it
    On the destination, define and start a directory pool on the disk's
    directory (``virsh pool-define-as NAME dir --target DIR``,
    ``virsh pool-start NAME``, ``virsh pool-autostart NAME``), or create
    the image yourself with the guest's format and exact virtual size
    (``qemu-img create -f qcow2 PATH SIZE``). Free space, or move the
    disk's directory to a larger filesystem. For ``--copy-storage-inc``
    copy the backing chain first, then create the top image on it
    (``qemu-img create -f qcow2 -F qcow2 -b BACKING PATH SIZE``).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field

from preflight.known import Known, unknown
from preflight.model.facts import DiskFact
from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed, skipped
from preflight.rules._disks import label, planned_disks
from preflight.view.copies import disk_dir, free_space, image_of, pools_at, precreated_size, size_text
from preflight.view.storage import filesystem_of, shared

ID = "STO004"
NAME = "copy-storage-target"
SEVERITY = Severity.ERROR
SEVERITIES = (Severity.ERROR, Severity.WARNING)  # what its findings can carry
NEEDS = ("libvirt", "mounts", "path_stat")  # path_stat brings the free-space probes of the disks' directories
SEED = "Beyond the RHEL guide: --copy-storage-* needs a target for each copied disk on the destination (measured)."

DST = Scope.DESTINATION
q = shlex.quote  # paths and formats come from hostile guest XML: quoted in every command we suggest
POOL_FIX = ("On the destination, start a storage pool on {d} (virsh pool-define-as NAME dir --target {d}; "
            "virsh pool-start NAME; virsh pool-autostart NAME), or create the image there with the guest's "
            "format and exact virtual size (qemu-img create -f {fmt} {path} {size})")
NO_CAPACITY: Known[int] = unknown("the source disk's capacity is not known (virDomainGetBlockInfo)")
NO_VOLUMES: Known[str] = unknown("pool volumes are not resolved to paths")
NO_BLOCK_SIZE: Known[int] = unknown("a block device's size is not gathered")
INC_FIX = ("On the destination, copy the backing chain to the same paths, then create the top image on it "
           "(qemu-img create -f {fmt} -F FORMAT -b BACKING {path} {size}); or use --copy-storage-all")


@dataclass
class Demand:
    """What the copies into one destination directory take."""

    need: int = 0  # bytes that must be free
    soft: int = 0  # bytes that may be needed (existing raw files whose allocation is not seen)
    pool_available: int | None = None  # the pool's own figure, when its free space probe is missing
    disks: list[str] = field(default_factory=list)


def check(ctx: Context) -> Iterator[Outcome]:
    if not ctx.plan.copies_storage:
        yield skipped(DST, "no --copy-storage-all/--copy-storage-inc: nothing is copied")
        return
    conn = ctx.source.libvirt_reason()
    if not conn.ok:
        yield not_seen(DST, "guest disks", conn)
        return
    demands: dict[str, Demand] = {}
    disks = list(planned_disks(ctx))
    if not disks:
        yield skipped(DST, f"{_flag(ctx)}: no planned guest has a disk to copy")
        return
    for guest, disk in disks:
        yield from _disk(ctx, label(guest, disk), disk, demands)
    yield from _space(ctx, demands)


def _flag(ctx: Context) -> str:
    return "--copy-storage-inc" if ctx.plan.copy_storage_inc else "--copy-storage-all"


def _disk(ctx: Context, what: str, disk: DiskFact, demands: dict[str, Demand]) -> Iterator[Outcome]:
    if disk.type == "network":
        yield skipped(DST, f"{what}: network disk, not pre-created (the destination opens the same volume)",
                      subject=what)
        return
    if disk.type == "volume":
        yield not_seen(DST, f"{what}: storage pool volume", NO_VOLUMES, subject=what)
        return
    path = disk.source or ""
    if ctx.dest.path_missing(path):
        yield from _missing(ctx, what, disk, demands)
    else:
        yield from _existing(ctx, what, disk, demands)


def _missing(ctx: Context, what: str, disk: DiskFact, demands: dict[str, Demand]) -> Iterator[Outcome]:
    path, fmt = disk.source or "", disk.format or "raw"
    d = disk_dir(path)
    size = str(disk.capacity) if disk.capacity is not None else "SIZE"
    if ctx.plan.copy_storage_inc:
        yield failed(DST, f"{what}: {path} does not exist on the destination and --copy-storage-inc pre-creates "
                     "nothing: libvirt fails with 'pre-creation of storage targets for incremental storage "
                     "migration is not supported'", INC_FIX.format(fmt=q(fmt), path=q(path), size=size), subject=what)
        return
    if disk.type != "file":
        yield failed(DST, f"{what}: {path} does not exist on the destination and libvirt cannot pre-create a "
                     f"{disk.type} disk ('cannot precreate storage for disk type')",
                     f"Create {path} on the destination (the same size as on the source)", subject=what)
        return
    pools = pools_at(ctx.dest, d)
    if not pools.ok:
        yield not_seen(DST, f"{what}: a storage pool for {d}", pools, subject=what)
        return
    active = [p for p in pools.get() if p.active]
    if not active:
        idle = ", ".join(p.name for p in pools.get())
        why = f" (pool {idle} has that target but is not active)" if idle else ""
        yield failed(DST, f"{what}: {path} does not exist on the destination and no active storage pool has the "
                     f"target path {d}{why}: libvirt fails with 'Storage pool not found: no storage pool with "
                     f"matching target path '{d}''", POOL_FIX.format(d=q(d), fmt=q(fmt), path=q(path), size=size),
                     subject=what, evidence={"directory": d, "inactive_pools": [p.name for p in pools.get()]})
        return
    pool = active[0]
    if disk.capacity is None or disk.capacity < 0:  # below zero: a crafted snapshot, not a size
        yield not_seen(DST, f"{what}: the size of the volume pool {pool.name} would pre-create", NO_CAPACITY,
                       subject=what)
        return
    dem = demands.setdefault(d, Demand())
    dem.need += precreated_size(disk.capacity, disk.format)
    dem.pool_available = pool.available
    dem.disks.append(what)
    yield passed(DST, f"{what}: libvirt pre-creates {path} in the active storage pool {pool.name} ({pool.type}) "
                 f"at {d}", subject=what, evidence={"pool": pool.name, "directory": d})


def _existing(ctx: Context, what: str, disk: DiskFact, demands: dict[str, Demand]) -> Iterator[Outcome]:
    path, want = disk.source or "", disk.format or "raw"
    stat = ctx.dest.path_stat(path)
    if not stat.ok:
        yield not_seen(DST, f"{what} on the destination", stat, subject=what)
        return
    if disk.type == "block":
        yield not_seen(DST, f"{what}: the size of block device {path} on the destination", NO_BLOCK_SIZE, subject=what)
        return
    if disk.type != "file":
        yield passed(DST, f"{what}: {path} exists on the destination", subject=what)
        return
    image = image_of(stat.get())
    if not image.ok:
        yield not_seen(DST, f"{what}: the image on the destination", image, subject=what)
        return
    img = image.get()
    if want not in ("qcow2", "raw"):
        yield not_seen(DST, f"{what}: the format of {path}", unknown(f"only qcow2 and raw are told apart ({want})"),
                       subject=what)
        return
    if img.format != want:
        yield failed(DST, f"{what}: {path} on the destination is {img.format}, the guest's disk is {want}: "
                     f"QEMU refuses it (e.g. 'Image is not in qcow2 format')",
                     f"Recreate it on the destination as {want} (qemu-img create -f {want} {q(path)} "
                     f"{disk.capacity or 'SIZE'}), or remove it and start a storage pool on {disk_dir(path)}",
                     subject=what, evidence={"destination_format": img.format, "format": want})
        return
    if disk.capacity is None or disk.capacity < 0:
        yield not_seen(DST, f"{what}: virtual size", NO_CAPACITY, subject=what)
        return
    if img.virtual_size != disk.capacity:
        yield failed(DST, f"{what}: {path} on the destination has a virtual size of {img.virtual_size} bytes, "
                     f"the source's {disk.capacity}: the copy fails with 'Source and target image have different "
                     "sizes'", f"Resize it on the destination to exactly {disk.capacity} bytes "
                     f"(qemu-img resize {q(path)} {disk.capacity}), or recreate it", subject=what,
                     evidence={"destination_size": img.virtual_size, "capacity": disk.capacity})
        return
    if ctx.plan.copy_storage_inc:
        broken = list(_chain(ctx, what, disk, img.has_backing))
        yield from broken
        if broken:
            return
    _demand(ctx, disk, stat.get().size, img.format, demands)
    chain = f", on its backing chain ({len(disk.backing)} file(s))" if ctx.plan.copy_storage_inc and disk.backing \
        else ""
    yield passed(DST, f"{what}: {path} exists on the destination ({img.format}, {disk.capacity} bytes){chain}: "
                 f"{_flag(ctx)} copies into it", subject=what)


def _chain(ctx: Context, what: str, disk: DiskFact, has_backing: bool | None) -> Iterator[Outcome]:
    """--copy-storage-inc copies the top image only: the rest of the chain must be there already."""
    path, fmt = disk.source or "", disk.format or "raw"
    size = disk.capacity or "SIZE"
    for base in disk.backing:
        if not base.startswith("/"):
            continue  # a network backing store: the destination reaches the same one
        if ctx.dest.path_missing(base):
            yield failed(DST, f"{what}: backing file {base} does not exist on the destination: --copy-storage-inc "
                         "copies the top image only; libvirt fails with 'Cannot access backing file'",
                         INC_FIX.format(fmt=q(fmt), path=q(path), size=size), subject=what, evidence={"missing": base})
            return
        seen = ctx.dest.path_stat(base)
        if not seen.ok:
            yield not_seen(DST, f"{what}: backing file {base} on the destination", seen, subject=what)
            return
    if disk.backing and has_backing is False:
        yield failed(DST, f"{what}: {path} on the destination names no backing file, but the source's image sits on "
                     f"{disk.backing[0]}: --copy-storage-inc copies the top layer only, so the guest would run "
                     "without its base data (the migration 'succeeds', measured)",
                     INC_FIX.format(fmt=q(fmt), path=q(path), size=size), subject=what)


def _demand(ctx: Context, disk: DiskFact, dest_size: int, fmt: str, demands: dict[str, Demand]) -> None:
    """Space an existing image still needs: none on shared storage (written in place)."""
    path = disk.source or ""
    src_fs, dst_fs = filesystem_of(ctx.source, path), filesystem_of(ctx.dest, path)
    if src_fs.ok and dst_fs.ok and shared(src_fs.get()) and shared(dst_fs.get()):
        return
    dem = demands.setdefault(disk_dir(path), Demand())
    dem.disks.append(label_of(disk))
    # a negative allocation is a crafted snapshot's: take the capacity, as when it is not known
    alloc = disk.allocation if disk.allocation is not None and disk.allocation >= 0 else max(disk.capacity or 0, 0)
    if fmt == "qcow2":
        dem.need += max(0, alloc - dest_size)  # a qcow2 file's size is what it holds
    else:
        dem.soft += alloc  # a raw file's size is its virtual size, whatever it holds


def label_of(disk: DiskFact) -> str:
    return f"{disk.target} ({disk.source})"


def _space(ctx: Context, demands: dict[str, Demand]) -> Iterator[Outcome]:
    for d, dem in demands.items():
        if not dem.need and not dem.soft:
            continue
        free = free_space(ctx.dest, d)
        if not free.ok and dem.pool_available is not None:
            avail, source = dem.pool_available, "the pool's available"
        elif not free.ok:
            yield not_seen(DST, f"free space in {d}", free, subject=d)
            continue
        else:
            avail, source = free.get(), free.source
        ev = {"directory": d, "free": avail, "needed": dem.need, "maybe_needed": dem.soft, "disks": dem.disks}
        need_s, avail_s = size_text(dem.need), size_text(avail)
        fix = f"Free space in {d} on the destination, or put the disks' directory on a larger filesystem"
        if avail < dem.need:
            yield failed(DST, f"{d} on the destination has {avail_s} free ({source}), the copies of "
                         f"{', '.join(dem.disks)} take {need_s}: the copy fails with 'No space left on device'",
                         fix, subject=d, evidence=ev)
        elif avail < dem.need + dem.soft:
            yield failed(DST, f"{d} on the destination has {avail_s} free ({source}); the copies may write up to "
                         f"{size_text(dem.need + dem.soft)} (an existing raw file's own allocation is not seen: "
                         "fine if it is preallocated)", fix, subject=d, evidence=ev, severity=Severity.WARNING)
        else:
            yield passed(DST, f"{d} on the destination has {avail_s} free ({source}), the copies take "
                         f"{need_s}", subject=d, evidence=ev)
