"""How many migrations each destination takes at once, and the waves that respect it.

The limits are judged by the rules that read the plan's concurrency, with the engine of `check`:
LIM001-LIM003 (max_clients, max_workers: preflight.view.daemons), SSH001/SSH002 (sshd MaxStartups,
PerSourceMaxStartups: preflight.view.sshd) and NET006 (the migration port range). A destination's
cap is the largest N (up to its guest count, and --concurrency) at which those rules find nothing on
the destination's side that they did not already find at N = 1 (a warning counts: MaxStartups drops
at random from its start value). The source's cap is the same on the source's side, for the total
of one wave. A limit that could not be read keeps its destination at 1 at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from preflight.engine import Views, evaluate
from preflight.evacuate.judge import Flags, as_role
from preflight.model.facts import HostSnapshot
from preflight.model.findings import Finding, Scope, Status
from preflight.rulekit import Rule

CONCURRENCY_RULES = ("LIM001", "LIM002", "LIM003", "SSH001", "SSH002", "NET006")


@dataclass(frozen=True)
class Cap:
    value: int
    why: str  # the limit that stopped it, or why no limit did


@dataclass
class Wave:
    number: int
    moves: list[tuple[str, str]] = field(default_factory=list)  # (guest, destination name)


def _trouble(findings: list[Finding], scope: Scope) -> dict[tuple[str, str | None], Finding]:
    return {(f.rule, f.subject): f for f in findings
            if f.host is scope and f.status in (Status.FAIL, Status.UNKNOWN)}


def cap(source: HostSnapshot, dest: HostSnapshot, dest_uri: str, guests: list[str], flags: Flags,
        rules: list[Rule], scope: Scope, upper: int | None = None) -> Cap:
    """The largest N <= len(guests) (and ``upper``) the ``scope`` side's limits allow at once."""
    chosen = [r for r in rules if r.ID in CONCURRENCY_RULES]
    top = min(len(guests), upper or len(guests))
    if top <= 1 or not chosen:
        return Cap(max(1, top), "--concurrency" if upper == 1 else "no limit judged")
    src, dst = as_role(source, "source"), as_role(dest, "destination")
    views = Views()

    def at(n: int) -> dict[tuple[str, str | None], Finding]:
        return _trouble(evaluate(flags.plan(guests, dest_uri, n), src, dst, chosen, views=views).findings, scope)

    base = at(1)
    for n in range(2, top + 1):
        new = [f for k, f in at(n).items() if k not in base]
        if new:
            f = new[0]
            what = "could not be read" if f.status is Status.UNKNOWN else "is the limit"
            return Cap(n - 1, f"{f.rule} {what} at {n}: {f.message}")
    return Cap(top, "--concurrency" if upper is not None and top == upper else "every guest at once")


def waves(order: list[tuple[str, str]], caps: dict[str, int], source_cap: int) -> list[Wave]:
    """``order``: (guest, destination) in placement order. Each wave takes, round robin over the
    destinations, up to each one's cap, and at most ``source_cap`` migrations in all."""
    queues: dict[str, list[str]] = {}
    for g, d in order:
        queues.setdefault(d, []).append(g)
    out: list[Wave] = []
    while any(queues.values()):
        wave = Wave(len(out) + 1)
        taken = {d: 0 for d in queues}
        moved = True
        while moved and len(wave.moves) < max(1, source_cap):
            moved = False
            for d, q in queues.items():
                if q and taken[d] < max(1, caps.get(d, 1)) and len(wave.moves) < max(1, source_cap):
                    wave.moves.append((q.pop(0), d))
                    taken[d] += 1
                    moved = True
        out.append(wave)
    return out
