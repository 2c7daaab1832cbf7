"""The limits fix writes every judged daemon's file (modular hosts: virtqemud.conf and virtproxyd.conf),
each with its own virt-admin URI and restart; a monolithic host keeps its one libvirtd.conf change."""

from __future__ import annotations

from preflight.engine import evaluate
from preflight.fix.planner import plan_fixes, predict
from preflight.fix.validate import validate
from preflight.model import probes as P
from preflight.model.findings import Status
from preflight.model.plan import MigrationPlan
from tests.rule_checks.factory import baseline, modular

TCP = MigrationPlan(guests=["g1"], dest_uri="qemu+tcp://host2.example.com/system", live=True, concurrency=8)


def _modular_report():  # type: ignore[no-untyped-def]
    src, dst = baseline()
    modular(dst)
    dst.files[P.VIRTQEMUD_CONF] = "max_clients = 2\nmax_workers = 2\n"
    dst.files[P.VIRTPROXYD_CONF] = "max_clients = 3\nmax_workers = 3\n"
    return evaluate(TCP, src.build(), dst.build())


def test_each_judged_daemon_file_is_fixed() -> None:
    report = _modular_report()
    failing = {(f.rule, f.evidence.get("daemon")) for f in report.findings if f.status is Status.FAIL}
    assert ("LIM001", "virtproxyd") in failing and ("LIM001", "virtqemud") in failing
    plan = plan_fixes(report)
    by_path = {c.path: c for c in plan.changes if c.host == "destination"}
    # before: only virtqemud.conf (daemon_conf_path, the first judged daemon) was written
    assert {P.VIRTQEMUD_CONF, P.VIRTPROXYD_CONF} <= set(by_path)
    for daemon, path in (("virtqemud", P.VIRTQEMUD_CONF), ("virtproxyd", P.VIRTPROXYD_CONF)):
        change = by_path[path]
        assert change.service == f"systemctl restart {daemon}"
        assert change.live_commands and all(cmd.startswith(f"virt-admin -c {daemon}:///system ")
                                            for cmd in change.live_commands)
        assert not {"max_clients = 2", "max_clients = 3"} & set(change.new.splitlines())
    after = predict(report, plan)
    assert not [f for f in after.findings if f.rule == "LIM001" and f.status is Status.FAIL
                and f.host.value == "destination"]
    assert validate(report, plan, after) == {}


def test_monolithic_host_keeps_one_change() -> None:
    src, dst = baseline()
    dst.files[P.LIBVIRTD_CONF] = "max_clients = 2\n"
    report = evaluate(TCP, src.build(), dst.build())
    changes = [c for c in plan_fixes(report).changes if c.host == "destination"]
    assert [c.path for c in changes] == [P.LIBVIRTD_CONF]
    assert all(cmd.startswith("virt-admin -c libvirtd:///system ") for cmd in changes[0].live_commands)
