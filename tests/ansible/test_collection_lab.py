"""Issue 11 item 3 in the two-host lab: ansible-playbook (ansible-core, the kvmops.migration_preflight
collection, playbooks/drain_host.yml) runs INSIDE host1 with an inventory of host1
(ansible_connection=local) and host2 (Ansible's ssh connection, the lab's key, host keys checked),
gathers both hosts with preflight's script through Ansible's connection, and judges the pair.

Baseline: the play passes (READY) and prints the `virsh migrate` command; the same command run by
hand lands the guest. host2's libvirtd stopped: the play fails on DMN001. host1's /etc/hosts without
host2's names (Ansible reaches host2 by address): the play fails on NET001 for host2's libvirt
hostname, a name only host2's snapshot reveals (the playbook's names-only follow-up on the source).
"""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path

import pytest

from tests.lab.files import ADDRS, fqdn
from tests.lab.lab import Lab

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / "ansible" / "collections"
PLAYBOOK = REPO / "ansible" / "playbooks" / "drain_host.yml"
TREE = "/root/ansible-tree"
BY_NAME = "[kvm]\nhost1 ansible_connection=local\nhost2 ansible_user=root\n"
H2 = ADDRS["host2"]
BY_ADDRESS = (f"[kvm]\nhost1 ansible_connection=local\n"
              f"host2 ansible_host={H2} ansible_user=root preflight_dest_name={H2}\n")


def play(lab: Lab, inventory: str) -> tuple[int, str, dict, float]:
    """drain_host.yml inside host1: rc, stdout, host1's last task result (the tree callback), wall seconds."""
    lab.write_file("host1", "/root/inventory.ini", inventory)
    env = {"ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS), "ANSIBLE_CALLBACKS_ENABLED": "tree",
           "ANSIBLE_CALLBACK_TREE_DIR": TREE, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0",
           "ANSIBLE_RETRY_FILES_ENABLED": "0", "ANSIBLE_HOST_KEY_CHECKING": "1"}
    argv = ["env", *(f"{k}={v}" for k, v in env.items()), "ansible-playbook", "-i", "/root/inventory.ini",
            str(PLAYBOOK), "-e", "drain_source=host1", "-e", json.dumps({"drain_destinations": ["host2"]})]
    lab.exec("host1", ["rm", "-rf", TREE], check=True)
    t0 = time.monotonic()
    out = lab.exec("host1", shlex.join(argv), timeout=180)
    seconds = time.monotonic() - t0
    last = json.loads(lab.read_file("host1", f"{TREE}/host1"))
    return out.returncode, out.stdout + out.stderr, last, seconds


def check_wall(lab: Lab, guest: str, dest_uri: str = "qemu+ssh://host2/system") -> tuple[dict, float]:
    t0 = time.monotonic()
    out = lab.exec("host1", shlex.join(["preflight", "check", "--live", guest, dest_uri,
                                        "--format", "json", "--timeout", "5"]), timeout=120)
    seconds = time.monotonic() - t0
    assert out.returncode in (0, 1, 3), out.stderr
    return json.loads(out.stdout), seconds


def errors(report: dict) -> list[str]:
    return sorted({f["rule"] for f in report["findings"] if f["status"] == "fail" and f["severity"] == "error"})


def verdicts(last: dict) -> list[dict]:
    assert "results" in last, last  # the loop over drain_destinations
    return [r for r in last["results"] if "verdict" in r]


def test_drain_playbook_ready_on_the_baseline_and_its_command_migrates(lab: Lab) -> None:
    lab.define_guest("host1", "g1", disk=("shared", "g1.qcow2"))
    rc, text, last, seconds = play(lab, BY_NAME)
    assert rc == 0, text
    # the play's last task printed the commands: the check passed READY for host1 -> host2
    assert last["msg"] == ["virsh migrate --live -- g1 qemu+ssh://host2/system"], last
    theirs, check_seconds = check_wall(lab, "g1")
    assert theirs["verdict"] == "ready", theirs
    print(f"\nansible-playbook drain_host.yml (2 lab hosts, gather + judge): {seconds:.2f} s; "
          f"preflight check, same pair: {check_seconds:.2f} s")
    out = lab.exec("host1", ["virsh", "-c", "qemu:///system", "migrate", "--live", "--", "g1",
                             "qemu+ssh://host2/system"], timeout=90)
    assert out.returncode == 0, out.stderr
    assert lab.domstate("host2", "g1") == "running"


