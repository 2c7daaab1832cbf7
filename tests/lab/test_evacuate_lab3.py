"""Issue 11 "Done when", second case, in the three-host lab: host1 is drained to TWO destinations.

`preflight evacuate local --to ssh://root@host2 ssh://root@host3` runs inside host1 with five guests:
three plain ones (a disk on the shared store), one with a NIC on a bridge only host3 has (so it can
go to host3 and not host2: NET004 on host2), one with a NIC on a bridge neither destination has (fits
nowhere), and one shut off (left in place). The printed plan's `virsh migrate` commands run for real,
wave by wave; every guest the plan placed must land and run on the destination the plan chose, the
plan must use both destinations, and the refused guest's real migration must fail to each of them.
The same drain with the destinations taken from an Ansible inventory group (`--to-group`), its plan
printed as a shell script and run as it is with sh.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import threading
import time

import pytest

from .conftest import note
from .files import HOSTS, HOSTS3, SHARED_DIR, etc_hosts, guest_xml
from .lab import BRIDGE, Lab

pytestmark = pytest.mark.lab

DESTS = ("host2", "host3")
ONLY_HOST3 = "br-h3"  # on host1 (the guest runs there) and host3
ONLY_HOST1 = "br-h1"  # on host1 only: the guest on it fits nowhere
PLAIN = ["g1", "g2", "g3"]
INVENTORY = "[drain]\nhost2 ansible_user=root\nhost3 ansible_user=root\n\n[other]\nhost1\n"


def nic(bridge: str) -> str:
    return f"    <interface type='bridge'><source bridge='{bridge}'/><model type='virtio'/></interface>\n"


def bridges(lab: Lab, present: bool) -> None:
    wanted = {"host1": (ONLY_HOST3, ONLY_HOST1), "host2": (), "host3": (ONLY_HOST3,)}
    for host, names in wanted.items():
        for br in (ONLY_HOST3, ONLY_HOST1):
            lab.exec(host, f"ip link del {br} 2>/dev/null; true")
        if present:
            for br in names:
                lab.exec(host, f"ip link add {br} type bridge && ip link set {br} up", check=True)


def define_with_nic(lab: Lab, name: str, bridge: str) -> None:
    xml = guest_xml(name, f"{SHARED_DIR}/{name}.qcow2").replace("    <controller", nic(bridge) + "    <controller", 1)
    lab.exec("host1", f"qemu-img create -q -f qcow2 {SHARED_DIR}/{name}.qcow2 16M", check=True)
    lab.write_file("host1", f"/run/lab/{name}.xml", xml)
    lab.exec("host1", f"virsh -q define /run/lab/{name}.xml && virsh -q start {name}", check=True, timeout=60)


def setup_guests(lab: Lab) -> None:
    bridges(lab, True)
    for g in PLAIN:
        lab.define_guest("host1", g, disk=("shared", f"{g}.qcow2"))
    define_with_nic(lab, "gh3", ONLY_HOST3)
    define_with_nic(lab, "gnowhere", ONLY_HOST1)
    lab.define_guest("host1", "goff", disk=("shared", "goff.qcow2"), start=False)


def evacuate(lab: Lab, *args: str) -> tuple[int, dict]:
    t0 = time.monotonic()
    out = lab.exec("host1", shlex.join(["preflight", "evacuate", "local", *args, "--format", "json",
                                        "--timeout", "5"]), timeout=120)
    note("evacuate 3 hosts (in host1, wall)", time.monotonic() - t0)
    assert out.returncode in (0, 1, 3), f"preflight evacuate failed: rc={out.returncode}\n{out.stderr}"
    report = json.loads(out.stdout)
    assert report["exit_code"] == out.returncode
    return out.returncode, report


def run_plan(lab: Lab, report: dict) -> dict[str, subprocess.CompletedProcess[str]]:
    """Each wave's commands at once, as printed (argv), inside host1; the next wave after it ended."""
    results: dict[str, subprocess.CompletedProcess[str]] = {}
    t0 = time.monotonic()
    for wave in report["waves"]:
        def one(move: dict) -> None:
            results[move["guest"]] = lab.exec("host1", move["argv"], timeout=90)

        threads = [threading.Thread(target=one, args=(m,)) for m in wave["migrations"]]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    note("drain to 2 destinations (plan run)", time.monotonic() - t0)
    return results


def dest_hosts(report: dict) -> dict[str, str]:
    """dest1/dest2 -> the lab host its DESTURI names."""
    out = {}
    for d in report["destinations"]:
        (host,) = [h for h in DESTS if f"@{h}/" in d["dest_uri"] or f"//{h}/" in d["dest_uri"]]
        out[d["name"]] = host
    return out


def check_drain(lab: Lab, code: int, report: dict) -> None:
    assert code == 1 and report["verdict"] == "not-ready", report["unplaced"]
    assert [g["guest"] for g in report["source"]["not_running"]] == ["goff"]
    hosts = dest_hosts(report)
    assert sorted(hosts.values()) == list(DESTS)
    placed = {g: hosts[d] for g, d in report["placement"].items()}
    assert sorted(placed) == sorted([*PLAIN, "gh3"]), report["unplaced"]
    assert placed["gh3"] == "host3"
    assert set(placed.values()) == set(DESTS), placed  # the plan used both destinations
    refusals = {r["dest"]: r for r in report["unplaced"]["gnowhere"]}
    assert sorted(hosts[d] for d in refusals) == list(DESTS)
    assert all("NET004" in r["rules"] and r["definite"] for r in refusals.values()), refusals
    # the moves name the destination the placement chose
    moves = {m["guest"]: m for w in report["waves"] for m in w["migrations"]}
    assert {g: hosts[m["dest"]] for g, m in moves.items()} == placed

    results = run_plan(lab, report)
    failed = {g: r.stderr.strip() for g, r in results.items() if r.returncode}
    assert not failed, failed
    check_landed(lab, placed)


