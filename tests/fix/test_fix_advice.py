"""SSH001's advice and the sshd fix name the same MaxStartups value (view.sshd.max_startups_target)."""

from __future__ import annotations

import re

import pytest

from preflight.engine import evaluate
from preflight.fix.planner import plan_fixes
from preflight.model import probes as P
from preflight.model.findings import Status
from preflight.model.plan import MigrationPlan
from tests.rule_checks.factory import DST_ADDR, baseline


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


def _plan(n: int = 12) -> MigrationPlan:
    return MigrationPlan(guests=["g1"], dest_uri="qemu+ssh://host2.example.com/system", live=True, concurrency=n)


def test_per_source_advice_and_fix_agree_without_evidence() -> None:
    """SSH002's advice and the fix name one value (view.sshd.per_source_target); the fixer reads the
    current value from the view, not from the finding's evidence dict."""
    src, dst = baseline()
    dst.cmds[P.SSHD_T] = None
    dst.files[P.SSHD_CONFIG] = "PerSourceMaxStartups 2\n"
    report = evaluate(_plan(6), src.build(), dst.build())
    ssh002 = next(f for f in report.findings if f.rule == "SSH002")
    assert ssh002.status is Status.FAIL
    advised = re.search(r"'PerSourceMaxStartups ([0-9]+)'", ssh002.remediation or "")
    ssh002.evidence.clear()  # a fixer that read evidence["value"] would now say '? -> ...'
    change = next(c for c in plan_fixes(report).changes if c.path == P.SSHD_CONFIG)
    written = re.search(r"^PerSourceMaxStartups ([0-9]+)$", change.new, re.M)
    assert advised is not None and written is not None and written.group(1) == advised.group(1)
    assert any(r.startswith(f"PerSourceMaxStartups 2 -> {written.group(1)}:") for r in change.reasons)


def test_limits_advice_names_the_written_size() -> None:
    """LIM001/LIM002/LIM003 advise the T the limits fix writes (view.daemons.limits_target), also when a
    file value (max_workers, max_anonymous_clients) lifts T above the plan's recommended size."""
    src, dst = baseline()
    dst.files[P.LIBVIRTD_CONF] = "max_clients = 10\nmax_workers = 60\n"
    src.files[P.LIBVIRTD_CONF] = "max_workers = 3\nmax_anonymous_clients = 50\n"
    report = evaluate(_plan(12), src.build(), dst.build())
    plan = plan_fixes(report)
    for rule, role, key, expected in (("LIM001", "destination", "max_clients", "60"),
                                      ("LIM003", "destination", "max_clients", "60"),
                                      ("LIM002", "source", "max_workers", "50")):
        finding = next(f for f in report.findings if f.rule == rule and f.host.value == role)
        assert finding.status is Status.FAIL, rule
        advised = re.search(rf"(?:{key} =|both to) ([0-9]+)", finding.remediation or "")
        change = next(c for c in plan.changes if c.host == role and c.path == P.LIBVIRTD_CONF)
        written = re.search(rf"^{key} = ([0-9]+)$", change.new, re.M)
        assert advised is not None and written is not None, (rule, finding.remediation, change.new)
        assert advised.group(1) == written.group(1) == expected, rule


def test_net001_advice_names_the_address_the_fix_writes() -> None:
    """NET001's advice and the hosts fix choose the address in one place (view.names.dest_address): here
    the destination's own /etc/hosts entry, not merely its first IPv4 address."""
    src, dst = baseline()
    other = "10.9.9.9"
    dst.cmds[P.ADDRESSES] = (f"1: lo    inet 127.0.0.1/8 scope host lo\n2: eth0    inet {DST_ADDR}/24 scope "
                             f"global eth0\n3: eth1    inet {other}/24 scope global eth1\n")
    dst.files[P.ETC_HOSTS] = f"127.0.0.1 localhost\n{other} host2.example.com host2\n"
    src.cmds[P.getent_key("host2.example.com")] = "127.0.0.1      STREAM host2.example.com\n"
    report = evaluate(_plan(), src.build(), dst.build())
    net001 = [f for f in report.findings if f.rule == "NET001" and f.status is Status.FAIL]
    assert net001
    change = next(c for c in plan_fixes(report).changes if c.path == P.ETC_HOSTS)
    assert f"{other}\thost2.example.com" in change.new or re.search(rf"^{other}\s+host2\.example\.com", change.new,
                                                                    re.M)
    for f in net001:
        assert f"add to /etc/hosts:  {other}  " in (f.remediation or ""), f.remediation