def test_drain_playbook_fails_on_dmn001_when_dest_libvirtd_is_stopped(lab: Lab) -> None:
    lab.define_guest("host1", "g1", disk=("shared", "g1.qcow2"))
    lab.stop_daemon("host2", "libvirtd")
    rc, text, last, _ = play(lab, BY_NAME)
    assert rc != 0, text
    [judged] = verdicts(last)
    assert judged["failed"] and judged["verdict"] == "not-ready", judged
    assert "DMN001" in judged["failing_rules"], judged["failing_rules"]
    assert "DMN001 FAIL [destination]" in judged["msg"], judged["msg"]
    theirs, _ = check_wall(lab, "g1")  # preflight check agrees
    assert theirs["verdict"] == "not-ready" and errors(theirs) == sorted(judged["failing_rules"]), theirs
    assert judged["migrate_commands"] == []
    assert "virsh migrate --live" not in text  # no command printed for a pair that is not READY


def test_drain_playbook_fails_on_net001_when_the_source_cannot_resolve_the_dest_hostname(lab: Lab) -> None:
    lab.define_guest("host1", "g1", disk=("shared", "g1.qcow2"))
    lab.write_file("host1", "/etc/hosts", f"127.0.0.1\tlocalhost\n{ADDRS['host1']}\t{fqdn('host1')} host1\n")
    rc, text, last, _ = play(lab, BY_ADDRESS)
    assert rc != 0, text
    [judged] = verdicts(last)
    assert judged["verdict"] == "not-ready" and judged["failing_rules"] == ["NET001"], judged["msg"]
    # the name failing is host2's own (from its snapshot), resolved by the names-only follow-up
    net001 = [f for f in judged["findings"] if f["rule"] == "NET001" and f["status"] == "fail"]
    assert {f["subject"] for f in net001} & {"host2", fqdn("host2")}, net001
    assert not any("not gathered" in f["message"] for f in net001), net001  # looked up, not presumed
    theirs, _ = check_wall(lab, "g1", f"qemu+ssh://{H2}/system")  # preflight check agrees
    assert theirs["verdict"] == "not-ready" and errors(theirs) == judged["failing_rules"], theirs


def test_drain_playbook_carries_hostile_bytes_as_data(lab: Lab) -> None:
    """A byte that is not UTF-8 and a terminal escape in host2's /etc/hosts (a comment): the snapshot
    travels through Ansible's facts intact (READY, as the file is fine), nothing raw is printed."""
    lab.define_guest("host1", "g1", disk=("shared", "g1.qcow2"))
    lab.exec("host2", r"printf '# \377 \033[32mREADY\n' >> /etc/hosts", check=True)
    rc, text, last, _ = play(lab, BY_NAME)
    assert rc == 0, text
    assert last["msg"] == ["virsh migrate --live -- g1 qemu+ssh://host2/system"], last
    assert "\x1b" not in text
    # the tree callback writes the snapshot back out with the raw byte: read it as preflight decodes
    tail = lab.exec("host1", ["python3", "-c", "import json, sys; d = json.loads(open(sys.argv[1], 'rb').read()"
                              ".decode('utf-8', 'surrogateescape')); print(ascii(d['ansible_facts']"
                              "['preflight_snapshot']['probes']['file:/etc/hosts']['text'][-15:]))",
                              f"{TREE}/host2"], check=True).stdout.strip()
    assert tail == ascii("# \udcff \x1b[32mREADY\n"), tail  # the byte kept as a surrogate escape
