"""SSH001 sshd-max-startups — the destination's sshd accepts N connections at once.

What it checks
    For ssh transports (``qemu+ssh://``), the destination sshd's
    ``MaxStartups start:rate:full`` (effective value from ``sshd -T`` when
    it could run, else the config files read the way that OpenSSH version
    reads them, else the default ``10:30:100``) against N concurrent
    migrations: the start value must be at least N.

Why it breaks a migration
    Each migration opens one ssh connection to the destination, and they
    are all unauthenticated at the same moment. From ``start`` on, sshd
    drops new connections at random (``rate`` percent, rising to 100 % at
    ``full``): the migration fails with ``kex_exchange_identification``.
    Measured: ``MaxStartups 1`` with 3 concurrent → 2 of 3 fail; the
    default 10:30:100 with 12 concurrent → 0–2 of 12 fail.

How to fix it
    Raise the start value in /etc/ssh/sshd_config just as far as needed
    (the RHEL guide: uncomment ``MaxStartups`` and raise 10) and reload sshd. Not
    higher than needed: the limit protects against DoS; where a hardening
    policy caps it, use ``PerSourceMaxStartups`` or a smaller N instead.
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.model.findings import Scope, Severity
from preflight.rulekit import Applicability, Context, Outcome, failed, not_seen, passed, skipped
from preflight.sizing import format_max_startups, recommended_max_startups_start
from preflight.view.sshd import dropped_at_kex, max_startups, max_startups_target, sshd_value

ID = "SSH001"
NAME = "sshd-max-startups"
SEVERITY = Severity.ERROR
NEEDS = ("sshd_value", "ssh_dropped")  # view facts read (preflight.view.needs)
LINT = ("destination",)  # roles judged alone by `preflight lint`
FIXABLE = Applicability.UNSAFE  # `preflight fix` writes an edit to review
SEED = "sshd allows 10 pre-authenticated sessions by default (MaxStartups); raise it with care."

DST = Scope.DESTINATION


def check(ctx: Context) -> Iterator[Outcome]:
    if not ctx.plan.uses_ssh:
        yield skipped(DST, f"transport {ctx.plan.dest_transport!r} does not use ssh")
        return
    n = ctx.plan.n_concurrent
    fact = sshd_value(ctx.dest, "MaxStartups")
    if not fact.ok:
        yield not_seen(DST, "sshd MaxStartups", fact)
        return
    v = fact.get()
    start, rate, full = max_startups(v)
    shown = f"MaxStartups {start}:{rate}:{full} ({v.where()})"
    where = {"file": v.file or "/etc/ssh/sshd_config", "line": v.line}
    ev = {"start": start, "rate": rate, "full": full, "origin": v.origin, "concurrent": n,
          # never count ourselves: our master is authenticated before sshd -T runs
          "own_connection": "not counted: preflight's ssh master is authenticated, not among MaxStartups' "
                            "unauthenticated connections"}
    dropped = dropped_at_kex(ctx.dest)
    if dropped.ok:
        ev["inspection_connections_dropped"] = dropped.get()
    if start < n:
        new = recommended_max_startups_start(n)  # beyond the fix's cap, the advice still says what n needs
        value = max_startups_target((start, rate, full), n) or format_max_startups(new, rate, max(full, new))
        yield failed(DST, f"{shown}: from {start} unauthenticated connections sshd drops new ones at random "
                     f"({rate}%, all at {full}); {n} concurrent ssh migrations will lose some"
                     + (f" (it already dropped {dropped.get()} of this inspection's own connections)"
                        if dropped.ok else ""),
                     f"Set 'MaxStartups {value}' in {where['file']}" + (f" line {v.line}" if v.line else
                     " (before any Match block)") + " and reload sshd (`preflight fix` writes it there, or in a "
                     "drop-in the main file Includes when that is where sshd reads it first, and names the file); "
                     "or plan fewer concurrent migrations",
                     evidence=ev, **where)
    else:
        yield passed(DST, f"{shown} >= {n} concurrent ssh migrations", evidence=ev, **where)
