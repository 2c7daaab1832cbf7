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

Live vs file
    As LIM001: the live value decides; a different file value is named, and a
    live value the next restart would lower is a warning.

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
from preflight.view.daemons import advised_limit, live_vs_file

ID = "LIM002"
NAME = "source-workers"
SEVERITY = Severity.WARNING
NEEDS = ("settings", "libvirt_version")  # view facts read (preflight.view.needs)
LINT = ("source",)  # roles judged alone by `preflight lint`
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
        drift = live_vs_file(ctx.source, d, "max_workers")  # the daemon runs with other limits than its file
        note = drift.note() if drift else ""
        where = {"file": mw.file or d.path, "line": mw.line, "subject": d.name}
        ev = {"max_workers": mw.value, "origin": mw.origin, "concurrent": n, **(drift.evidence() if drift else {}),
              **facts(d)}
        rec = advised_limit(ctx.source, d, n)  # the T the limits fix writes
        live_fix = f"{admin(d)} srv-threadpool-set {d.name} --max-workers"
        if mw.value < n:
            fix = f"Set max_workers = {rec} in {d.path} and restart {d.name}, or live: {live_fix} {rec}"
            if drift is not None and drift.after_restart.value >= n:  # the file already holds enough
                fix = (f"{drift.after_restart.describe()} already: restart {d.name} to apply it, or live: "
                       f"{live_fix} {drift.after_restart.value}")
            yield failed(SRC, f"{mw.describe()} < {n} concurrent migrations: perform phases queue and other "
                         "API calls wait" + note + said(d), fix, evidence=ev, **where)
        elif drift is not None and drift.after_restart.value < n:  # fine now; a restart brings the file back
            where.update(file=drift.after_restart.file or d.path, line=drift.after_restart.line)
            yield failed(SRC, f"{mw.describe()} >= {n} now, but {drift.after_restart.describe()} takes effect when "
                         f"{d.name} restarts: then perform phases queue" + said(d),
                         f"Set max_workers = {rec} in {d.path} so the live value survives a restart",
                         evidence=ev, **where)
        else:
            yield passed(SRC, f"{mw.describe()} >= {n} concurrent migrations" + note + said(d), evidence=ev, **where)
