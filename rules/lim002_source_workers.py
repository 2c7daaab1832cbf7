"""LIM002 source-workers — the source daemon has a worker for every concurrent migration.

What it checks
    The source's ``max_workers`` (live, file or release default) against N
    concurrent migrations. The RHEL guide: a migration holds one worker on the
    source for its whole perform phase (and one on the destination only
    briefly, in the finish phase).

Why it matters
    With fewer workers, the perform phases queue behind each other:
    migrations serialise, and every other API call (virsh list, monitoring)
    waits for a free worker during the window.

Which daemon, which file
    The source daemon that runs the perform phase, judged on its own file:
    libvirtd.conf on a monolithic host, virtqemud.conf on a modular one
    (both when the layout cannot be told; see LIM001). An unreadable file is
    UNKNOWN with the file and the reason.

How to fix it
    Raise ``max_workers`` (the RHEL guide recommends ``max_workers ==
    max_clients``) and restart, or live: ``virt-admin
    srv-threadpool-set libvirtd --max-workers N``.
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.model.findings import Scope, Severity
from preflight.rulekit import Applicability, Context, Outcome, failed, not_seen, passed
from preflight.rules._daemons import admin, facts, judged, said
from preflight.view.daemons import advised_limit

ID = "LIM002"
NAME = "source-workers"
SEVERITY = Severity.WARNING
NEEDS = ("settings", "libvirt_version")  # view facts read (preflight.view.needs)
FIXABLE = Applicability.UNSAFE  # `preflight fix` writes an edit to review
SEED = "max_workers: one worker on the source during perform; max_clients and max_workers should be equal."

SRC = Scope.SOURCE


def check(ctx: Context) -> Iterator[Outcome]:
    n = ctx.plan.n_concurrent
    for d in judged(ctx, SRC):
        fact = ctx.source.setting("max_workers", d)
        if not fact.ok:
            yield not_seen(SRC, f"{d.name} max_workers", fact, subject=d.name, evidence=facts(d))
            continue
        mw = fact.get()
        where = {"file": mw.file or d.path, "line": mw.line, "subject": d.name}
        ev = {"max_workers": mw.value, "origin": mw.origin, "concurrent": n, **facts(d)}
        if mw.value < n:
            rec = advised_limit(ctx.source, d, n)  # the T the limits fix writes
            yield failed(SRC, f"{mw.describe()} < {n} concurrent migrations: perform phases queue and other "
                         "API calls wait" + said(d), f"Set max_workers = {rec} in {d.path} and restart "
                         f"{d.name}, or live: {admin(d)} srv-threadpool-set {d.name} --max-workers {rec}",
                         evidence=ev, **where)
        else:
            yield passed(SRC, f"{mw.describe()} >= {n} concurrent migrations" + said(d), evidence=ev, **where)
