"""Fixes and rules agree on which rules have a fix: a rule's FIXABLE applicability and the fixers' rule lists."""

from __future__ import annotations

from preflight.rules import ALL_RULES

from preflight.fix.planner import FIXED_RULES
from preflight.rulekit import Applicability


def test_fixable_rules_are_the_fixed_ones() -> None:
    declared = {r.ID for r in ALL_RULES if r.FIX is not Applicability.DISPLAY_ONLY}
    assert declared == set(FIXED_RULES)
    assert {r.ID for r in ALL_RULES} >= set(FIXED_RULES)  # no fixer answers a rule that does not exist
