"""Issue 11 item 2 in the two-host lab: `preflight fleet` runs inside host1 with an inventory of
host1 (ansible_connection=local) and host2 (over real ssh), gathers each host once, and its pair
verdicts agree with `preflight check` for the same pair and with the real `virsh migrate`.

Baseline: host1 -> host2 READY and g1 migrates. Fault: host2's libvirtd stopped: host1 -> host2
NOT READY with DMN001 (exit 1), and the real migration fails.
"""

from __future__ import annotations

import json
import shlex

import pytest

from .lab import Lab

pytestmark = pytest.mark.lab

INVENTORY = """\
[kvm]
host1 ansible_connection=local
host2 ansible_user=root
"""


def fleet(lab: Lab) -> tuple[int, dict]:
    lab.write_file("host1", "/root/fleet.ini", INVENTORY)
    out = lab.exec("host1", shlex.join(["preflight", "fleet", "-i", "/root/fleet.ini", "--format", "json",
                                        "--timeout", "5"]), timeout=120)
    assert out.returncode in (0, 1, 3), f"preflight fleet failed: rc={out.returncode}\n{out.stderr}"
    report = json.loads(out.stdout)
    assert report["exit_code"] == out.returncode
    return out.returncode, report


def check(lab: Lab, guest: str) -> dict:
    out = lab.exec("host1", shlex.join(["preflight", "check", "--live", guest, "qemu+ssh://host2/system",
                                        "--format", "json", "--timeout", "5"]), timeout=120)
    assert out.returncode in (0, 1, 3), out.stderr
    return json.loads(out.stdout)


def errors(findings: list[dict]) -> list[str]:
    return sorted({f["rule"] for f in findings if f["status"] == "fail" and f["severity"] == "error"})


def pairs_of(report: dict) -> dict[tuple[str, str], dict]:
    return {(p["source"], p["destination"]): p for p in report["pairs"]}


def test_fleet_baseline_ready_and_the_migration_lands(lab: Lab) -> None:
    lab.define_guest("host1", "g1", disk=("shared", "g1.qcow2"))
    code, report = fleet(lab)
    pairs = pairs_of(report)
    there = pairs[("host1", "host2")]
    assert there["plan"]["guests"] == ["g1"] and there["plan"]["dest_uri"] == "qemu+ssh://host2/system"
    assert there["verdict"] == "ready", there
    assert pairs[("host2", "host1")]["verdict"] == "ready", pairs[("host2", "host1")]
    assert code == 0, report
    # each host gathered once: host2 is one ssh connection (libvirt and the script ride it)
    assert report["hosts"]["host2"]["ssh_connections"] == 1
    assert report["hosts"]["host1"]["status"] == report["hosts"]["host2"]["status"] == "gathered"
    theirs = check(lab, "g1")
    assert theirs["verdict"] == there["verdict"] and errors(theirs["findings"]) == there["failing_rules"]
    outcome = lab.migrate(["g1"])
    assert all(o.ok for o in outcome), outcome


def test_fleet_dest_libvirtd_stopped_is_not_ready_with_dmn001(lab: Lab) -> None:
    lab.define_guest("host1", "g1", disk=("shared", "g1.qcow2"))
    lab.stop_daemon("host2", "libvirtd")
    code, report = fleet(lab)
    there = pairs_of(report)[("host1", "host2")]
    assert there["verdict"] == "not-ready" and "DMN001" in there["failing_rules"], there
    assert code == 1
    assert pairs_of(report)[("host2", "host1")]["verdict"] != "ready"  # host2's guests cannot be listed
    theirs = check(lab, "g1")
    assert theirs["verdict"] == "not-ready" and errors(theirs["findings"]) == there["failing_rules"]
    outcome = lab.migrate(["g1"], timeout=60)
    assert not any(o.ok for o in outcome), outcome
