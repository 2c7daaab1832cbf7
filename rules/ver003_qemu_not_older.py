"""VER003 qemu-not-older — the destination's QEMU is not older than the source's.

What it checks
    The hypervisor version libvirt reports (``getVersion``), else the
    installed QEMU package (qemu-kvm / qemu-system-x86).

Why it breaks a migration
    An older QEMU may lack the guest's machine type or device state
    versions: the incoming migration fails to load, or the guest cannot
    start on the destination.

How to fix it
    Update QEMU on the destination to at least the source's version.
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.model.findings import Severity
from preflight.rulekit import Context, Outcome
from preflight.rules._versions import not_older

ID = "VER003"
NAME = "qemu-not-older"
SEVERITY = Severity.ERROR
NEEDS = ("libvirt", "qemu_version")  # view facts read (preflight.view.needs)
SEED = "The destination must use the same hypervisor (version)."


def check(ctx: Context) -> Iterator[Outcome]:
    yield from not_older("QEMU", ctx.source.qemu_version, ctx.dest.qemu_version,
                         "Update the QEMU packages on the destination to at least the source's version")
