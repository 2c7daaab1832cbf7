"""Which fixer answers which rule: keyed by the rule object, never by an id string.

Each fixer module names its rules by their modules (``rule_of(ssh001_max_startups)``), so a
renamed or removed rule fails at import, and a rule's declared applicability (``FIXABLE``:
safe / unsafe; display-only = advice only) is checked against this table by tests/fix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from preflight.fix import hosts, libvirt, sshd
from preflight.fix.context import FixContext
from preflight.fix.model import FixPlan
from preflight.rulekit import Rule


@dataclass(frozen=True)
class Fixer:
    """One fixer: the file it edits, the rules whose failures it answers, and the edit itself."""

    edits: str
    rules: tuple[Rule, ...]
    run: Callable[[FixContext, FixPlan], None]


FIXERS: tuple[Fixer, ...] = (
    Fixer("each judged libvirt daemon's config file", libvirt.RULES, libvirt.fix),
    Fixer("sshd_config (and its drop-ins) on the destination", sshd.RULES, sshd.fix),
    Fixer("/etc/hosts on the source", hosts.RULES, hosts.fix),
)
FIXES: dict[Rule, Fixer] = {rule: fixer for fixer in FIXERS for rule in fixer.rules}


def fixer_for(rule: Rule) -> Fixer | None:
    return FIXES.get(rule)

