"""Benchmark of `preflight fleet` (issue 11 items 2 and 4): not a timed test.

    .venv/bin/python -m benchmarks.bench_fleet [--runs 5] [--hosts 200] [--group 20] [--no-lab]

1. lab: in the two-host lab (real sshd, real libvirtd; taken under the pytest lab's lock, torn down at
   the end), from INSIDE host1: `preflight fleet` over an inventory of host1 (local) and host2 (ssh)
   with guest g1 running on host1, against `preflight check --live g1 qemu+ssh://host2/system` (the
   same two hosts, one pair): wall time (median of --runs, interleaved), and the JSON's ssh
   connections per host.
2. synthetic: N image-root hosts (copies of the example's two roots, /etc/hosts naming every host) in
   groups of G, through the whole CLI in a fresh process (`fleet -i INV --format json -o FILE`):
   wall time, peak RSS (the child's ru_maxrss), pairs judged; then the judging alone in this process
   (judge_pairs + lint_hosts on the gathered snapshots): pairs judged per second.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOP = Path(__file__).resolve().parents[1]
EXAMPLES = TOP / "examples"


def synthetic_inventory(work: Path, hosts: int, group: int) -> Path:
    names = [f"kvm{i:03d}.example.com" for i in range(hosts)]
    for h in ("host1", "host2"):
        shutil.copytree(EXAMPLES / h, work / h)
        with open(work / h / "etc/hosts", "a") as f:
            f.writelines(f"10.1.{i // 250}.{i % 250 + 1}\t{n}\n" for i, n in enumerate(names))
    lines = []
    for g in range(0, hosts, group):
        lines.append(f"[rack{g // group:02d}]")
        for i in range(g, min(g + group, hosts)):
            root = "host1" if i % 2 == 0 else "host2"
            lines.append(f"{names[i]} preflight_root={root} preflight_libvirt=test://{EXAMPLES}/{root}.xml")
    inv = work / "fleet.ini"
    inv.write_text("\n".join(lines) + "\n")
    return inv


def bench_synthetic(hosts: int, group: int, runs: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
        work = Path(tmp)
        inv = synthetic_inventory(work, hosts, group)
        walls, rss = [], []
        data: dict = {}
        for _ in range(runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            t0 = time.perf_counter()
            out = subprocess.run([sys.executable, "-m", "preflight.cli", "fleet", "-i", str(inv), "--format", "json",
                                  "-o", str(work / "out.json"), "--forks", "8"], capture_output=True, text=True,
                                 cwd=TOP, check=False)
            walls.append(time.perf_counter() - t0)
            rss.append(max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
            assert out.returncode in (0, 1, 3), out.stderr
            data = json.loads((work / "out.json").read_text())
        judged = judge_only(inv)
    return {"hosts": hosts, "group": group, "pairs": len(data["pairs"]), "verdict": data["verdict"],
            "wall_s_median": round(statistics.median(walls), 3), "wall_s_best": round(min(walls), 3),
            "peak_rss_mib": round(max(rss) / 1024, 1), **judged}


def judge_only(inv: Path) -> dict[str, object]:
    """Gather once (image roots), then time the judging alone: pairs/s and host lints/s."""
    from preflight.access import AccessOptions
    from preflight.fleet import hosts as fleet_hosts
    from preflight.fleet.inventory import load
    from preflight.fleet.judge import judge_pairs, lint_hosts
    from preflight.fleet.pairs import PlanFlags, ordered_pairs, pairing_groups
    from preflight.fleet.run import FleetGather

    model = load(str(inv))
    names = list(model.hosts)
    built = {n: fleet_hosts.build(model, n, AccessOptions()) for n in names}
    pairs = ordered_pairs(model, names, pairing_groups(model, None))
    gather = FleetGather(built, list(pairs), PlanFlags(), 8)
    t0 = time.perf_counter()
    gather.run()
    gathered = time.perf_counter() - t0
    t0 = time.perf_counter()
    judged = judge_pairs(built, gather.snapshots, pairs, PlanFlags())
    pairs_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    lint_hosts(built, gather.snapshots, pairs, PlanFlags())
    lint_s = time.perf_counter() - t0
    return {"gather_s_in_process": round(gathered, 3), "judge_pairs_s": round(pairs_s, 3),
            "pairs_per_s": round(len(judged) / pairs_s, 1), "lint_hosts_s": round(lint_s, 3),
            "lints_per_s": round(len(names) / lint_s, 1)}


INVENTORY = "[kvm]\nhost1 ansible_connection=local\nhost2 ansible_user=root\n"


def bench_lab(runs: int) -> dict[str, object]:
    from tests.lab.conftest import TEST_DIR
    from tests.lab.lab import Lab, missing_prerequisites

    why = missing_prerequisites()
    if why:
        return {"skipped": "; ".join(why)}
    TEST_DIR.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{TEST_DIR}.lock", "w") as lock:  # the pytest lab's lock: one lab on 198.18.0.0/24 at a time
        fcntl.flock(lock, fcntl.LOCK_EX)
        lab = Lab(TEST_DIR)
        try:
            if not lab.up():
                lab.reset()
            lab.define_guest("host1", "g1", disk=("shared", "g1.qcow2"))
            lab.write_file("host1", "/root/fleet.ini", INVENTORY)
            cmds = {
                "fleet": ["preflight", "fleet", "-i", "/root/fleet.ini", "--format", "json", "-q"],
                "check": ["preflight", "check", "--live", "g1", "qemu+ssh://host2/system", "--format", "json",
                          "-q"],
            }
            times: dict[str, list[float]] = {k: [] for k in cmds}
            last: dict[str, dict] = {}
            for _ in range(runs):
                for name, argv in cmds.items():
                    script = ("t0=$(date +%s%N); " + shlex.join(argv) + " > /root/out.json; rc=$?; "
                              "t1=$(date +%s%N); echo $rc $(( (t1 - t0) / 1000 ))")
                    out = lab.exec("host1", script, timeout=120)
                    rc, micros = out.stdout.split()
                    times[name].append(int(micros) / 1e6)
                    last[name] = json.loads(lab.read_file("host1", "/root/out.json"))
            fleet = last["fleet"]
            return {
                "runs": runs,
                "fleet_s_median": round(statistics.median(times["fleet"]), 3),
                "check_s_median": round(statistics.median(times["check"]), 3),
                "fleet_over_check": round(statistics.median(times["fleet"]) / statistics.median(times["check"]), 2),
                "fleet_pairs": {f"{p['source']}->{p['destination']}": p["verdict"] for p in fleet["pairs"]},
                "ssh_connections": {h: v["ssh_connections"] for h, v in fleet["hosts"].items()},
                "gather_seconds": {h: v["gather_seconds"] for h, v in fleet["hosts"].items()},
                "check_verdict": last["check"]["verdict"],
            }
        finally:
            lab.down()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--hosts", type=int, default=200)
    ap.add_argument("--group", type=int, default=20)
    ap.add_argument("--no-lab", action="store_true")
    args = ap.parse_args()
    os.chdir(TOP)
    out: dict[str, object] = {"synthetic": bench_synthetic(args.hosts, args.group, max(1, args.runs // 2))}
    print(json.dumps(out, indent=2), flush=True)
    if not args.no_lab:
        out["lab"] = bench_lab(args.runs)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
