"""A guest's states that libvirt refuses to migrate and that its XML does not show: snapshots and
running block jobs. Both calls are allowed on a read-only connection (measured, libvirt 9.0).

libvirt 9.0 refuses a migration to another host while the guest has any snapshot ("cannot migrate
domain with 1 snapshots") or any active block job ("domain has active block job").
"""

from __future__ import annotations

from typing import Any

import libvirt

from preflight.model.facts import GuestFact

# virDomainBlockJobType
_JOB_TYPES = {
    libvirt.VIR_DOMAIN_BLOCK_JOB_TYPE_PULL: "pull",
    libvirt.VIR_DOMAIN_BLOCK_JOB_TYPE_COPY: "copy",
    libvirt.VIR_DOMAIN_BLOCK_JOB_TYPE_COMMIT: "commit",
    libvirt.VIR_DOMAIN_BLOCK_JOB_TYPE_ACTIVE_COMMIT: "active-commit",
}
_MAX_DISKS = 256  # a crafted XML could list thousands of disks: one call each


def _message(exc: Exception) -> str:
    if isinstance(exc, libvirt.libvirtError):
        return exc.get_error_message() or str(exc)
    return str(exc) or type(exc).__name__


def guest_jobs(dom: Any, guest: GuestFact, errors: dict[str, str]) -> None:
    """Fill ``guest.snapshots`` and ``guest.block_jobs``; a failed call leaves its field None and its
    message in ``errors`` (``guest:NAME:snapshots``, ``guest:NAME:blockjobs``)."""
    try:
        guest.snapshots = int(dom.snapshotNum(0))
    except Exception as exc:  # libvirtError; a driver without snapshots
        errors[f"guest:{guest.name}:snapshots"] = _message(exc)
    if guest.state not in ("running", "paused"):
        guest.block_jobs = []  # block jobs run only in a running QEMU
        return
    jobs: list[str] = []
    for disk in guest.disks[:_MAX_DISKS]:
        if not disk.target:
            continue
        try:
            info = dom.blockJobInfo(disk.target, 0)
        except Exception as exc:
            errors[f"guest:{guest.name}:blockjobs"] = f"{disk.target}: {_message(exc)}"
            return
        if info:  # {} when the disk has no job
            kind = _JOB_TYPES.get(int(info.get("type", 0)), f"type {info.get('type')}")
            jobs.append(f"{disk.target}: {kind}")
    guest.block_jobs = jobs
