"""200 hosts gathered over real ssh and judged (issue 11 item 4): `preflight fleet`, wall time and peak RSS.

    .venv/bin/python -m benchmarks.bench_fleet200 [--hosts 200] [--group 20] [--forks 8 [16 ...]] [--runs 1]

The endpoints: one lab (tests/lab: namespaces, 198.18.0.x, no route out) in its own state directory
($PREFLIGHT_LAB_FLEET_DIR, default /run/preflight-lab-fleet200, so the pytest lab is not touched), and in
lab host1 N extra real sshd processes, one per port (BASE_PORT + i), all in host1's one network namespace:
a namespace per host would cost a PID 1, a veth, bind mounts and a libvirtd each, which 2 cores and this
machine's memory cannot hold 200 times. Every endpoint is a real sshd with real key authentication, and
each one's libvirt (qemu+ssh riding preflight's master) reaches host1's one real libvirtd: 1 libvirt daemon
serves the 200 endpoints. Because the 200 "hosts" are one machine, their facts are the same (same host
UUID, same names): pairs are NOT READY (NET003 and friends), which is not what is measured; the work per
host and per pair is the real one.

Run from lab host2 (its own namespace, like an operator's machine): `preflight fleet -i INVENTORY
--format json -o FILE -q --forks F` under /usr/bin/time (wall, peak RSS of the preflight process), then
the same inventory judged again from the snapshots saved by `--save-facts` (`--facts DIR`: no host
contacted) to separate gathering from judging. The sshd processes are ended by their PIDs (pidfiles),
then the lab is taken down.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.lab.lab import Lab, missing_prerequisites  # noqa: E402

STATE_DIR = os.environ.get("PREFLIGHT_LAB_FLEET_DIR", "/run/preflight-lab-fleet200")
BASE_PORT = 22000
PID_DIR = "/run/fleet200"  # host1's own tmpfs /run
INVENTORY = "/root/fleet200.ini"
FACTS = "/run/fleet200-facts"  # host2's own tmpfs /run


def log(msg: str) -> None:
    print(f"[fleet200 {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def start_endpoints(lab: Lab, n: int) -> list[int]:
    """N sshd in host1 on BASE_PORT.. (the lab's config, -p PORT, own pidfile); their PIDs in host1."""
    script = (f"mkdir -p {PID_DIR} && i=0; while [ $i -lt {n} ]; do p=$(({BASE_PORT} + i)); "
              f"/usr/sbin/sshd -f /etc/ssh/sshd_config -p $p -o PidFile={PID_DIR}/$p.pid "
              "-o MaxStartups=100:30:200 || exit 1; i=$((i + 1)); done; "
              f"sleep 0.5; cat {PID_DIR}/*.pid")
    out = lab.exec("host1", script, timeout=300, check=True)
    pids = [int(x) for x in out.stdout.split()]
    if len(pids) != n:
        raise RuntimeError(f"started {len(pids)} sshd of {n}")
    return pids


def stop_endpoints(lab: Lab, pids: list[int]) -> None:
    """End exactly the sshd listeners this benchmark started (PIDs inside host1's PID namespace)."""
    for i in range(0, len(pids), 100):
        lab.exec("host1", ["kill", *map(str, pids[i:i + 100])], timeout=60)


def endpoint_cpu(lab: Lab, pids: list[int]) -> float:
    """CPU seconds the endpoints' side has used so far: the sshd listeners' reaped children (every
    session, gather.sh and virt-ssh-helper under them: cutime + cstime) plus host1's libvirtd."""
    script = ("t=0; for p in " + " ".join(map(str, pids)) + " $(pidof libvirtd); do "
              "set -- $(sed 's/.*) //' /proc/$p/stat); t=$((t + ${12} + ${13} + ${14} + ${15})); done; "
              "echo $t $(getconf CLK_TCK)")
    ticks, hz = lab.exec("host1", script, timeout=60, check=True).stdout.split()
    return int(ticks) / int(hz)


def trust_endpoints(lab: Lab, n: int) -> None:
    """host2 trusts host1's host key on every port (known_hosts: [addr]:port), as for port 22."""
    key = lab.read_file("host1", "/etc/ssh/ssh_host_ed25519_key.pub").split()[:2]
    addr = lab.host_addr("host1")
    lines = "".join(f"[{addr}]:{BASE_PORT + i} {key[0]} {key[1]}\n" for i in range(n))
    lab.exec("host2", "cat >> /root/.ssh/known_hosts", input=lines, check=True)


def inventory(lab: Lab, n: int, group: int) -> str:
    addr = lab.host_addr("host1")
    lines = []
    for g in range(0, n, group):
        lines.append(f"[rack{g // group:02d}]")
        lines += [f"kvm{i:03d} ansible_host={addr} ansible_port={BASE_PORT + i} ansible_user=root"
                  for i in range(g, min(g + group, n))]
    return "\n".join(lines) + "\n"


def timed_fleet(lab: Lab, args: list[str]) -> dict[str, Any]:
    """`preflight fleet ARGS` inside host2 under /usr/bin/time: wall seconds, peak RSS, CPU, exit code."""
    script = ("/usr/bin/time -f 'TIME %e %M %U %S' preflight fleet " + " ".join(args)
              + " >/root/fleet200.out 2>/root/fleet200.err; echo RC $?; tail -n 1 /root/fleet200.err")
    out = lab.exec("host2", script, timeout=900)
    rc = int(out.stdout.split("RC ", 1)[1].split()[0])
    _, wall, rss, user, system = next(line for line in out.stdout.splitlines() if line.startswith("TIME ")).split()
    # CPU of preflight and the children it waited for (ssh sessions, not the daemonized masters)
    return {"rc": rc, "wall_s": float(wall), "peak_rss_mib": round(int(rss) / 1024, 1),
            "controller_cpu_s": round(float(user) + float(system), 2)}


def summary(report: dict[str, Any]) -> dict[str, Any]:
    hosts = report.get("hosts", {})
    seconds = [h.get("gather_seconds") or 0 for h in hosts.values()]
    return {
        "hosts": len(hosts),
        "gathered": sum(1 for h in hosts.values() if h.get("status") == "gathered"),
        "failed": sorted({str(h.get("reason")) for h in hosts.values() if h.get("status") != "gathered"})[:3],
        "pair_verdicts": report.get("counts", {}).get("pairs"),
        "fleet_seconds": report.get("seconds"),
        "ssh_connections": sum(h.get("ssh_connections") or 0 for h in hosts.values()),
        "pairs": len(report.get("pairs", [])),
        "verdict": report.get("verdict"),
        "gather_seconds_per_host_median": round(statistics.median(seconds), 3) if seconds else None,
    }


def run(n: int, group: int, forks: list[int], runs: int) -> dict[str, Any]:
    lab = Lab(state_dir=STATE_DIR)
    data: dict[str, Any] = {"hosts": n, "group": group, "state_dir": STATE_DIR, "libvirt_daemons": 1,
                            "load_before": os.getloadavg()}
    pids: list[int] = []
    try:
        log(f"lab up in {STATE_DIR}")
        if not lab.up():
            lab.reset()
        log(f"{n} sshd endpoints in host1")
        t0 = time.monotonic()
        pids = start_endpoints(lab, n)
        data["endpoints_start_s"] = round(time.monotonic() - t0, 2)
        trust_endpoints(lab, n)
        lab.write_file("host2", INVENTORY, inventory(lab, n, group))
        rss = lab.exec("host1", f"ps -o rss= -p {','.join(map(str, pids[:20]))}").stdout.split()
        data["sshd_listener_rss_kib_median"] = statistics.median(int(x) for x in rss) if rss else None
        results: dict[str, list[dict[str, Any]]] = {}
        for r in range(runs):
            for f in forks:
                key = f"gather+judge --forks {f}"
                before = endpoint_cpu(lab, pids)
                res = timed_fleet(lab, ["-i", INVENTORY, "--format", "json", "-o", "/root/fleet200.json", "-q",
                                        "--forks", str(f), "--save-facts", FACTS])
                res["endpoints_cpu_s"] = round(endpoint_cpu(lab, pids) - before, 2)
                res.update(summary(json.loads(lab.read_file("host2", "/root/fleet200.json"))))
                results.setdefault(key, []).append(res)
                log(f"run {r + 1}: {key}: {res}")
            judge = timed_fleet(lab, ["-i", INVENTORY, "--format", "json", "-o", "/root/fleet200-judge.json", "-q",
                                      "--facts", FACTS])
            judge.update(summary(json.loads(lab.read_file("host2", "/root/fleet200-judge.json"))))
            results.setdefault("judge only (--facts)", []).append(judge)
            log(f"run {r + 1}: judge only: {judge}")
        data["results"] = results
    finally:
        if pids:
            log(f"ending the {len(pids)} sshd this benchmark started")
            try:
                stop_endpoints(lab, pids)
            except Exception as exc:  # noqa: BLE001 - the lab's teardown ends them anyway
                log(f"could not end them one by one ({exc}); the lab's teardown ends its PID namespace")
        log("lab down")
        lab.down()
    data["load_after"] = os.getloadavg()
    return data


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_fleet200", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=200)
    ap.add_argument("--group", type=int, default=20)
    ap.add_argument("--forks", type=int, nargs="+", default=[8])
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    why = missing_prerequisites()
    if why:
        print("cannot run the lab: " + "; ".join(why), file=sys.stderr)
        return 2
    print(json.dumps(run(args.hosts, args.group, args.forks, args.runs), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
