"""GST010 migration-blockers — the guest has no state or device libvirt refuses to migrate.

What it checks
    libvirt's own migration check (qemuMigrationSrcIsAllowed, libvirt 9.0)
    against each planned guest, host devices apart (GST004):

    * snapshots: any (libvirt's snapshot count, read-only ``snapshotNum``);
    * active block jobs: a copy, commit or pull on any disk
      (``virDomainGetBlockJobInfo`` per disk, read-only);
    * ``<shmem>`` devices without ``role='master'``, and the legacy
      ``ivshmem`` model;
    * the ``invtsc`` CPU feature without a TSC frequency
      (``<clock><timer name='tsc' frequency=.../>``); host-passthrough with
      ``migratable='off'`` is a warning (blocked when the host has invtsc);
    * virtiofs ``<filesystem>``, ``<interface type='vdpa'>``, disks with
      ``<transient/>``, memory DIMMs without an address.

    Each finding names the device, the error text the migration fails with
    and the remedy. An ``--offline`` migration checks only snapshots (as
    libvirt does). No XML, or facts that could not be gathered: UNKNOWN.

Why it breaks a migration
    libvirt refuses before anything moves: ``cannot migrate domain with 1
    snapshots``, ``domain has active block job``, ``cannot migrate domain:
    Migration is disabled when using feature 'peer mode' in device
    'ivshmem'`` (QEMU's blocker, which libvirt 8.6+ asks for; older libvirt:
    ``shmem device 'NAME' cannot be migrated, only shmem with role='master'
    can be migrated``), ``domain has 'invtsc' CPU feature but TSC frequency
    is not specified``, ``migration with virtiofs device is not supported``,
    ``vDPA devices cannot be migrated``, ``migration with transient disk is
    not supported``. Snapshots, block jobs and shmem are measured in the lab
    (libvirt 9.0, QEMU 7.2); the others are read from libvirt's code.

How to fix it
    Snapshots: keep their XML (``virsh snapshot-dumpxml``), drop libvirt's
    metadata (``virsh snapshot-delete GUEST SNAP --metadata``), migrate,
    redefine them on the destination (``virsh snapshot-create GUEST
    SNAP.xml --redefine``). Block jobs: let them finish or ``virsh blockjob
    GUEST DISK --abort`` (``--pivot`` for a ready copy). shmem: ``role='master'``
    or detach it. invtsc: set the TSC frequency or drop the feature. virtiofs,
    vDPA: detach before migrating or migrate offline; transient disks: remove
    ``<transient/>``.
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.known import Known
from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed, skipped
from preflight.view.blockers import Blocker, blockjob_blockers, snapshot_blocker, xml_blockers

ID = "GST010"
NAME = "migration-blockers"
SEVERITY = Severity.ERROR
SEVERITIES = (Severity.ERROR, Severity.WARNING)  # what its findings can carry
NEEDS = ("libvirt",)  # view facts read (preflight.view.needs)
SEED = "Beyond the RHEL guide: libvirt's own migration check (qemuMigrationSrcIsAllowed) refuses these."

SRC = Scope.SOURCE


def check(ctx: Context) -> Iterator[Outcome]:
    conn = ctx.source.libvirt_reason()
    if not conn.ok:
        yield not_seen(SRC, "guest migration blockers", conn)
        return
    facts = conn.get()
    test_driver = ctx.source.libvirt_is_test_driver
    for name in ctx.guests:
        guest = facts.guest(name)
        if guest is None:
            continue
        parts: list[tuple[str, Known[list[Blocker]]]] = [
            ("snapshots", snapshot_blocker(guest, facts.errors.get(f"guest:{name}:snapshots", "")))]
        if not ctx.plan.offline:
            parts.append(("devices", xml_blockers(guest, facts.lib_version)))
            parts.append(("block jobs", blockjob_blockers(guest, facts.errors.get(f"guest:{name}:blockjobs", ""))))
        blockers: list[Blocker] = []
        seen = True
        for what, found in parts:
            if found.ok:
                blockers += found.get()
            elif test_driver and what == "block jobs":  # the test driver models no block jobs
                yield skipped(SRC, f"{name}: block jobs: the libvirt test driver does not model them", subject=name)
            else:
                seen = False
                yield not_seen(SRC, f"{name}: {what}", found, subject=name)
        for b in blockers:
            yield failed(SRC, f"{name}: {b.device}: {b.error}", b.remedy, subject=name,
                         severity=Severity.WARNING if b.warning else None,
                         evidence={"device": b.device, "libvirt_error": b.error,
                                   "libvirt_version": facts.lib_version})
        if seen and not blockers:
            checked = ", ".join(w for w, _ in parts)
            yield passed(SRC, f"guest {name!r}: nothing libvirt refuses to migrate ({checked})", subject=name)
