"""Every rule documents itself (explain prints it) and the docs' examples run."""

from __future__ import annotations

import doctest
import importlib
import re

import pytest

from preflight.rules import ALL_RULES

ID_RE = re.compile(r"^(INS|NET|OS|VER|DMN|GST|STO|LIM|SSH|TLS|SEC)\d{3}$")


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.ID)
def test_rule_metadata_and_docstring(rule) -> None:  # type: ignore[no-untyped-def]
    assert ID_RE.match(rule.ID), rule.ID
    assert re.match(r"^[a-z0-9]+(-[a-z0-9]+)+$", rule.NAME)
    doc = rule.__doc__ or ""
    assert doc.startswith(f"{rule.ID} {rule.NAME} — ")
    for section in ("What it checks", "How to fix it"):
        assert section in doc, f"{rule.ID} lacks '{section}'"
    assert "Why it" in doc
    assert rule.SEED or rule.ID == "INS001"  # INS001 judges the inspection itself, no seed statement
    assert rule.module.__name__.split(".")[-1].startswith(rule.ID.lower())


def test_ids_and_slugs_are_unique() -> None:
    assert len({r.ID for r in ALL_RULES}) == len(ALL_RULES)
    assert len({r.NAME for r in ALL_RULES}) == len(ALL_RULES)


@pytest.mark.parametrize(
    "module",
    ["preflight.defaults", "preflight.sizing", "preflight.versions", "preflight.access.spec", "preflight.rules",
     "preflight.parsers.iptables"],
)
def test_doc_examples(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


def test_every_rule_module_is_registered() -> None:
    from pathlib import Path

    from preflight import rules

    on_disk = {p.stem for p in Path(rules.__file__).parent.glob("[a-z]*[0-9]_*.py")}
    assert on_disk == set(rules.RULE_MODULES)
