"""LIM002 source-workers — the source daemon has a worker for every concurrent migration.

What it checks
    The source's ``max_workers`` (live, file or release default) against N
    concurrent migrations. The seed: a migration holds one worker on the
    source for its whole perform phase (and one on the destination only
    briefly, in the finish phase).

Why it matters
    With fewer workers, the perform phases queue behind each other:
    migrations serialise, and every other API call (virsh list, monitoring)
    waits for a free worker during the window.

How to fix it
    Raise ``max_workers`` (the seed recommends ``max_workers ==
    max_clients``) and restart, or live: ``virt-admin
    srv-threadpool-set libvirtd --max-workers N``.
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed
from preflight.sizing import recommended_max_clients

ID = "LIM002"
NAME = "source-workers"
SEVERITY = Severity.WARNING
SEED = "max_workers: one worker on the source during perform; max_clients and max_workers should be equal."

SRC = Scope.SOURCE


def check(ctx: Context) -> Iterator[Outcome]:
    n = ctx.plan.n_concurrent
    fact = ctx.source.setting("max_workers")
    if not fact.ok:
        yield not_seen(SRC, "max_workers", fact)
        return
    mw = fact.get()
    where = {"file": mw.file or ctx.source.daemon_conf_path, "line": mw.line}
    if mw.value < n:
        rec = recommended_max_clients(n)
        daemon = ctx.source.daemon_name
        yield failed(SRC, f"{mw.describe()} < {n} concurrent migrations: perform phases queue and other "
                     "API calls wait", f"Set max_workers = {rec} in {ctx.source.daemon_conf_path} and restart "
                     f"{daemon}, or live: virt-admin srv-threadpool-set {daemon} --max-workers {rec}",
                     evidence={"max_workers": mw.value, "origin": mw.origin, "concurrent": n}, **where)
    else:
        yield passed(SRC, f"{mw.describe()} >= {n} concurrent migrations", **where)
