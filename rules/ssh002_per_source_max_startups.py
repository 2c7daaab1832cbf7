"""SSH002 sshd-per-source-max-startups — one source may open N connections at once.

What it checks
    For ssh transports, on OpenSSH 8.5 and later, the destination's
    ``PerSourceMaxStartups`` (default ``none``) is at least N: all the
    migrations come from the same source address.

Why it breaks a migration
    Over that per-address limit sshd refuses the extra unauthenticated
    connections from the source, and those migrations fail during the ssh
    handshake.

How to fix it
    Raise ``PerSourceMaxStartups`` to N (or a Match block for the source's
    address) and reload sshd.
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.model.findings import Scope, Severity
from preflight.rulekit import Applicability, Context, Outcome, failed, not_seen, passed, skipped
from preflight.view.sshd import knows_per_source, per_source_target, sshd_value

ID = "SSH002"
NAME = "sshd-per-source-max-startups"
SEVERITY = Severity.ERROR
NEEDS = ("sshd_value", "sshd_version")  # view facts read (preflight.view.needs)
LINT = ("destination",)  # roles judged alone by `preflight lint`
FIXABLE = Applicability.UNSAFE  # `preflight fix` writes an edit to review
SEED = "Too many unauthenticated ssh sessions drop migration connections (all from one source here)."

DST = Scope.DESTINATION


def check(ctx: Context) -> Iterator[Outcome]:
    if not ctx.plan.uses_ssh:
        yield skipped(DST, f"transport {ctx.plan.dest_transport!r} does not use ssh")
        return
    version = ctx.dest.sshd_version
    if version.ok and not knows_per_source(version.get()):
        yield skipped(DST, f"OpenSSH {version.get()} has no PerSourceMaxStartups")
        return
    fact = sshd_value(ctx.dest, "PerSourceMaxStartups")
    if not fact.ok:
        yield not_seen(DST, "sshd PerSourceMaxStartups", fact)
        return
    v = fact.get()
    n = ctx.plan.n_concurrent
    raw = (v.value or "none").lower()
    where = {"file": v.file or "/etc/ssh/sshd_config", "line": v.line}
    if raw == "none" or not (raw.isascii() and raw.isdigit()):  # isdigit alone takes "²": int() fails
        yield passed(DST, f"PerSourceMaxStartups {raw} ({v.where()}): no per-source limit", **where)
    elif int(raw) < n:
        yield failed(DST, f"PerSourceMaxStartups {raw} ({v.where()}) < {n} concurrent migrations from one "
                     "source", f"Set 'PerSourceMaxStartups {per_source_target(n)}' in {where['file']} and reload sshd "
                     "(`preflight fix` writes it there, or in a drop-in the main file Includes when that is "
                     "where sshd reads it first, and names the file)",
                     evidence={"value": int(raw), "concurrent": n}, **where)
    else:
        yield passed(DST, f"PerSourceMaxStartups {raw} ({v.where()}) >= {n}", **where)
