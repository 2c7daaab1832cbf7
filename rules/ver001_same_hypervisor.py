"""VER001 same-hypervisor — both hosts run the same hypervisor driver.

What it checks
    The hypervisor type libvirt reports on each side (``QEMU`` for KVM).

Why it breaks a migration
    A guest can only migrate between hypervisors of the same kind; the
    RHEL guide asks for the same hypervisor on both hosts.

How to fix it
    Migrate to a host with the same hypervisor (KVM/QEMU to KVM/QEMU).
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed

ID = "VER001"
NAME = "same-hypervisor"
SEVERITY = Severity.ERROR
NEEDS = ("libvirt",)  # view facts read (preflight.view.needs)
SEED = "The destination must use the same hypervisor and run libvirt."


def check(ctx: Context) -> Iterator[Outcome]:
    src, dst = ctx.source.hypervisor_type, ctx.dest.hypervisor_type
    for fact, role in ((src, "source"), (dst, "destination")):
        if not fact.ok:
            yield not_seen(Scope.PAIR, f"{role} hypervisor type", fact)
            return
    if src.get() != dst.get():
        yield failed(Scope.PAIR, f"source runs {src.get()}, destination runs {dst.get()}",
                     "Choose a destination with the same hypervisor as the source")
    else:
        yield passed(Scope.PAIR, f"both run {src.get()}")
