"""LIM003 clients-equal-workers — max_clients and max_workers set together.

What it checks
    Where the daemon config sets ``max_clients`` or ``max_workers``
    explicitly, the two are equal, as the RHEL guide recommends. Compiled
    defaults are not judged (5000 clients and 20 workers is libvirt's own
    choice).

    Each daemon is judged on its own config file (libvirtd.conf, or
    virtqemud.conf and, where connections land there, virtproxyd.conf on
    modular hosts; see LIM001); an unreadable file is UNKNOWN.

Why it matters
    Raising only one of them moves the bottleneck instead of removing it:
    more connections than workers queue their calls.

How to fix it
    Set both to the same number.
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.model.findings import Scope, Severity
from preflight.rulekit import Applicability, Context, Outcome, failed, not_seen, passed, skipped
from preflight.rules._daemons import facts, judged, said
from preflight.view.daemons import advised_limit

ID = "LIM003"
NAME = "clients-equal-workers"
SEVERITY = Severity.INFO
NEEDS = ("settings", "libvirt_version")  # view facts read (preflight.view.needs)
LINT = ("destination", "source")  # roles judged alone by `preflight lint`
FIXABLE = Applicability.UNSAFE  # `preflight fix` writes an edit to review
SEED = "It is recommended to set max_clients and max_workers to the same number."


def check(ctx: Context) -> Iterator[Outcome]:
    for scope in (Scope.SOURCE, Scope.DESTINATION):
        host = ctx.host(scope)
        for d in judged(ctx, scope):
            mc, mw = host.setting("max_clients", d), host.setting("max_workers", d)
            kw = {"subject": d.name, "evidence": facts(d)}
            if not mc.ok or not mw.ok:
                yield not_seen(scope, f"{d.name} max_clients/max_workers", mc if not mc.ok else mw, **kw)
                continue
            c, w = mc.get(), mw.get()
            if c.origin != "file" and w.origin != "file":
                yield skipped(scope, "neither is set in the config file (compiled defaults)" + said(d), **kw)
            elif c.value != w.value:
                top = max(c.value, w.value, advised_limit(host, d, ctx.plan.n_concurrent))  # the fix's T
                line = c.line if c.origin == "file" else w.line
                yield failed(scope, f"{c.describe()} but {w.describe()}" + said(d), f"Set both to {top} in {d.path}",
                             file=d.path, line=line, **kw)
            else:
                yield passed(scope, f"max_clients == max_workers == {c.value}" + said(d), file=d.path, **kw)
