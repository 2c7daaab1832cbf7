"""Agreement scenarios for what libvirt refuses to migrate (issue 8 item 6, GST010), both ways.

Each fault changes the running guest g1 on host1 (its disk on the shared store): an ivshmem
``<shmem>`` in peer mode (QEMU's blocker, which libvirt 9.0 reports: "cannot migrate domain: Migration
is disabled when using feature 'peer mode' in device 'ivshmem'") and its healthy twin with
role='master'; an internal qcow2 snapshot ("cannot migrate domain with 1 snapshots") and its twin
with libvirt's snapshot metadata deleted (the snapshot stays inside the image); a block copy left
mirroring ("domain has active block job") and its twin with the job aborted. Host devices (GST004)
need hardware the lab has not: they are judged on fact fixtures (tests/rule_checks/test_migration_blockers.py).
"""

from __future__ import annotations

import pytest

from .files import LOCAL_DIR, SHARED_DIR, guest_xml
from .lab import Lab
from .test_agreement import Scenario, run_scenario

pytestmark = pytest.mark.lab

SHMEM = "    <shmem name='lab_shmem0'{role}><model type='ivshmem-plain'/><size unit='M'>4</size></shmem>\n"


def _redefine_g1(lab: Lab, devices: str) -> None:
    """g1 again, running, with extra devices before its controllers."""
    xml = guest_xml("g1", f"{SHARED_DIR}/g1.qcow2").replace("    <controller", devices + "    <controller", 1)
    lab.exec("host1", "virsh -q destroy g1; virsh -q undefine g1", timeout=30)
    lab.write_file("host1", "/run/lab/g1-dev.xml", xml)
    lab.exec("host1", "virsh -q define /run/lab/g1-dev.xml && virsh -q start g1", check=True, timeout=60)


def shmem(role: str):  # type: ignore[no-untyped-def]
    def fault(lab: Lab) -> None:
        _redefine_g1(lab, SHMEM.format(role=f" role='{role}'" if role else ""))
    return fault


def internal_snapshot(lab: Lab) -> None:
    lab.exec("host1", "virsh -q snapshot-create-as g1 lab-snap", check=True, timeout=120)


def snapshot_metadata_deleted(lab: Lab) -> None:
    internal_snapshot(lab)
    # libvirt forgets it; the internal snapshot stays inside the qcow2 (redefinable on the destination)
    lab.exec("host1", "virsh -q snapshot-delete g1 lab-snap --metadata", check=True, timeout=60)
    out = lab.exec("host1", f"qemu-img snapshot -U -l {SHARED_DIR}/g1.qcow2", check=True)
    assert "lab-snap" in out.stdout, out.stdout


def _job_info(lab: Lab) -> str:
    out = lab.exec("host1", "virsh blockjob g1 vda --info", check=True)
    return out.stdout + out.stderr  # virsh prints the progress line on stderr


def block_copy_running(lab: Lab) -> None:
    # without --wait/--pivot the copy stays in its mirroring (ready) phase: an active block job
    lab.exec("host1", f"virsh -q blockcopy g1 vda {LOCAL_DIR}/g1-copy.qcow2 --transient-job", check=True, timeout=60)
    assert "Block Copy" in _job_info(lab)


def block_copy_aborted(lab: Lab) -> None:
    block_copy_running(lab)
    lab.exec("host1", "virsh -q blockjob g1 vda --abort", check=True, timeout=60)
    assert "Block Copy" not in _job_info(lab)


SCENARIOS = [
    Scenario("guest with an ivshmem shmem in peer mode", shmem(""), expect=("GST010",)),
    Scenario("guest with an ivshmem shmem, role='master'", shmem("master")),
    Scenario("guest with an internal snapshot", internal_snapshot, expect=("GST010",)),
    Scenario("guest whose snapshot metadata was deleted (--metadata)", snapshot_metadata_deleted),
    Scenario("guest with a block copy still mirroring", block_copy_running, expect=("GST010",)),
    Scenario("guest whose block copy was aborted", block_copy_aborted),
]


@pytest.mark.parametrize("sc", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_blocker_prediction_agrees_with_real_migration(lab: Lab, sc: Scenario) -> None:
    run_scenario(lab, sc)
