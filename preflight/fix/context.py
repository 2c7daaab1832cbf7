"""What every fixer gets: the checked plan, both hosts' views and their failing findings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from preflight.model.findings import Finding, Scope, Status
from preflight.rulekit import Context, Rule

CIS = "cis"
POLICIES = (CIS,)


@dataclass
class FixContext:
    ctx: Context
    findings: list[Finding]
    policy: str | None = None
    dest_address: str | None = None  # --dest-address: NET001's fix writes it, never a guessed one
    handled: list[Finding] = field(default_factory=list)

    def failing(self, rules: Iterable[Rule], scope: Scope | None = None) -> list[Finding]:
        """Failing findings (any severity) of these rules on this host."""
        ids = {r.id for r in rules}
        return [f for f in self.findings if f.status is Status.FAIL and f.rule in ids
                and (scope is None or f.host is scope)]

    def handle(self, findings: list[Finding]) -> None:
        for f in findings:
            if not any(f is h for h in self.handled):
                self.handled.append(f)
