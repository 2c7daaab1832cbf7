"""OS001 same-os-release — both hosts run the same distribution and major release.

What it checks
    /etc/os-release (else /etc/redhat-release) on both hosts: the same
    distribution ID and major version. A destination on an older minor
    release is a warning; a newer minor release passes (RHEL supports
    migrating forward within a major release, not backward).

Why it breaks a migration
    The RHEL guide requires the same RHEL version on both hosts. libvirt itself
    does not read os-release (measured), but a different major release
    brings other QEMU machine types and device models, and backward
    migration is unsupported: failures show up as guest ABI errors or as
    a guest that cannot migrate back.

How to fix it
    Upgrade the older host to the same release before the maintenance
    window, or choose a destination on the same release.
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.known import Known
from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed

ID = "OS001"
NAME = "same-os-release"
SEVERITY = Severity.ERROR
SEVERITIES = (Severity.ERROR, Severity.WARNING)  # what its findings can carry
NEEDS = ("os_release",)  # view facts read (preflight.view.needs)
SEED = "The destination must run the same version of Red Hat Enterprise Linux."

PAIR = Scope.PAIR


def check(ctx: Context) -> Iterator[Outcome]:
    src, dst = ctx.source.os_release, ctx.dest.os_release
    for fact, role in ((src, "source"), (dst, "destination")):
        if not fact.ok:
            yield not_seen(PAIR, f"{role} OS release", fact)
            return
    s, d = src.get(), dst.get()
    ev = {"source": f"{s.id} {s.version_id}", "destination": f"{d.id} {d.version_id}"}
    src_name = s.pretty_name or f"{s.id} {s.version_id}"
    dst_name = d.pretty_name or f"{d.id} {d.version_id}"
    desc = f"source {src_name}, destination {dst_name}"
    upgrade = "Upgrade the older host so both run the same release, or pick a destination on the source's release"
    if (s.id or "").lower() != (d.id or "").lower():
        yield failed(PAIR, f"different distributions: {desc}", upgrade, evidence=ev, file="/etc/os-release")
    elif s.major is None or d.major is None:
        yield not_seen(PAIR, "OS major release", Known(None, f"no numeric VERSION_ID ({desc})"))
    elif s.major != d.major:
        yield failed(PAIR, f"different major releases: {desc}", upgrade, evidence=ev, file="/etc/os-release")
    elif (d.minor or 0) < (s.minor or 0):
        yield failed(PAIR, f"destination is on an older minor release ({desc}): backward migration is not "
                     "supported", upgrade, evidence=ev, severity=Severity.WARNING, file="/etc/os-release")
    else:
        yield passed(PAIR, f"same release line: {desc}", evidence=ev)
