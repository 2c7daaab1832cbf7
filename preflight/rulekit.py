"""What a rule module uses: the context it judges and the outcomes it returns.

A rule module defines ``ID``, ``NAME``, ``SEVERITY``, ``SEED`` and
``check(ctx) -> Iterator[Outcome]``; its docstring is its documentation
(what it checks, why it breaks a migration, how to fix it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from preflight.known import Known
from preflight.model.findings import Scope, Severity, Status
from preflight.model.plan import MigrationPlan
from preflight.view import HostView


@dataclass
class Context:
    plan: MigrationPlan
    source: HostView
    dest: HostView

    def host(self, scope: Scope) -> HostView:
        return self.source if scope is Scope.SOURCE else self.dest

    @property
    def guests(self) -> list[str]:
        """Planned guests; with --all-running, every running guest of the source."""
        if self.plan.all_running and self.source.libvirt is not None:
            return [g.name for g in self.source.libvirt.guests if g.state == "running"]
        return list(self.plan.guests)


@dataclass
class Outcome:
    status: Status
    host: Scope
    message: str
    file: str | None = None
    line: int | None = None
    remediation: str | None = None
    subject: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    severity: Severity | None = None  # overrides the rule's default (e.g. a warning-level case)


def passed(host: Scope, message: str, **kw: Any) -> Outcome:
    return Outcome(Status.PASS, host, message, **kw)


def failed(host: Scope, message: str, remediation: str, **kw: Any) -> Outcome:
    return Outcome(Status.FAIL, host, message, remediation=remediation, **kw)


def skipped(host: Scope, message: str, **kw: Any) -> Outcome:
    return Outcome(Status.SKIP, host, message, **kw)


def not_seen(host: Scope, what: str, fact: Known[Any], **kw: Any) -> Outcome:
    """UNKNOWN when a fact could not be gathered; SKIP when it cannot exist in this mode."""
    status = Status.SKIP if fact.not_applicable else Status.UNKNOWN
    return Outcome(status, host, f"{what}: {fact.reason}", **kw)
