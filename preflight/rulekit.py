"""What a rule module uses: the context it judges, the outcomes it returns, the rule object.

A rule module defines ``ID``, ``NAME``, ``SEVERITY``, ``SEED``, ``NEEDS`` (the view facts it
reads, see :mod:`preflight.view.needs`), optionally ``TAGS`` and ``FIXABLE`` (the applicability of
``preflight fix``'s edit for it: the fixer itself is registered by this rule object in
``preflight.fix.registry``), and ``check(ctx) -> Iterator[Outcome]``; optionally ``LINT``, the roles (``"destination"``,
``"source"``) in which the rule can judge a lone host for ``preflight lint`` (no ``LINT``: the rule
needs a real pair or a plan; see :mod:`preflight.lint`); its docstring is its
documentation (what it checks, why it breaks a migration, how to fix it). The registry
(``rules/__init__.py``) turns each module into a typed :class:`Rule`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from types import ModuleType
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


class Applicability(Enum):
    """How far ``preflight fix`` may go for a rule's failures (ruff's fix applicability)."""

    SAFE = "safe"  # the edit cannot change anything but the judged value
    UNSAFE = "unsafe"  # an edit the operator must review (a limit raised, a name added)
    DISPLAY_ONLY = "display-only"  # advice only: no edit is written


LINT_ROLES = ("destination", "source", "peers")  # the roles a rule's LINT may name (preflight.lint)


class Rule:
    """One rule, typed: the registry builds it from the rule module (its constants and docstring)."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.ID: str = module.ID
        self.NAME: str = module.NAME
        self.SEVERITY: Severity = module.SEVERITY
        # every severity it can report (LIM001: error on old releases, warning where migrations queue)
        self.SEVERITIES: tuple[Severity, ...] = tuple(getattr(module, "SEVERITIES", (module.SEVERITY,)))
        self.SEED: str | None = getattr(module, "SEED", None)
        self.NEEDS: tuple[str, ...] = tuple(module.NEEDS)
        self.TAGS: tuple[str, ...] = tuple(getattr(module, "TAGS", ()))
        self.FIX: Applicability = getattr(module, "FIXABLE", Applicability.DISPLAY_ONLY)
        # the roles in which `preflight lint` judges a lone host with this rule; () = pair-only
        self.LINT: tuple[str, ...] = tuple(getattr(module, "LINT", ()))
        bad = [r for r in self.LINT if r not in LINT_ROLES]
        if bad:
            raise ValueError(f"{module.__name__}: LINT roles must be among {LINT_ROLES}, got {bad}")
        self.__doc__ = module.__doc__
        self.check: Callable[[Context], Iterator[Outcome]] = module.check

    # ruff-style names
    @property
    def applicability(self) -> Applicability:
        return self.FIX

    @property
    def id(self) -> str:
        return self.ID

    @property
    def slug(self) -> str:
        return self.NAME

    @property
    def docs(self) -> str:
        return (self.__doc__ or "").strip()

    def __repr__(self) -> str:
        return f"Rule({self.ID} {self.NAME})"
