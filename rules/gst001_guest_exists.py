"""GST001 guest-exists — every planned guest is defined on the source.

What it checks
    Each GUEST named on the command line exists in the source's libvirt
    (``virsh list --all``). With ``--all-running`` it reports how many
    running guests were found.

Why it breaks a migration
    ``virsh migrate`` fails at once with ``Domain not found`` for a guest
    the source does not have (a typo, or the wrong host).

How to fix it
    Check the name with ``virsh list --all`` on the source.
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed

ID = "GST001"
NAME = "guest-exists"
SEVERITY = Severity.ERROR
NEEDS = ("libvirt",)  # view facts read (preflight.view.needs)
SEED = "GuestName is the name of the guest to migrate; before: `virsh list` on the source shows it."

SRC = Scope.SOURCE


def check(ctx: Context) -> Iterator[Outcome]:
    conn = ctx.source.libvirt_reason()
    if not conn.ok:
        yield not_seen(SRC, "guests on the source", conn)
        return
    names = sorted(g.name for g in conn.get().guests)
    if ctx.plan.all_running:
        running = ctx.guests
        if running:
            yield passed(SRC, f"--all-running: {len(running)} running guest(s): {', '.join(running)}")
        else:
            yield failed(SRC, "--all-running: the source has no running guest", "Nothing to migrate")
        return
    for guest in ctx.plan.guests:
        if conn.get().guest(guest) is None:
            yield failed(SRC, f"guest {guest!r} is not defined on the source (it has: {', '.join(names) or 'none'})",
                         "Check the name with `virsh list --all` on the source", subject=guest)
        else:
            yield passed(SRC, f"guest {guest!r} exists", subject=guest)
