"""NET003 distinct-host-uuids — the two hosts have different libvirt host UUIDs.

What it checks
    The host UUID libvirt reports on each side (capabilities ``host/uuid``;
    in image mode ``host_uuid`` from the daemon config: libvirtd.conf, or
    virtqemud.conf on a modular host, the first judged daemon's file that
    sets it) differ.

Why it breaks a migration
    libvirt decides "same host" by UUID alone, not by hostname: cloned hosts
    with the same SMBIOS UUID, or ``host_uuid_source = "machine-id"`` on
    clones with the same /etc/machine-id, fail with ``Attempt to migrate
    guest to the same host <uuid>``.

How to fix it
    Set a distinct ``host_uuid`` in libvirtd.conf (virtqemud.conf on a
    modular host; ``uuidgen``) on one host,
    or regenerate /etc/machine-id on clones, then restart the daemon.
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed

ID = "NET003"
NAME = "distinct-host-uuids"
SEVERITY = Severity.ERROR
NEEDS = ("host_uuid",)  # view facts read (preflight.view.needs)
SEED = "Migration moves a guest to another host (measured: libvirt compares host UUIDs only)."


def check(ctx: Context) -> Iterator[Outcome]:
    src, dst = ctx.source.host_uuid, ctx.dest.host_uuid
    for fact, role in ((src, "source"), (dst, "destination")):
        if not fact.ok:
            yield not_seen(Scope.PAIR, f"{role} host UUID", fact)
            return
    if src.get().lower() == dst.get().lower():
        yield failed(
            Scope.PAIR,
            f"both hosts report host UUID {src.get()} ({src.source}; {dst.source}): libvirt fails with "
            "'Attempt to migrate guest to the same host'",
            f'On the destination set host_uuid = "<output of uuidgen>" in {ctx.dest.daemon_conf_path} '
            "(or regenerate /etc/machine-id on a clone) and restart the daemon",
            evidence={"uuid": src.get()},
        )
    else:
        yield passed(Scope.PAIR, f"host UUIDs differ ({src.get()} / {dst.get()})")
