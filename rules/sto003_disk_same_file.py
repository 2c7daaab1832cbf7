"""STO003 disk-same-file — source and destination see the same file at each disk path.

What it checks
    For each file disk present on both hosts: the size, modification and
    change times and a SHA-256 of the first 64 KiB agree. (Inode numbers
    are not compared: FUSE and some NFS setups renumber them per client.)

Why it breaks a migration
    With ``--unsafe``, or a misconfigured mount, the destination opens a
    different file that happens to have the same path. The migration
    "succeeds" and the guest continues on the wrong disk: silent
    corruption, measured in the lab. This is never allowed to pass.

How to fix it
    Make both hosts mount the same export at that path; do not copy disk
    images by hand between hosts that are meant to share them.
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed, skipped
from preflight.rules._disks import label, planned_disks

ID = "STO003"
NAME = "disk-same-file"
SEVERITY = Severity.ERROR
NEEDS = ("libvirt", "path_stat")  # view facts read (preflight.view.needs)
SEED = "Shared storage: both hosts use the same disk (beyond the RHEL guide: --unsafe measured to corrupt)."

PAIR = Scope.PAIR


def check(ctx: Context) -> Iterator[Outcome]:
    if ctx.plan.copies_storage:
        flag = "--copy-storage-inc" if ctx.plan.copy_storage_inc else "--copy-storage-all"
        yield skipped(PAIR, f"{flag} copies the disks")
        return
    for guest, disk in planned_disks(ctx):
        if disk.type != "file":
            continue
        what, path = label(guest, disk), disk.source or ""
        if ctx.dest.path_missing(path):
            continue  # STO002 reports it
        s, d = ctx.source.path_stat(path), ctx.dest.path_stat(path)
        if not s.ok or not d.ok:
            yield not_seen(PAIR, f"{what}: identity", s if not s.ok else d, subject=what)
            continue
        a, b = s.get(), d.get()
        keys = ("size", "mtime", "ctime", "head_sha256")
        diff = {k: (getattr(a, k), getattr(b, k)) for k in keys if getattr(a, k) != getattr(b, k)}
        if diff:
            shown = "; ".join(f"{k}: {x} vs {y}" for k, (x, y) in diff.items())
            yield failed(PAIR, f"{what}: the destination has a DIFFERENT file at {path} ({shown}); with --unsafe "
                         "the guest would run on the wrong disk", "Mount the same shared storage at that path on "
                         "both hosts; remove the stray copy on the destination", subject=what,
                         evidence={"differences": {k: list(v) for k, v in diff.items()}})
        else:
            yield passed(PAIR, f"{what}: same file on both hosts (size, times, first 64 KiB agree)", subject=what)
