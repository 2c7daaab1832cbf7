"""Fixes are attached to rule objects: the registry is keyed by Rule (not id strings), agrees with each
rule's declared applicability, and a fixer names its rules by module, so a missing rule fails at import."""

from __future__ import annotations

from types import ModuleType

import pytest

from preflight.fix import hosts, libvirt, sshd
from preflight.fix.registry import FIXERS, FIXES, fixer_for
from preflight.rulekit import Applicability, Rule
from preflight.rules import ALL_RULES, rule_of


def test_fixable_rules_are_the_fixed_ones() -> None:
    declared = {r for r in ALL_RULES if r.FIX is not Applicability.DISPLAY_ONLY}
    assert declared == set(FIXES)
    assert all(any(rule is r for r in ALL_RULES) for rule in FIXES)  # the registered objects themselves


def test_registry_is_keyed_by_rule_objects() -> None:
    for fixer in FIXERS:
        assert fixer.rules and all(isinstance(r, Rule) for r in fixer.rules)
        for rule in fixer.rules:
            assert fixer_for(rule) is fixer
    assert fixer_for(next(r for r in ALL_RULES if r.ID == "GST001")) is None
    # the fixer modules' rule tuples hold Rule objects, not id strings (issue 13: "find their rules by id strings")
    assert all(isinstance(r, Rule) for r in (*libvirt.RULES, *sshd.RULES, *hosts.RULES))


def test_rule_of_refuses_a_module_that_is_no_rule() -> None:
    with pytest.raises(LookupError):
        rule_of(ModuleType("preflight.rules.not_a_rule"))


def test_fixers_name_no_rule_ids_and_read_no_evidence_keys() -> None:
    """issue 13: fixes found their rules by id strings and read untyped evidence keys
    (evidence["value"]); now rule objects, and typed values from the view."""
    import re
    from pathlib import Path

    import preflight.fix

    for path in Path(preflight.fix.__file__).parent.glob("*.py"):
        text = path.read_text()
        assert not re.findall(r"[\"'][A-Z]{3}[0-9]{3}[\"']", text), path.name
        assert not re.findall(r"\.evidence\s*(?:\[|\.get\()", text), path.name
