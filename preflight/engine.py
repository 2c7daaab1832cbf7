"""Run every rule over the two hosts' views and reduce findings to a verdict."""

from __future__ import annotations

import dataclasses
import functools
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field

from preflight.exitcodes import ExitCode
from preflight.known import Unseen
from preflight.model.facts import HostSnapshot
from preflight.model.findings import Finding, Scope, Severity, Status
from preflight.model.plan import MigrationPlan
from preflight.report.words import human
from preflight.rulekit import Context, Outcome, Rule, not_seen
from preflight.view import HostView


class Verdict:
    READY = "ready"
    NOT_READY = "not-ready"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Note:
    """Something about the run's policy a person should act on: an expired or unused waiver, an inline
    suppression without a reason. ``where`` is the waiver's or comment's file:line."""

    level: str  # "warning"
    kind: str  # "expired-waiver" | "unused-waiver" | "suppression-without-reason" | "waiver-on-unknown"
    where: str
    message: str


@dataclass
class Report:
    plan: MigrationPlan
    findings: list[Finding]
    snapshots: dict[str, HostSnapshot] = field(default_factory=dict)
    # Gate policy (additive; the JSON/SARIF writers may show them):
    fail_on: str = "error"  # error | warning (+ warning FAIL) | unknown (+ warning UNKNOWN): see _gating
    not_selected: list[dict[str, str]] = field(default_factory=list)  # {"rule": "LIM003", "why": "--ignore LIM003"}
    notes: list[Note] = field(default_factory=list)
    config: str | None = None  # the config file used, None = none

    def _gating(self, status: Status) -> tuple[Severity, ...]:
        if self.fail_on == "unknown" or (self.fail_on == "warning" and status is Status.FAIL):
            return (Severity.ERROR, Severity.WARNING)
        return (Severity.ERROR,)

    @property
    def blocking_failures(self) -> list[Finding]:
        gating = self._gating(Status.FAIL)
        return [f for f in self.findings if f.status is Status.FAIL and f.severity in gating and f.waived is None]

    @property
    def blocking_unknowns(self) -> list[Finding]:
        gating = self._gating(Status.UNKNOWN)
        return [f for f in self.findings if f.status is Status.UNKNOWN and f.severity in gating]

    @property
    def waived(self) -> list[Finding]:
        return [f for f in self.findings if f.waived is not None]

    @property
    def unreachable(self) -> list[HostSnapshot]:
        return [s for s in self.snapshots.values() if not s.reachable]

    @property
    def verdict(self) -> str:
        if self.blocking_failures:
            return Verdict.NOT_READY
        if self.blocking_unknowns or self.unreachable:
            return Verdict.UNKNOWN
        return Verdict.READY

    @property
    def exit_code(self) -> ExitCode:
        return {
            Verdict.READY: ExitCode.READY,
            Verdict.NOT_READY: ExitCode.NOT_READY,
            Verdict.UNKNOWN: ExitCode.COULD_NOT_INSPECT,
        }[self.verdict]

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Status}
        for f in self.findings:
            out[f.status.value] += 1
        out["waived"] = len(self.waived)  # also counted in "fail"
        return out


@functools.lru_cache(maxsize=4096)
def _words(text: str) -> str:
    """human(text), remembered: a fleet's pairs repeat the same messages thousands of times."""
    return human(text)


def _to_finding(rule: Rule, outcome: Outcome, severity: dict[str, str] | None = None) -> Finding:
    override = (severity or {}).get(rule.ID)
    return Finding(
        rule=rule.ID,
        name=rule.NAME,
        status=outcome.status,
        severity=Severity(override) if override else outcome.severity or rule.SEVERITY,
        host=outcome.host,
        message=_words(outcome.message),  # no probe keys, the RHEL guide named: every consumer reads words
        file=outcome.file,
        line=outcome.line,
        remediation=None if outcome.remediation is None else _words(outcome.remediation),
        subject=outcome.subject,
        evidence=outcome.evidence,
        seed=rule.SEED,
    )


class Views:
    """The HostViews of many evaluations (fleet, evacuate: one host in many pairs), so that a host's
    files are parsed once, not once per pair. Keyed by the snapshot object itself: a snapshot must not
    change after it was judged through this cache (the rules only read it)."""

    def __init__(self) -> None:
        self._views: dict[int, tuple[HostSnapshot, HostView]] = {}

    def of(self, snap: HostSnapshot) -> HostView:
        hit = self._views.get(id(snap))
        if hit is None or hit[0] is not snap:  # the snapshot is kept, so its id is never reused meanwhile
            hit = self._views[id(snap)] = (snap, HostView(snap))
        return hit[1]


def _concurrency_of_all_running(plan: MigrationPlan, source: HostSnapshot) -> MigrationPlan:
    """--all-running without --concurrency: every running guest of the source migrates at once (the
    default concurrency is the number of guests), not 1: the limits rules judge that many."""
    if not plan.all_running or plan.concurrency is not None or source.libvirt is None or not source.libvirt.ok:
        return plan
    running = sum(1 for g in source.libvirt.guests if g.state == "running")
    return dataclasses.replace(plan, concurrency=max(1, running, len(plan.guests)))


def evaluate(
    plan: MigrationPlan,
    source: HostSnapshot,
    dest: HostSnapshot,
    rules: Iterable[Rule] | None = None,
    severity: dict[str, str] | None = None,
    views: Views | None = None,
) -> Report:
    """Every rule over both hosts; ``severity`` overrides a rule's severity by id (the config's [severity]);
    ``views``: the hosts' views shared with other evaluations (each host's files parsed once)."""
    from preflight.rules import ALL_RULES, REACHABILITY, find_rule

    plan = _concurrency_of_all_running(plan, source)
    view = views.of if views is not None else HostView
    ctx = Context(plan=plan, source=view(source), dest=view(dest))
    findings: list[Finding] = []
    chosen = list(rules if rules is not None else ALL_RULES)
    if REACHABILITY not in chosen:  # never hidden by a selection: an unreachable host hides everything
        chosen.insert(0, REACHABILITY)
    control = find_rule("SSH003")  # INS001 defers to it for the migration's own ssh connection
    if control is not None and control not in chosen and not (source.reachable and dest.reachable):
        chosen.insert(1, control)
    for rule in chosen:
        try:
            for outcome in rule.check(ctx):
                findings.append(_to_finding(rule, outcome, severity))
        except Unseen as exc:  # a fact the rule needs could not be seen: UNKNOWN (SKIP in image mode)
            findings.append(_to_finding(rule, not_seen(Scope.PAIR, "a fact this rule reads", exc.fact), severity))
        except Exception as exc:  # a rule bug must not hide the other findings, nor pass
            findings.append(
                Finding(
                    rule=rule.ID,
                    name=rule.NAME,
                    status=Status.UNKNOWN,
                    severity=Severity((severity or {}).get(rule.ID) or rule.SEVERITY.value),
                    host=Scope.PAIR,
                    message=f"internal error in rule: {exc!r}",
                    evidence={"traceback": traceback.format_exc(limit=3)},
                )
            )
    return Report(plan=plan, findings=findings, snapshots={"source": source, "destination": dest})
