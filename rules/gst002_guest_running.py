"""GST002 guest-running — a guest to migrate with virsh migrate is running.

What it checks
    Each planned guest is running (or paused) on the source, unless the plan
    is an ``--offline`` migration.

Why it breaks a migration
    ``virsh migrate`` moves only running guests: a shut-off guest fails with
    ``Requested operation is not valid: domain is not running``.

How to fix it
    Start the guest first, or move its definition as the RHEL guide shows::

        virsh dumpxml GUEST > GUEST.xml
        virsh -c qemu+ssh://DEST/system define GUEST.xml
        virsh undefine GUEST

    (or ``virsh migrate --offline --persistent GUEST DESTURI``).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator

from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed, skipped

ID = "GST002"
NAME = "guest-running"
SEVERITY = Severity.ERROR
NEEDS = ("libvirt",)  # view facts read (preflight.view.needs)
SEED = "Only a running guest can be migrated with virsh migrate; a stopped one: dumpxml / define / undefine."

SRC = Scope.SOURCE
MIGRATABLE = ("running", "paused")


def check(ctx: Context) -> Iterator[Outcome]:
    conn = ctx.source.libvirt_reason()
    if not conn.ok:
        yield not_seen(SRC, "guest state", conn)
        return
    for name in ctx.guests:
        guest = conn.get().guest(name)
        if guest is None:
            yield skipped(SRC, f"guest {name!r} does not exist (GST001)", subject=name)
        elif ctx.plan.offline:
            yield passed(SRC, f"guest {name!r} is {guest.state}; --offline moves its definition only", subject=name)
        elif guest.state in MIGRATABLE:
            yield passed(SRC, f"guest {name!r} is {guest.state}", subject=name)
        else:
            # the name comes from a hostile host: one shell word in the commands we suggest
            dest, word, xml = ctx.plan.dest_uri, shlex.quote(name), shlex.quote(f"{name}.xml")
            yield failed(
                SRC,
                f"guest {name!r} is {guest.state}: virsh migrate fails with 'domain is not running'",
                f"Start it (virsh start {word}), or move its definition: virsh dumpxml {word} > {xml}; "
                f"virsh -c {dest} define {xml}; virsh undefine {word}  (or virsh migrate --offline "
                f"--persistent {word} {dest})",
                subject=name,
                evidence={"state": guest.state},
            )
