"""Issue 11 item 2: each host gathered once with what its peers need (the disks and names a pair's
rules read), steps run in dependency order; judging stops cleanly on Ctrl-C (item 5)."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from preflight.access import AccessOptions
from preflight.fleet import hosts as fleet_hosts
from preflight.fleet.inventory import load
from preflight.fleet.judge import judge_pairs
from preflight.fleet.pairs import PlanFlags, ordered_pairs, pairing_groups
from preflight.fleet.run import FleetGather, _Steps

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DISK = "cmd:path:/var/lib/libvirt/images/guest1-rhel6-64.qcow2"


def gathered(tmp_path: Path, text: str) -> tuple[dict, dict, dict]:
    for h in ("host1", "host2"):
        shutil.copytree(EXAMPLES / h, tmp_path / h)
    inv = tmp_path / "hosts"
    inv.write_text(text.format(ex=EXAMPLES))
    model = load(str(inv))
    names = list(model.hosts)
    built = {n: fleet_hosts.build(model, n, AccessOptions()) for n in names}
    pairs = ordered_pairs(model, names, pairing_groups(model, None))
    gather = FleetGather(built, list(pairs), PlanFlags(), 2)
    assert gather.run()
    return built, pairs, gather.snapshots


def test_a_destination_gathers_its_senders_disks_and_a_source_its_destinations_names(tmp_path: Path) -> None:
    _, _, snaps = gathered(tmp_path, "[kvm]\n"
                           "a.example.com preflight_root=host1 preflight_libvirt=test://{ex}/host1.xml\n"
                           "b.example.com preflight_root=host2 preflight_libvirt=test://{ex}/host2.xml\n"
                           "[other]\nc.example.com preflight_root=host2\n")
    assert DISK in snaps["a.example.com"].probes  # its own guest's disk
    assert DISK in snaps["b.example.com"].probes  # the disk of the guest a would send it
    assert DISK not in snaps["c.example.com"].probes  # not a's peer: nothing of a's is looked at there
    assert "cmd:getent:b.example.com" in snaps["a.example.com"].probes
    assert "cmd:getent:a.example.com" in snaps["b.example.com"].probes
    assert not any(k.startswith("cmd:getent:") for k in snaps["c.example.com"].probes)  # alone in its group


def test_steps_wait_for_their_dependencies_and_prefer_later_phases() -> None:
    order: list[str] = []
    lock = threading.Lock()

    def step(name: str):  # type: ignore[no-untyped-def]
        def run() -> None:
            with lock:
                order.append(name)
        return run

    steps = _Steps(1, threading.Event())
    steps.add("A1", 2, step("A1"), [])
    steps.add("A2", 2, step("A2"), [])
    steps.add("A3", 2, step("A3"), [])
    steps.add("B1", 1, step("B1"), ["A1", "A2"])
    steps.add("C1", 0, step("C1"), ["B1"])
    assert steps.run()
    assert order.index("B1") > max(order.index("A1"), order.index("A2"))
    assert order.index("C1") > order.index("B1")
    assert order.index("C1") < order.index("A3")  # a ready later phase runs before a new host starts


def test_a_failing_step_does_not_stall_the_run() -> None:
    ran: list[str] = []

    def boom() -> None:
        raise RuntimeError("bug")

    steps = _Steps(2, threading.Event())
    steps.add("A", 0, boom, [])
    steps.add("B", 0, lambda: ran.append("B"), ["A"])
    assert steps.run() and ran == ["B"]


def test_cancelled_judging_leaves_the_rest_unknown(tmp_path: Path) -> None:
    built, pairs, snaps = gathered(tmp_path, "[kvm]\n"
                                   "a.example.com preflight_root=host1 preflight_libvirt=test://{ex}/host1.xml\n"
                                   "b.example.com preflight_root=host2 preflight_libvirt=test://{ex}/host2.xml\n")
    cancel = threading.Event()
    cancel.set()
    judged = judge_pairs(built, snaps, pairs, PlanFlags(), cancel=cancel)
    assert [p.verdict for p in judged] == ["unknown", "unknown"]
    assert all("interrupted" in p.reason and p.report is None for p in judged)
    assert {p.verdict for p in judge_pairs(built, snaps, pairs, PlanFlags())} == {"not-ready"}  # NET001: names
