"""NET006 on fact fixtures (issue 7 item 5): the migration port range holds N, and the firewall accepts all of it."""

from __future__ import annotations

import pytest

from preflight.engine import Verdict
from preflight.model import probes as P
from preflight.model.findings import Status
from preflight.model.plan import MigrationPlan
from tests.rule_checks.factory import baseline, of, run, statuses

DEST = "qemu+ssh://host2.example.com/system"
# The classic RHEL iptables: only 49152 was opened for migration, everything else rejected.
ONLY_FIRST_PORT = ("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT\n"
                   "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n-A INPUT -p tcp -m tcp --dport 49152 -j ACCEPT\n"
                   "-A INPUT -j REJECT --reject-with icmp-host-prohibited\nCOMMIT\n")


def plan(n: int, **kw: object) -> MigrationPlan:
    return MigrationPlan(guests=["g1"], dest_uri=DEST, live=True, concurrency=n, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("conf,n,storage,ok", [
    ("", 64, False, True),  # 49152-49215 holds 64
    ("", 65, False, False),
    ("", 32, True, True),  # two ports each with --copy-storage-all (NBD from the same range)
    ("", 33, True, False),
    ("migration_port_min = 49152\nmigration_port_max = 49153\n", 2, False, True),  # inclusive: 2 ports
    ("migration_port_min = 49152\nmigration_port_max = 49153\n", 3, False, False),  # measured in the lab
    ("migration_port_min = 49152\nmigration_port_max = 49153\n", 1, True, True),
    ("migration_port_min = 49152\nmigration_port_max = 49153\n", 2, True, False),  # measured: both fail
    ("migration_port_min = 50000\nmigration_port_max = 50003\n", 4, False, True),
])
def test_net006_range_holds_n(conf: str, n: int, storage: bool, ok: bool) -> None:
    src, dst = baseline()
    dst.files[P.QEMU_CONF] = conf
    report = run(src, dst, plan(n, copy_storage_all=storage))
    range_findings = [f for f in of(report, "NET006") if "range" in f.evidence]
    assert range_findings[0].status is (Status.PASS if ok else Status.FAIL), range_findings[0].message
    if not ok:
        assert report.verdict == Verdict.NOT_READY
        assert "migration_port_max" in (range_findings[0].remediation or "")


@pytest.mark.parametrize("conf", ["migration_port_min = 49152\nmigration_port_max = 49152\n",
                                  "migration_port_min = 49300\n"])  # above the default max
def test_net006_range_libvirt_refuses_fails(conf: str) -> None:
    """libvirt: 'start port 49152 must be less than end port 49152', the QEMU driver does not start (measured)."""
    src, dst = baseline()
    dst.files[P.QEMU_CONF] = conf
    [bad] = of(run(src, dst, plan(1)), "NET006")
    assert bad.status is Status.FAIL and "must be less than end port" in bad.message
    assert "migration_port_max" in (bad.remediation or "")


def test_net006_reads_only_the_destinations_range() -> None:
    src, dst = baseline()
    src.files[P.QEMU_CONF] = "migration_port_min = 49152\nmigration_port_max = 49152\n"
    assert statuses(run(src, dst, plan(2)), "NET006") == {Status.PASS}


def test_net006_firewall_accepting_only_the_first_port_fails_for_two_while_net005_passes() -> None:
    src, dst = baseline()
    dst.cmds[P.IPTABLES] = ONLY_FIRST_PORT
    report = run(src, dst, plan(2))
    assert statuses(report, "NET005") == {Status.PASS}  # the first port alone is open
    [bad] = [f for f in of(report, "NET006") if f.status is Status.FAIL]
    assert "rejects TCP 49153" in bad.message and "49152-49153" in (bad.remediation or "")
    assert statuses(run(src, dst, plan(1)), "NET006") == {Status.PASS}  # one migration needs one port


def test_net006_storage_copy_needs_the_second_port_through_the_firewall() -> None:
    src, dst = baseline()
    dst.cmds[P.IPTABLES] = ONLY_FIRST_PORT
    report = run(src, dst, plan(1, copy_storage_all=True))
    assert Status.FAIL in statuses(report, "NET006") and "49153" in " ".join(f.message for f in of(report, "NET006"))


def test_net006_whole_range_accepted_passes() -> None:
    src, dst = baseline()
    dst.cmds[P.IPTABLES] = ONLY_FIRST_PORT.replace("--dport 49152 ", "--dport 49152:49215 ")
    assert statuses(run(src, dst, plan(64)), "NET006") == {Status.PASS}


def test_net006_unreadable_qemu_conf_is_unknown_and_tunnelled_skips() -> None:
    src, dst = baseline()
    dst.cmds[P.IPTABLES] = None
    assert Status.UNKNOWN in statuses(run(src, dst, plan(2)), "NET006")
    tunnelled = MigrationPlan(guests=["g1"], dest_uri=DEST, live=True, p2p=True, tunnelled=True, concurrency=2)
    assert statuses(run(src, dst, tunnelled), "NET006") == {Status.SKIP}
    dst.cmds[P.IPTABLES] = ONLY_FIRST_PORT
    del dst.files[P.QEMU_CONF]  # not gathered
    assert statuses(run(src, dst, plan(2)), "NET006") == {Status.UNKNOWN}
