"""Issue 11 item 1 in the two-host lab: `preflight evacuate local --to ssh://root@host2` runs inside
host1, its printed plan's `virsh migrate` commands are run for real, wave by wave, and every guest the
plan placed lands on host2 and runs; a guest it refused (a NIC on a bridge host2 lacks: NET004) is one
whose real migration fails.

The two-destination drain, with a third lab host, is tests/lab/test_evacuate_lab3.py.
Here a second destination that cannot be inspected (a name host1 cannot resolve: no packet leaves) is
excluded and reported while host2 takes every guest; two inspected destinations are covered offline
(tests/evacuate/).
"""

from __future__ import annotations

import json
import shlex
import subprocess
import threading
import time

import pytest

from .conftest import note
from .files import SHARED_DIR, guest_xml
from .lab import Lab

pytestmark = pytest.mark.lab

DEST = "ssh://root@host2"
DEST_URI = "qemu+ssh://root@host2/system"
BRIDGE_NIC = "    <interface type='bridge'><source bridge='br-lab'/><model type='virtio'/></interface>\n"


def evacuate(lab: Lab, *more: str) -> tuple[int, dict]:
    t0 = time.monotonic()
    out = lab.exec("host1", shlex.join(["preflight", "evacuate", "local", "--to", DEST, *more, "--format", "json",
                                        "--timeout", "5"]), timeout=120)
    note("evacuate (in host1, wall)", time.monotonic() - t0)
    assert out.returncode in (0, 1, 3), f"preflight evacuate failed: rc={out.returncode}\n{out.stderr}"
    report = json.loads(out.stdout)
    assert report["exit_code"] == out.returncode
    return out.returncode, report


def run_plan(lab: Lab, report: dict) -> dict[str, subprocess.CompletedProcess[str]]:
    """Each wave's commands at once, as printed (argv), inside host1; the next wave after it ended."""
    results: dict[str, subprocess.CompletedProcess[str]] = {}
    for wave in report["waves"]:
        def one(move: dict) -> None:
            results[move["guest"]] = lab.exec("host1", move["argv"], timeout=90)

        threads = [threading.Thread(target=one, args=(m,)) for m in wave["migrations"]]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return results


def landed(lab: Lab, guest: str) -> bool:
    return lab.domstate("host2", guest) == "running" and lab.domstate("host1", guest) in ("shut off", "")


def test_evacuate_three_guests_then_run_the_plan_every_guest_lands(lab: Lab) -> None:
    guests = ["g1", "g2", "g3"]
    for g in guests:
        lab.define_guest("host1", g, disk=("shared", f"{g}.qcow2"))
    code, report = evacuate(lab)
    assert code == 0 and report["verdict"] == "ready", report["unplaced"]
    assert sorted(report["placement"]) == guests and set(report["placement"].values()) == {"dest1"}
    (dest,) = report["destinations"]
    assert dest["dest_uri"] == DEST_URI and dest["ssh_connections"] == 1  # gathered once, one master
    assert dest["concurrency"] == 3  # the lab's default limits hold 3 at once: one wave
    assert [len(w["migrations"]) for w in report["waves"]] == [3]
    results = run_plan(lab, report)
    failed = {g: r.stderr.strip() for g, r in results.items() if r.returncode}
    assert not failed, failed
    assert all(landed(lab, g) for g in guests), {g: lab.domstate("host2", g) for g in guests}


def test_evacuate_waves_follow_max_startups_and_still_land(lab: Lab) -> None:
    guests = ["g1", "g2", "g3"]
    for g in guests:
        lab.define_guest("host1", g, disk=("shared", f"{g}.qcow2"))
    conf = lab.read_file("host2", "/etc/ssh/sshd_config")
    lab.write_file("host2", "/etc/ssh/sshd_config", conf + "MaxStartups 2\n")
    lab.restart_daemon("host2", "sshd")
    code, report = evacuate(lab)
    assert code == 0, report["unplaced"]
    (dest,) = report["destinations"]
    assert dest["concurrency"] == 2 and dest["concurrency_why"].startswith("SSH001"), dest
    assert [len(w["migrations"]) for w in report["waves"]] == [2, 1]
    results = run_plan(lab, report)
    assert all(r.returncode == 0 for r in results.values()), {g: r.stderr for g, r in results.items()}
    assert all(landed(lab, g) for g in guests)


def test_evacuate_refuses_the_guest_on_a_missing_bridge_and_its_real_migration_fails(lab: Lab) -> None:
    for g in ("g1", "g2"):
        lab.define_guest("host1", g, disk=("shared", f"{g}.qcow2"))
    lab.exec("host2", "ip link del br-lab 2>/dev/null; true")
    lab.exec("host1", "ip link del br-lab 2>/dev/null; ip link add br-lab type bridge && ip link set br-lab up",
             check=True)
    try:
        xml = guest_xml("gnic", f"{SHARED_DIR}/gnic.qcow2")
        xml = xml.replace("    <controller", BRIDGE_NIC + "    <controller", 1)
        lab.exec("host1", f"qemu-img create -q -f qcow2 {SHARED_DIR}/gnic.qcow2 16M", check=True)
        lab.write_file("host1", "/run/lab/gnic.xml", xml)
        lab.exec("host1", "virsh -q define /run/lab/gnic.xml && virsh -q start gnic", check=True, timeout=60)
        code, report = evacuate(lab)
        assert code == 1 and report["verdict"] == "not-ready"
        assert sorted(report["placement"]) == ["g1", "g2"]
        (reason,) = report["unplaced"]["gnic"]
        assert "NET004" in reason["rules"] and reason["definite"], reason
        results = run_plan(lab, report)
        assert all(r.returncode == 0 for r in results.values()), {g: r.stderr for g, r in results.items()}
        assert landed(lab, "g1") and landed(lab, "g2")
        (refused,) = lab.migrate(["gnic"], dest_uri=DEST_URI, timeout=60)
        assert not refused.ok, "the refused guest migrated after all"
        assert lab.domstate("host2", "gnic") != "running"
    finally:
        lab.exec("host1", "ip link del br-lab 2>/dev/null; true")


def test_evacuate_to_two_destinations_one_not_inspected(lab: Lab) -> None:
    for g in ("g1", "g2"):
        lab.define_guest("host1", g, disk=("shared", f"{g}.qcow2"))
    code, report = evacuate(lab, "ssh://root@host3")  # no such host in the lab: ssh cannot resolve it
    first, second = report["destinations"]
    assert first["inspected"] and not second["inspected"] and second["excluded"], second
    assert "resolve" in (second["reason"] or "").lower(), second
    assert code == 0 and set(report["placement"].values()) == {"dest1"}, report["unplaced"]
    results = run_plan(lab, report)
    assert all(r.returncode == 0 for r in results.values()), {g: r.stderr for g, r in results.items()}
    assert landed(lab, "g1") and landed(lab, "g2")
