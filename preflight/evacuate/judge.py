"""Each running guest of the source on each destination, judged offline with the engine of `check`.

Two judgements per destination from the same snapshots:

- the destination alone: a plan naming no guest; what blocks there (NET001, DMN001, SSH..., an
  unreachable host) blocks every guest, and the destination is excluded;
- each guest alone: a single-guest plan (``virsh migrate --live GUEST DESTURI``); what blocks there
  and not in the first judgement is that guest's own reason (GST003, GST008, GST009, NET004, STO...).

A blocking UNKNOWN counts as a reason: a guest is never placed where something could not be seen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field

from preflight.engine import Report, Views, evaluate
from preflight.model.facts import HostSnapshot
from preflight.model.findings import Finding, Status
from preflight.model.plan import MigrationPlan
from preflight.rulekit import Rule


@dataclass(frozen=True)
class Flags:
    """What every `virsh migrate` of the plan is run with (--live always)."""

    p2p: bool = False
    tunnelled: bool = False
    copy_storage_all: bool = False
    copy_storage_inc: bool = False
    unsafe: bool = False
    tls: bool = False

    def words(self) -> list[str]:
        """The virsh options, in virsh's own spelling and a fixed order."""
        return [w for w, on in (("--p2p", self.p2p), ("--tunnelled", self.tunnelled),
                                ("--copy-storage-all", self.copy_storage_all),
                                ("--copy-storage-inc", self.copy_storage_inc), ("--unsafe", self.unsafe),
                                ("--tls", self.tls)) if on]

    def plan(self, guests: list[str], dest_uri: str, concurrency: int | None = None) -> MigrationPlan:
        return MigrationPlan(guests=list(guests), dest_uri=dest_uri, live=True, p2p=self.p2p,
                             tunnelled=self.tunnelled, copy_storage_all=self.copy_storage_all,
                             copy_storage_inc=self.copy_storage_inc, unsafe=self.unsafe, tls=self.tls,
                             concurrency=concurrency)


def blocking(report: Report) -> list[Finding]:
    """What makes the report not READY: error FAILs, then error UNKNOWNs (report order kept)."""
    return report.blocking_failures + report.blocking_unknowns


def _key(f: Finding) -> tuple[str, str, str | None, str]:
    return f.rule, f.host.value, f.subject, f.message


@dataclass
class DestJudgement:
    name: str  # dest1, dest2 ... (the order of --to)
    spec: str
    dest_uri: str
    snapshot: HostSnapshot | None
    host_blocking: list[Finding] = field(default_factory=list)  # excludes the destination for every guest
    guest_blocking: dict[str, list[Finding]] = field(default_factory=dict)  # per guest, its own reasons
    reports: dict[str, Report] = field(default_factory=dict)  # per guest, the whole single-guest report

    @property
    def excluded(self) -> bool:
        return bool(self.host_blocking) or self.snapshot is None

    @property
    def inspected(self) -> bool:
        return self.snapshot is not None and self.snapshot.reachable

    def takes(self, guest: str) -> bool:
        return not self.excluded and not self.guest_blocking.get(guest)


def running_guests(source: HostSnapshot) -> list[str] | None:
    """The source's running guests in libvirt's order; None when its libvirt could not say."""
    lv = source.libvirt
    if not source.reachable or lv is None or not lv.ok:
        return None
    return [g.name for g in lv.guests if g.state == "running"]


def as_role(snap: HostSnapshot, role: str) -> HostSnapshot:
    return dataclasses.replace(snap, role=role)


def judge_dest(name: str, spec: str, dest_uri: str, source: HostSnapshot, dest: HostSnapshot | None,
               guests: list[str], flags: Flags, rules: Iterable[Rule] | None = None) -> DestJudgement:
    """``dest`` None: never gathered (the reason is the caller's)."""
    out = DestJudgement(name, spec, dest_uri, dest)
    if dest is None:
        return out
    chosen = list(rules) if rules is not None else None
    src, dst = as_role(source, "source"), as_role(dest, "destination")
    views = Views()  # both hosts parsed once for every guest judged here
    alone = evaluate(flags.plan([], dest_uri), src, dst, chosen, views=views)
    out.host_blocking = blocking(alone)
    if out.host_blocking:  # excluded for every guest: no guest is judged there
        return out
    seen = {_key(f) for f in alone.findings if f.status in (Status.FAIL, Status.UNKNOWN)}
    for g in guests:
        report = evaluate(flags.plan([g], dest_uri), src, dst, chosen, views=views)
        out.reports[g] = report
        out.guest_blocking[g] = [f for f in blocking(report) if _key(f) not in seen]
    return out
