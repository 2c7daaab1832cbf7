"""Issue 11 item 3, measured in the two-host lab: ansible-playbook with the collection vs `preflight check`.

    .venv/bin/python -m tests.ansible.bench_collection_lab --runs 5

Inside host1, each timed by the host's clock (wall, median of --runs), on the baseline with one guest:
- check:  preflight check --live g1 qemu+ssh://host2/system (gather both + judge, one process);
- gather: a play gathering host1 (local) and host2 (Ansible's ssh) with preflight_gather;
- drain:  playbooks/drain_host.yml (gather, names-only follow-up, judge, print);
- floor:  ansible-playbook of one no-op task on both hosts (Ansible's own start-up, inventory, forks).
Takes the pytest lab's lock (one lab at a time) and tears the lab down at the end.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import shlex
import statistics

from tests.ansible.test_collection_lab import BY_NAME, COLLECTIONS, PLAYBOOK

GATHER = """\
- hosts: host1
  gather_facts: false
  tasks:
    - kvmops.migration_preflight.preflight_gather:
        role: source
        plan: {dest_uri: "qemu+ssh://host2/system", all_running: true, live: true}
- hosts: host2
  gather_facts: false
  tasks:
    - kvmops.migration_preflight.preflight_gather:
        role: destination
        plan: {dest_uri: "qemu+ssh://host2/system", all_running: true, live: true}
        peer: "{{ hostvars['host1'].preflight_snapshot }}"
"""
FLOOR = "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.meta: noop\n"
ENV = ["env", f"ANSIBLE_COLLECTIONS_PATH={COLLECTIONS}", "ANSIBLE_NOCOLOR=1", "ANSIBLE_RETRY_FILES_ENABLED=0"]


def commands() -> dict[str, list[str]]:
    play = [*ENV, "ansible-playbook", "-i", "/root/inventory.ini"]
    return {
        "check": ["preflight", "check", "--live", "g1", "qemu+ssh://host2/system", "--format", "json", "-q"],
        "gather": [*play, "/root/gather.yml"],
        "drain": [*play, str(PLAYBOOK), "-e", "drain_source=host1", "-e", '{"drain_destinations": ["host2"]}'],
        "floor": [*play, "/root/floor.yml"],
    }


def main() -> None:
    from tests.lab.conftest import TEST_DIR
    from tests.lab.lab import Lab, missing_prerequisites

    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    why = missing_prerequisites()
    if why:
        raise SystemExit("the lab cannot be built here: " + "; ".join(why))
    TEST_DIR.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{TEST_DIR}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        lab = Lab(TEST_DIR)
        try:
            if not lab.up():
                lab.reset()
            lab.define_guest("host1", "g1", disk=("shared", "g1.qcow2"))
            for path, text in (("/root/inventory.ini", BY_NAME), ("/root/gather.yml", GATHER),
                               ("/root/floor.yml", FLOOR)):
                lab.write_file("host1", path, text)
            times: dict[str, list[float]] = {k: [] for k in commands()}
            for _ in range(args.runs):
                for name, argv in commands().items():
                    script = ("t0=$(date +%s%N); " + shlex.join(argv) + " > /root/out.txt 2>&1; rc=$?; "
                              "t1=$(date +%s%N); echo $rc $(( (t1 - t0) / 1000 ))")
                    rc, micros = lab.exec("host1", script, timeout=180).stdout.split()
                    if rc != "0":
                        raise SystemExit(f"{name} exited {rc}:\n{lab.read_file('host1', '/root/out.txt')}")
                    times[name].append(int(micros) / 1e6)
            med = {k: round(statistics.median(v), 3) for k, v in times.items()}
            print(json.dumps({"runs": args.runs, "median_s": med, "all_s": times,
                              "gather_over_check": round(med["gather"] / med["check"], 2),
                              "drain_over_check": round(med["drain"] / med["check"], 2),
                              "gather_minus_floor_s": round(med["gather"] - med["floor"], 3)}, indent=2))
        finally:
            lab.down()


if __name__ == "__main__":
    main()