def check_landed(lab: Lab, placed: dict[str, str]) -> None:
    """Every placed guest runs on its destination only; the refused guest fails for real to each one."""
    for g, host in placed.items():
        other = next(h for h in DESTS if h != host)
        states = (lab.domstate(host, g), lab.domstate("host1", g), lab.domstate(other, g))
        assert states[0] == "running" and states[1] in ("shut off", "") and states[2] == "", (g, host, states)

    for host in DESTS:  # the refused guest's real migration fails to each destination
        (refused,) = lab.migrate(["gnowhere"], dest_uri=f"qemu+ssh://root@{host}/system", timeout=60)
        assert not refused.ok, f"gnowhere migrated to {host} after all"
        assert ONLY_HOST1 in refused.first_error_line, refused.first_error_line  # "Cannot get interface MTU"
        assert lab.domstate(host, "gnowhere") == ""
    assert lab.domstate("host1", "gnowhere") == "running"
    assert lab.domstate("host1", "goff") == "shut off"


def test_three_hosts_are_up_distinct_and_reach_each_other_over_the_bridge(lab3: Lab) -> None:
    uuids = set()
    for h in HOSTS3:
        routes = lab3.exec(h, "ip route; ip -6 route", check=True).stdout
        assert "default" not in routes and "198.18.0.0/24" in routes  # no route out: only the lab's subnet
        out = lab3.exec(h, "hostname; ip -4 -o addr show dev eth0; cat /etc/hosts; "
                           f"findmnt -n -o FSTYPE {SHARED_DIR}; virsh -q -c qemu:///system capabilities", check=True)
        text = out.stdout
        assert text.splitlines()[0] == h and f"inet {lab3.host_addr(h)}/24" in text
        assert etc_hosts(HOSTS3) in text and "fuse.glusterfs" in text
        assert f"<uuid>{lab3.host_uuid(h)}</uuid>" in text
        uuids.add(lab3.host_uuid(h))
        for other in HOSTS3:  # ssh by key, host key known, by short name, FQDN and address
            for name in (other, lab3.hostname(other), lab3.host_addr(other)):
                got = lab3.exec(h, ["ssh", name, "hostname"], timeout=30)
                assert got.stdout.strip() == other, (h, name, got.stderr)
    assert len(uuids) == 3
    ports = lab3.exec("host1", f"ip -o link show master {BRIDGE}", check=True).stdout
    assert all(f"{BRIDGE}-{h}" in ports for h in HOSTS3)
    assert lab3.exec("host2", "ip link show " + BRIDGE).returncode != 0  # the bridge is host1's only
    lab3.write_file("host2", f"{SHARED_DIR}/probe3", "from host2\n")
    assert lab3.read_file("host3", f"{SHARED_DIR}/probe3") == "from host2\n"
    assert etc_hosts() == etc_hosts(HOSTS) and "host3" not in etc_hosts()  # the two-host lab's is unchanged
    with pytest.raises(ValueError):
        Lab("/nonexistent", hosts=("host1", "host3"))


def test_drain_host1_to_two_destinations_following_the_plan(lab3: Lab) -> None:
    setup_guests(lab3)
    try:
        code, report = evacuate(lab3, "--to", "ssh://root@host2", "ssh://root@host3")
        assert [d["dest_uri"] for d in report["destinations"]] == [f"qemu+ssh://root@{h}/system" for h in DESTS]
        assert all(d["ssh_connections"] == 1 for d in report["destinations"])  # each gathered once
        check_drain(lab3, code, report)
    finally:
        bridges(lab3, False)


def test_drain_to_an_inventory_group_by_running_the_printed_script(lab3: Lab) -> None:
    """`--to-group drain -i INVENTORY`, text format: the printed plan is run as it is, with sh, in host1."""
    setup_guests(lab3)
    lab3.write_file("host1", "/root/inventory.ini", INVENTORY)
    try:
        t0 = time.monotonic()
        out = lab3.exec("host1", "preflight evacuate local --to-group drain -i /root/inventory.ini --timeout 5 "
                                 "> /root/plan.sh", timeout=120)
        note("evacuate 3 hosts (in host1, wall)", time.monotonic() - t0)
        assert out.returncode == 1, out.stderr  # gnowhere fits nowhere: NOT READY
        script = lab3.read_file("host1", "/root/plan.sh")
        assert "dest1 (host2: ssh://root@host2)" in script and "dest2 (host3: ssh://root@host3)" in script, script
        moves = [shlex.split(line[:-2]) for line in script.splitlines() if line.startswith("virsh ")]
        assert all(line.endswith(" &") for line in script.splitlines() if line.startswith("virsh "))
        placed = {argv[-2]: argv[-1].split("//")[1].split("/")[0] for argv in moves}
        assert sorted(placed) == sorted([*PLAIN, "gh3"]) and placed["gh3"] == "host3", script
        assert set(placed.values()) == set(DESTS), script  # both destinations used
        nowhere = script.split("# guests that fit nowhere:")[1]
        assert "gnowhere" in nowhere and nowhere.count("NET004") == 2, nowhere
        t0 = time.monotonic()
        ran = lab3.exec("host1", ["sh", "-e", "/root/plan.sh"], timeout=180)
        note("drain to 2 destinations (plan run)", time.monotonic() - t0)
        assert ran.returncode == 0 and "error" not in ran.stderr, ran.stderr
        check_landed(lab3, placed)
    finally:
        bridges(lab3, False)
