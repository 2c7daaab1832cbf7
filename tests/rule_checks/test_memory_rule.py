"""GST009 memory-on-dest (issue 8 item 5): fact fixtures for each condition, and real node memory facts
from a real libvirtd on this machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from preflight.engine import Report, Verdict, evaluate
from preflight.model import probes as P
from preflight.model.facts import HostMode, HostSnapshot, LibvirtFacts, MemoryFact
from preflight.model.findings import Severity, Status
from preflight.model.plan import MigrationPlan
from preflight.rules import select
from preflight.view.memory import GIB, MIB, guest_memory, overhead, scaled
from tests.rule_checks.factory import baseline, guest, of, statuses

MOUNTS = "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
HUGETLBFS_2M = "30 22 0:30 / /dev/hugepages rw,relatime shared:13 - hugetlbfs hugetlbfs rw,pagesize=2M\n"
HUGETLBFS_1G = "31 22 0:31 / /dev/hugepages1G rw,relatime - hugetlbfs hugetlbfs rw,pagesize=1024M\n"


def xml(name: str = "g1", mem: str = "<currentMemory unit='KiB'>1048576</currentMemory>", backing: str = "") -> str:
    return (f"<domain type='kvm' id='1'><name>{name}</name><memory unit='KiB'>4194304</memory>{mem}{backing}"
            "<os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type></os><devices/></domain>")


def hosts(xmls: list[str], memory: MemoryFact | None, mountinfo: str = MOUNTS) -> tuple[HostSnapshot, HostSnapshot]:
    src, dst = baseline()
    src.guests = [guest(name=f"g{i + 1}", uuid=f"{i + 1:08d}-1111-1111-1111-111111111111", xml=x)
                  for i, x in enumerate(xmls)]
    dst.cmds[P.MOUNTINFO] = mountinfo
    s, d = src.build(), dst.build()
    assert d.libvirt is not None
    d.libvirt.memory = memory
    return s, d


def report(s: HostSnapshot, d: HostSnapshot, n: int = 1, all_running: bool = False) -> Report:
    plan = MigrationPlan(guests=[] if all_running else [f"g{i + 1}" for i in range(n)],
                         dest_uri="qemu+ssh://host2.example.com/system", live=True, all_running=all_running)
    return evaluate(plan, s, d, select(["GST009"]))  # the verdict is GST009's alone


def mem(available: int | None = 64 * GIB, free: int | None = 60 * GIB, total: int = 128 * GIB,
        pages: dict[str, int] | None = None) -> MemoryFact:
    return MemoryFact(total=total, free=free, available=available, free_pages=pages or {})


# --- units and the guest's side ------------------------------------------------------------------
@pytest.mark.parametrize(("value", "unit", "want"), [
    ("1048576", None, GIB), ("1048576", "KiB", GIB), ("1024", "MiB", GIB), ("1", "G", GIB), ("1", "GiB", GIB),
    ("1", "GB", 10**9), ("1000", "KB", 10**6), ("1073741824", "b", GIB), ("2", "T", 2 * 1024 * GIB),
    ("1.5", "GiB", None), ("64", "furlongs", None), ("", "KiB", None),
])
def test_scaled_follows_libvirts_units(value: str, unit: str | None, want: int | None) -> None:
    assert scaled(value, unit) == want


def test_current_memory_counts_not_the_maximum() -> None:
    got = guest_memory(guest(xml=xml(mem="<currentMemory unit='MiB'>512</currentMemory>"))).get()
    assert (got.memory, got.element) == (512 * MIB, "currentMemory")  # <memory> says 4 GiB
    only_max = guest_memory(guest(xml=xml(mem=""))).get()
    assert (only_max.memory, only_max.element) == (4 * GIB, "memory")


# --- ordinary memory -------------------------------------------------------------------------------
def test_enough_memory_passes_and_says_what_judged() -> None:
    r = report(*hosts([xml()], mem()))
    [f] = of(r, "GST009")
    assert f.status is Status.PASS and "judged from the destination's libvirt node memory" in f.message
    assert f.evidence["needed"] == GIB + overhead(GIB) and f.evidence["available"] == 64 * GIB


def test_every_planned_guest_counts_each_alone_would_fit() -> None:
    three = [xml(f"g{i}", "<currentMemory unit='GiB'>2</currentMemory>") for i in (1, 2, 3)]
    r = report(*hosts(three, mem(available=5 * GIB, total=8 * GIB)), n=3)
    [f] = of(r, "GST009")
    assert f.status is Status.FAIL and f.severity is Severity.ERROR and "3 guest(s)" in f.message
    assert "short" in f.message and r.verdict == Verdict.NOT_READY
    one = report(*hosts(three, mem(available=5 * GIB, total=8 * GIB)), n=1)
    assert statuses(one, "GST009") == {Status.PASS}


def test_all_running_counts_every_running_guest() -> None:
    three = [xml(f"g{i}", "<currentMemory unit='GiB'>2</currentMemory>") for i in (1, 2, 3)]
    r = report(*hosts(three, mem(available=5 * GIB, total=8 * GIB)), all_running=True)
    [f] = of(r, "GST009")
    assert f.status is Status.FAIL and "3 guest(s)" in f.message


def test_little_left_is_a_warning() -> None:
    # 1 GiB guest + its overhead on a host with 1.5 GiB usable: fits, with under 512 MiB left
    r = report(*hosts([xml()], mem(available=GIB + overhead(GIB) + 300 * MIB, total=4 * GIB)))
    [f] = of(r, "GST009")
    assert f.status is Status.FAIL and f.severity is Severity.WARNING and "left" in f.message
    assert r.verdict == Verdict.READY


def test_free_memory_is_used_when_the_stats_failed_and_says_so() -> None:
    r = report(*hosts([xml()], mem(available=None, free=GIB)))
    [f] = of(r, "GST009")
    assert f.status is Status.FAIL and "page cache not counted" in f.message


@pytest.mark.parametrize("memory", [None, MemoryFact(total=None, free=None, available=None)])
def test_memory_facts_missing_is_unknown(memory: MemoryFact | None) -> None:
    r = report(*hosts([xml()], memory))
    assert statuses(r, "GST009") == {Status.UNKNOWN} and r.verdict != Verdict.READY


def test_a_guest_without_a_size_is_unknown_never_counted_as_zero() -> None:
    r = report(*hosts(["<domain type='kvm'><name>g1</name><devices/></domain>"], mem()))
    assert statuses(r, "GST009") == {Status.UNKNOWN}


def test_test_driver_and_image_root_destinations_skip() -> None:
    s, d = hosts([xml()], mem())
    assert d.libvirt is not None
    d.libvirt.uri = "test:///default"
    assert statuses(report(s, d), "GST009") == {Status.SKIP}
    s, d = hosts([xml()], mem())
    d.mode = HostMode.IMAGE
    assert statuses(report(s, d), "GST009") == {Status.SKIP}


# --- huge pages ------------------------------------------------------------------------------------
HUGE = "<memoryBacking><hugepages/></memoryBacking>"
HUGE_1G = "<memoryBacking><hugepages><page size='1' unit='GiB'/></hugepages></memoryBacking>"


def test_hugepage_guest_without_free_pages_fails() -> None:
    # 1 GiB of 2 MiB pages = 512 pages; 100 free. Ordinary memory is plenty: only the overhead counts there.
    r = report(*hosts([xml(backing=HUGE)], mem(pages={"2048": 100, "1048576": 0}), MOUNTS + HUGETLBFS_2M))
    fails = [f for f in of(r, "GST009") if f.status is Status.FAIL]
    assert len(fails) == 1 and "512 huge pages of 2048 KiB needed, 100 free" in fails[0].message
    assert "nr_hugepages" in (fails[0].remediation or "") and r.verdict == Verdict.NOT_READY
    ordinary = [f for f in of(r, "GST009") if f.subject is None]
    assert ordinary[0].status is Status.PASS and ordinary[0].evidence["guest_memory"] == 0


def test_hugepage_guest_with_free_pages_passes() -> None:
    r = report(*hosts([xml(backing=HUGE)], mem(pages={"2048": 512}), MOUNTS + HUGETLBFS_2M))
    assert statuses(r, "GST009") == {Status.PASS}


def test_explicit_1g_pages_need_1g_pages_and_their_mount() -> None:
    r = report(*hosts([xml(backing=HUGE_1G)], mem(pages={"2048": 100000, "1048576": 1}),
                      MOUNTS + HUGETLBFS_2M + HUGETLBFS_1G))
    assert statuses(r, "GST009") == {Status.PASS}
    r = report(*hosts([xml(backing=HUGE_1G)], mem(pages={"2048": 100000, "1048576": 0}),
                      MOUNTS + HUGETLBFS_2M + HUGETLBFS_1G))
    assert Status.FAIL in statuses(r, "GST009")
    r = report(*hosts([xml(backing=HUGE_1G)], mem(pages={"2048": 100000, "1048576": 4}), MOUNTS + HUGETLBFS_2M))
    [f] = [f for f in of(r, "GST009") if f.status is Status.FAIL]
    assert "no hugetlbfs of that size" in f.message


def test_no_hugetlbfs_mounted_fails_as_libvirt_would() -> None:
    r = report(*hosts([xml(backing=HUGE)], mem(pages={"2048": 4096})))
    [f] = [f for f in of(r, "GST009") if f.status is Status.FAIL]
    assert "hugetlbfs filesystem is not mounted" in f.message


def test_default_page_size_not_known_is_unknown() -> None:
    r = report(*hosts([xml(backing=HUGE)], mem(pages={"2048": 4096, "1048576": 4}),
                      MOUNTS + HUGETLBFS_2M + HUGETLBFS_1G))
    assert Status.UNKNOWN in statuses(r, "GST009") and r.verdict != Verdict.READY


def test_hugepages_of_several_guests_add_up() -> None:
    two = [xml(f"g{i}", "<currentMemory unit='MiB'>512</currentMemory>", HUGE) for i in (1, 2)]
    r = report(*hosts(two, mem(pages={"2048": 300}), MOUNTS + HUGETLBFS_2M), n=2)
    [f] = [f for f in of(r, "GST009") if f.status is Status.FAIL]
    assert "512 huge pages" in f.message and f.subject == "g1, g2"


# --- real facts: this machine's libvirtd answers the node memory calls read-only --------------------
def test_real_libvirtd_memory_facts_judge_a_guest_too_big(tmp_path: Path) -> None:
    from preflight.gather.libvirt_facts import gather_libvirt
    from tests.support.libvirtd_server import start_libvirtd

    with start_libvirtd(tmp_path) as lv:
        facts: LibvirtFacts = gather_libvirt(lv.ro_uri)
    assert facts.ok and facts.memory is not None and facts.memory.available, facts.errors
    assert facts.capabilities and "<pages unit='KiB' size='2048'" in facts.capabilities
    have = facts.memory.available
    src, dst = baseline()
    src.guests = [guest(xml=xml(mem=f"<currentMemory unit='KiB'>{(have + GIB) // 1024}</currentMemory>"))]
    dst.cmds[P.MOUNTINFO] = MOUNTS
    s, d = src.build(), dst.build()
    real = LibvirtFacts(**{**facts.__dict__, "uri": "qemu+ssh://root@host2.example.com/system"})
    d.libvirt = real
    [f] = of(report(s, d), "GST009")
    assert f.status is Status.FAIL and f.evidence["available"] == have
    src.guests = [guest(xml=xml(mem="<currentMemory unit='MiB'>64</currentMemory>"))]
    [f] = of(report(src.build(), d), "GST009")
    assert f.status in (Status.PASS, Status.FAIL) and f.evidence["needed"] == 64 * MIB + overhead(64 * MIB)
    assert f.status is Status.PASS or f.severity is Severity.WARNING


def test_offline_migration_needs_no_memory_on_the_destination() -> None:
    s, d = hosts([xml(mem="<currentMemory unit='GiB'>100</currentMemory>")], mem())
    plan = MigrationPlan(guests=["g1"], dest_uri="qemu+ssh://host2.example.com/system", offline=True)
    assert statuses(evaluate(plan, s, d, select(["GST009"])), "GST009") == {Status.SKIP}
    assert statuses(report(s, d), "GST009") == {Status.FAIL}
