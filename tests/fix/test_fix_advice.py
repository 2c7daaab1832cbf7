"""SSH001's advice and the sshd fix name the same MaxStartups value (view.sshd.max_startups_target)."""

from __future__ import annotations

import re

import pytest

from preflight.engine import evaluate
from preflight.fix.planner import plan_fixes
from preflight.model import probes as P
from preflight.model.findings import Status
from preflight.model.plan import MigrationPlan
from tests.rule_checks.factory import baseline


@pytest.mark.parametrize("n", [3, 12, 99])
def test_advice_and_fix_agree(n: int) -> None:
    src, dst = baseline()
    dst.cmds[P.SSHD_T] = None  # judged on the file, which the fix edits
    dst.files[P.SSHD_CONFIG] = "MaxStartups 2:30:10\n"
    plan = MigrationPlan(guests=["g1"], dest_uri="qemu+ssh://host2.example.com/system", live=True, concurrency=n)
    report = evaluate(plan, src.build(), dst.build())
    ssh001 = next(f for f in report.findings if f.rule == "SSH001")
    assert ssh001.status is Status.FAIL
    advised = re.search(r"'MaxStartups ([0-9:]+)'", ssh001.remediation or "")
    assert advised is not None
    change = next(c for c in plan_fixes(report).changes if c.path == P.SSHD_CONFIG)
    written = re.search(r"^MaxStartups ([0-9:]+)$", change.new, re.M)
    assert written is not None and written.group(1) == advised.group(1)  # n=99: both 100:30:100 (cap)
