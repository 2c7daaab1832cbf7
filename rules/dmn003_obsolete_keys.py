"""DMN003 obsolete-daemon-keys — no settings libvirt ignores.

What it checks
    ``max_requests`` in the config of each daemon the migration meets
    (libvirtd.conf, or virtqemud.conf / virtproxyd.conf on modular hosts;
    see LIM001 for which and why): the RHEL guide's libvirtd.conf notes it is not
    enforced, and current libvirt no longer reads it. An unreadable file is
    UNKNOWN with the reason.

Why it matters
    It does not break a migration by itself, but whoever raised it believes
    they raised a limit that does nothing; the limits that count are
    ``max_clients``, ``max_workers`` and ``max_client_requests``.

How to fix it
    Remove the line; size ``max_clients`` and ``max_workers`` instead.
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.model.findings import Scope, Severity
from preflight.rulekit import Applicability, Context, Outcome, failed, not_seen, passed
from preflight.rules._daemons import facts, judged, said

ID = "DMN003"
NAME = "obsolete-daemon-keys"
SEVERITY = Severity.WARNING
NEEDS = ("judged_daemons",)  # view facts read (preflight.view.needs)
LINT = ("destination", "source")  # roles judged alone by `preflight lint`
FIXABLE = Applicability.UNSAFE  # `preflight fix` writes an edit to review
SEED = "max_requests: 'this isn't actually enforced yet, only the per-client limit is used so far'."

OBSOLETE = {"max_requests": "not enforced (the RHEL guide says so) and ignored by current libvirt"}


def check(ctx: Context) -> Iterator[Outcome]:
    for scope in (Scope.SOURCE, Scope.DESTINATION):
        for d in judged(ctx, scope):
            conf = ctx.host(scope).conf_file(d.path)
            kw = {"evidence": facts(d)}
            if not conf.ok:
                yield not_seen(scope, d.path, conf, subject=d.path, **kw)
                continue
            found = [(k, e) for k in OBSOLETE if (e := conf.get().get(k)) is not None]
            for key, entry in found:
                yield failed(scope, f"{key} = {entry.value} is {OBSOLETE[key]}" + said(d),
                             f"Remove the {key} line from {d.path}; size max_clients and max_workers instead",
                             file=conf.get().path, line=entry.line, subject=key, **kw)
            if not found:
                yield passed(scope, "no obsolete keys" + said(d), file=conf.get().path, subject=d.path, **kw)
