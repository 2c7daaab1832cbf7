"""VER002 libvirt-not-older — the destination's libvirt is not older than the source's.

What it checks
    The libvirt library version of each daemon (libvirt ``getLibVersion``,
    else the installed libvirt daemon package).

Why it breaks a migration
    Migration is supported from an older libvirt to the same or newer one;
    an older destination may not understand the migration cookie or the
    guest XML the source sends.

How to fix it
    Update libvirt on the destination to at least the source's version.
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.model.findings import Severity
from preflight.rulekit import Context, Outcome
from preflight.rules._versions import not_older

ID = "VER002"
NAME = "libvirt-not-older"
SEVERITY = Severity.ERROR
NEEDS = ("libvirt", "libvirt_version")  # view facts read (preflight.view.needs)
SEED = "The destination must run the same version of RHEL and libvirt."


def check(ctx: Context) -> Iterator[Outcome]:
    yield from not_older("libvirt", ctx.source.libvirt_version, ctx.dest.libvirt_version,
                         "Update the libvirt packages on the destination to at least the source's version")
