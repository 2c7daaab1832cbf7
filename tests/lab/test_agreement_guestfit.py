"""Agreement scenarios for the guest's fit on the destination (issue 8 items 4 and 5: GST008, GST009).

- CPU: the lab's two hosts are one machine, one CPU: a mismatch cannot be built here (GST008's failing
  cases are proven on this machine's real capabilities XML, edited, in tests/rule_checks/test_cpu_rule.py).
  The healthy twins are: a `type='kvm'` guest with `<cpu mode='host-passthrough'/>`, and one with
  `host-model` (its live XML carries the expanded custom model, judged with host2's own CPU map); both
  migrate, and GST008 passes on the facts gathered over real ssh.
- Memory: the hosts share the machine's memory (24 GiB here), so a guest larger than free memory is not
  built (it would starve everything else). Huge pages are buildable: the machine's 2 MiB pool is sized
  for the scenario (vm.nr_hugepages, restored after), hugetlbfs is mounted in each host's own mount
  namespace (/run/hugepages; libvirtd restarted to see it) and g1 becomes a 64 MiB guest backed by huge
  pages (32 pages). With 32 pages in the pool, g1 takes them all on host1 and host2 has none left: the
  migration fails and GST009 must say so. With 64, 32 stay free and it migrates.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .agreement import ROWS
from .files import SHARED_DIR, guest_xml
from .lab import Lab
from .test_agreement import Scenario, run_scenario

pytestmark = pytest.mark.lab

NR_HUGEPAGES = Path("/proc/sys/vm/nr_hugepages")  # the machine's default-size (2 MiB) pool: global
HUGE_MOUNT = "/run/hugepages"  # per lab host (/run is each host's own)
HUGE_BACKING = "  <memoryBacking><hugepages/></memoryBacking>\n"


def redefine_g1(lab: Lab, edit: Callable[[str], str], tag: str) -> str:
    """g1 (defined and started by the scenario as a TCG guest) redefined with edit(xml) and started on host1;
    returns its live XML."""
    xml = guest_xml("g1", f"{SHARED_DIR}/g1.qcow2")
    lab.exec("host1", "virsh -q destroy g1; virsh -q undefine g1", timeout=30)
    lab.write_file("host1", f"/run/lab/g1-{tag}.xml", edit(xml))
    lab.exec("host1", f"virsh -q define /run/lab/g1-{tag}.xml && virsh -q start g1", check=True, timeout=60)
    return lab.virsh("host1", "dumpxml", "g1").stdout


def kvm_cpu(mode: str) -> Callable[[Lab], None]:
    def fault(lab: Lab) -> None:
        def edit(xml: str) -> str:
            assert "<domain type='qemu'>" in xml and "  <vcpu>1</vcpu>\n" in xml
            return (xml.replace("<domain type='qemu'>", "<domain type='kvm'>")
                    .replace("  <vcpu>1</vcpu>\n", f"  <vcpu>1</vcpu>\n  <cpu mode='{mode}'/>\n"))

        live = redefine_g1(lab, edit, mode)
        assert "<domain type='kvm'" in live, live[:200]
        if mode == "host-model":  # the running guest's live XML: expanded into a custom model
            assert "<cpu mode='custom'" in live and "<model fallback='forbid'>" in live, live
    return fault


def hugepage_guest(pool: int) -> Callable[[Lab], None]:
    """A pool of `pool` 2 MiB pages on the machine, hugetlbfs in both hosts, g1 backed by 32 of them."""
    def fault(lab: Lab) -> None:
        NR_HUGEPAGES.write_text(f"{pool}\n")
        assert int(NR_HUGEPAGES.read_text()) == pool, "could not reserve the huge pages"
        for host in lab.hosts:
            lab.exec(host, f"mkdir -p {HUGE_MOUNT} && mount -t hugetlbfs -o pagesize=2M hugetlbfs {HUGE_MOUNT}",
                     check=True)
            lab.restart_daemon(host, "libvirtd")  # libvirt finds hugetlbfs mounts when it starts
        live = redefine_g1(lab, lambda xml: xml.replace("  <vcpu>1</vcpu>\n", HUGE_BACKING + "  <vcpu>1</vcpu>\n"),
                           "huge")
        assert "<hugepages/>" in live, live
    return fault


@pytest.fixture
def hugepages_restored(lab: Lab) -> Iterator[None]:
    before = NR_HUGEPAGES.read_text()
    try:
        yield
    finally:
        for host in lab.hosts:  # guests first: pages in use would stay reserved
            lab.exec(host, "for g in $(virsh -q list --name); do virsh -q destroy $g; done", timeout=60)
            lab.exec(host, f"umount {HUGE_MOUNT} 2>/dev/null; true")
        NR_HUGEPAGES.write_text(before)


CPU_SCENARIOS = [
    Scenario("kvm host-passthrough guest, same CPU on both", kvm_cpu("host-passthrough")),
    Scenario("kvm host-model guest, same CPU on both", kvm_cpu("host-model")),
]
HUGE_SCENARIOS = [
    (Scenario("hugepage guest, dest has no free 2 MiB pages", hugepage_guest(32), expect=("GST009",)),
     "Cannot allocate memory"),
    (Scenario("hugepage guest, 32 free 2 MiB pages on dest", hugepage_guest(64)), ""),
]


def gst_findings(lab: Lab, rule: str) -> dict:
    out = lab.exec("host1", f"preflight check --live g1 qemu+ssh://host2/system --format json --select {rule}",
                   timeout=120)
    return json.loads(out.stdout)


@pytest.mark.parametrize("sc", CPU_SCENARIOS, ids=[s.name for s in CPU_SCENARIOS])
def test_cpu_prediction_agrees_with_real_migration(lab: Lab, sc: Scenario) -> None:
    run_scenario(lab, sc)
    assert ROWS[-1].outcome == "all migrations succeeded", ROWS[-1].outcome


@pytest.mark.parametrize("mode", ["host-passthrough", "host-model"])
def test_healthy_kvm_cpu_is_judged_by_gst008_on_real_facts(lab: Lab, mode: str) -> None:
    """The READY above is GST008's pass, not its absence: judged on host2's capabilities (and CPU map)."""
    lab.define_guest("host1", "g1", disk=("shared", "g1.qcow2"))
    kvm_cpu(mode)(lab)
    report = gst_findings(lab, "GST008")
    [f] = [f for f in report["findings"] if f["rule"] == "GST008"]
    assert report["verdict"] == "ready" and f["status"] == "pass", report["findings"]
    method = ("both hosts' capabilities XML" if mode == "host-passthrough"
              else "capabilities XML and its libvirt CPU map")
    assert method in f["message"], f["message"]


@pytest.mark.parametrize(("sc", "error"), HUGE_SCENARIOS, ids=[s.name for s, _ in HUGE_SCENARIOS])
def test_hugepage_prediction_agrees_with_real_migration(lab: Lab, hugepages_restored: None, sc: Scenario,
                                                        error: str) -> None:
    run_scenario(lab, sc)
    outcome = ROWS[-1].outcome
    assert (error in outcome) if error else outcome == "all migrations succeeded", outcome
