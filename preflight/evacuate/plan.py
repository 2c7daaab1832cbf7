"""The evacuation plan from the snapshots: judge, place, cap, waves, verdict. Pure (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from preflight.engine import ExitCode, Verdict
from preflight.evacuate import placement as pl
from preflight.evacuate import waves as wv
from preflight.evacuate.judge import DestJudgement, Flags, judge_dest, running_guests
from preflight.model.facts import HostSnapshot
from preflight.model.findings import Finding, Scope, Status
from preflight.rulekit import Rule


@dataclass(frozen=True)
class Dest:
    """A destination as given: its name (dest1...), spec, DESTURI, snapshot (None: not gathered)."""

    name: str
    spec: str
    dest_uri: str
    snapshot: HostSnapshot | None
    why_missing: str = ""
    inventory_name: str = ""  # --to-group: the host's name in the inventory


@dataclass(frozen=True)
class Reason:
    """Why a guest does not go to one destination: rule ids, short messages, FAIL or only UNKNOWN."""

    dest: str
    rules: list[str]
    messages: list[str]
    definite: bool  # a FAIL (or no room): False when only UNKNOWNs stand in the way
    inspected: bool = True  # False: the destination could not be inspected (excluded, not a candidate)


@dataclass
class Evacuation:
    source_spec: str
    source: HostSnapshot | None
    flags: Flags
    guests: list[str] = field(default_factory=list)  # running guests of the source
    not_running: list[tuple[str, str]] = field(default_factory=list)  # (guest, state): left where they are
    source_problem: str = ""  # why the source could not be inspected
    dests: list[Dest] = field(default_factory=list)
    judged: dict[str, DestJudgement] = field(default_factory=dict)
    rooms: dict[str, pl.Room] = field(default_factory=dict)
    needs: dict[str, int | None] = field(default_factory=dict)
    placed: pl.Placement = field(default_factory=pl.Placement)
    caps: dict[str, wv.Cap] = field(default_factory=dict)
    source_cap: wv.Cap = wv.Cap(1, "")
    waves: list[wv.Wave] = field(default_factory=list)
    unplaced: dict[str, list[Reason]] = field(default_factory=dict)

    def dest(self, name: str) -> Dest:
        return next(d for d in self.dests if d.name == name)

    @property
    def inspected_dests(self) -> list[Dest]:
        return [d for d in self.dests if d.snapshot is not None and d.snapshot.reachable]

    @property
    def verdict(self) -> str:
        if self.source_problem or not self.inspected_dests and self.guests:
            return Verdict.UNKNOWN
        # a destination that could not be inspected is excluded: only the others decide
        if any(all(r.definite for r in rs if r.inspected) for rs in self.unplaced.values()):
            return Verdict.NOT_READY
        return Verdict.UNKNOWN if self.unplaced else Verdict.READY

    @property
    def exit_code(self) -> ExitCode:
        return {Verdict.READY: ExitCode.READY, Verdict.NOT_READY: ExitCode.NOT_READY,
                Verdict.UNKNOWN: ExitCode.COULD_NOT_INSPECT}[self.verdict]


def _short(f: Finding) -> str:
    text = f.message if len(f.message) <= 200 else f.message[:197] + "..."
    return f"{f.rule}{' (unknown)' if f.status is Status.UNKNOWN else ''}: {text}"


def _reason(dest: str, findings: list[Finding]) -> Reason:
    return Reason(dest, list(dict.fromkeys(f.rule for f in findings)), [_short(f) for f in findings],
                  any(f.status is Status.FAIL for f in findings))


def source_problem(source: HostSnapshot | None) -> str:
    if source is None:
        return "not gathered"
    if not source.reachable:
        return source.unreachable_reason or "unreachable"
    lv = source.libvirt
    if lv is None or not lv.ok:
        return f"its libvirt could not list the guests ({(lv.error if lv else None) or 'not read'})"
    return ""


def build(source_spec: str, source: HostSnapshot | None, dests: list[Dest], flags: Flags,
          rules: Iterable[Rule], concurrency: int | None = None) -> Evacuation:
    """Everything judged from the snapshots; ``concurrency``: at most this many at once per destination."""
    chosen = list(rules)
    ev = Evacuation(source_spec, source, flags, dests=dests)
    ev.source_problem = source_problem(source)
    if source is None or ev.source_problem:
        return ev
    ev.guests = running_guests(source) or []
    lv = source.libvirt
    assert lv is not None
    ev.not_running = [(g.name, g.state) for g in lv.guests if g.state != "running"]
    for d in dests:
        ev.judged[d.name] = judge_dest(d.name, d.spec, d.dest_uri, source, d.snapshot, ev.guests, flags, chosen)
        if d.snapshot is not None:
            ev.rooms[d.name] = pl.room(d.snapshot)
    by_name = {g.name: g for g in lv.guests}
    memory_judged = any(r.ID == "GST009" for r in chosen)
    for g in ev.guests:
        need = pl.guest_need(by_name[g])
        ev.needs[g] = need.get() if need.ok else None
    rooms = {d: ev.rooms.get(d, pl.Room(None, "not gathered")) for d in ev.judged}
    if not memory_judged:  # --ignore GST009: memory is not judged, nor packed
        rooms = {d: pl.Room(None, "not judged: GST009 not selected") for d in rooms}
    allowed = {g: [d.name for d in dests if ev.judged[d.name].takes(g)] for g in ev.guests}
    ev.placed = pl.place(ev.needs, allowed, rooms, [d.name for d in dests])
    for g in ev.guests:
        if g in ev.placed.where:
            continue
        reasons = []
        for d in dests:
            j = ev.judged[d.name]
            if d.snapshot is None or not d.snapshot.reachable:
                why = d.why_missing or (d.snapshot.unreachable_reason if d.snapshot is not None else None)
                reasons.append(Reason(d.name, [f.rule for f in j.host_blocking[:1]],
                                      [f"not inspected: {why or 'not gathered'}"], False, inspected=False))
            elif j.excluded:
                reasons.append(_reason(d.name, j.host_blocking))
            elif j.guest_blocking.get(g):
                reasons.append(_reason(d.name, j.guest_blocking[g]))
            else:
                why = ev.placed.no_room.get(g, {}).get(d.name, "no room")
                reasons.append(Reason(d.name, ["GST009"], [why], ev.needs[g] is not None))
        ev.unplaced[g] = reasons
    order = list(ev.placed.where.items())
    for d in dests:
        mine = [g for g, where in order if where == d.name]
        if mine and d.snapshot is not None:
            ev.caps[d.name] = wv.cap(source, d.snapshot, d.dest_uri, mine, flags, chosen, Scope.DESTINATION,
                                     concurrency)
    placed = [g for g, _ in order]
    first = next((d for d in dests if d.name in ev.caps), None)
    if first is not None and first.snapshot is not None:
        ev.source_cap = wv.cap(source, first.snapshot, first.dest_uri, placed, flags, chosen, Scope.SOURCE)
    ev.waves = wv.waves(order, {d: c.value for d, c in ev.caps.items()}, ev.source_cap.value)
    return ev
