"""Each golden case: the fixed files equal expected/ byte for byte, nothing else changes, and a
second run on the fixed files changes nothing (idempotence)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from preflight.fix.apply import Target, write_all
from preflight.fix.planner import plan_fixes, predict
from preflight.fix.validate import validate

from .conftest import Case, cases, check_case

REGEN = os.environ.get("PREFLIGHT_REGEN_GOLDEN") == "1"


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.name)
def test_golden(case: Case, tmp_path: Path) -> None:
    roots = case.build(tmp_path)
    report = check_case(case, roots)
    plan = plan_fixes(report, case.policy)
    got = {(c.host, c.path): c.new.encode() for c in plan.effective}
    if REGEN:
        for (role, path), data in got.items():
            dest = case.dir / "expected" / role / path.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
    expected = case.expected()
    assert sorted(got) == sorted(expected), "\n".join(r for c in plan.changes for r in c.reasons)
    for key, data in expected.items():
        assert got[key] == data, f"{key}: fixed text differs from the golden file"
    assert validate(report, plan, predict(report, plan)) == {}

    # Idempotence: write the fix into the roots, inspect again, nothing left to change.
    targets = {role: Target(role, "image", str(root), str(root)) for role, root in roots.items()}
    write_all([(targets[c.host], c) for c in plan.effective])
    again = plan_fixes(check_case(case, roots), case.policy)
    assert again.effective == [], [(c.host, c.path) for c in again.effective]
