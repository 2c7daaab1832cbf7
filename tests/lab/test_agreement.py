"""Agreement suite: each scenario is the lab baseline plus one fault.

For each, `preflight check` runs inside host1 against host2 over real SSH, as
a user would; then the real `virsh migrate --live` runs with the same plan.
The two agree when preflight said READY and every migration succeeded (and, for
--unsafe, the guest kept its own disk), or when it said NOT READY, a migration
failed, and every rule the scenario names in `expect` failed at error severity
(so a right verdict for the wrong reason is a disagreement). UNKNOWN never
agrees with anything: a tool that could not see has not predicted the failure.
The table is written to out/agreement.md and printed at the end of the session.

`run_scenario(lab, sc)` is importable: other files declare their own `Scenario`s and run them the
same way, into the same table: test_agreement_ssh.py, test_agreement_tls.py, and the destination
running the guest — test_agreement_storage.py (--copy-storage-*: "Storage pool not found", STO004),
test_agreement_emulator.py (QEMU that does not run, GST006; no usable /dev/kvm, GST007),
test_agreement_devices.py (GST010) and test_agreement_guestfit.py (GST008, GST009), each failing
case with its healthy twin. They keep their own files because their faults need their own undo
(bind mounts, huge page pools) after each scenario.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from .agreement import ROWS, Row
from .files import ADDRS, LOCAL_DIR, SHARED_DIR, etc_hosts, fqdn, guest_xml, host_uuid
from .lab import Lab

pytestmark = pytest.mark.lab

H2_IP = ADDRS["host2"]
H1_IP = ADDRS["host1"]


@dataclass
class Scenario:
    name: str
    fault: Callable[[Lab], None] = lambda lab: None
    # rules that must fail at error severity when the verdict is NOT READY (the reason, not just the verdict)
    expect: tuple[str, ...] = ()
    guests: int = 1
    disk: str | None = "shared"  # shared | local | None (diskless)
    start: bool = True
    flags: list[str] = field(default_factory=list)
    dest_uri: str = "qemu+ssh://host2/system"
    repeat: int = 1  # random failures (sshd MaxStartups): any failing run means "fails"
    timeout: float = 60
    check_timeout: float = 5


def _append(lab: Lab, host: str, path: str, text: str) -> None:
    lab.write_file(host, path, lab.read_file(host, path) + text)


def no_dest_name(lab: Lab) -> None:
    lab.write_file("host1", "/etc/hosts", "127.0.0.1\tlocalhost\n" + f"{H1_IP}\t{fqdn('host1')} host1\n")


def dest_name_points_at_source(lab: Lab) -> None:
    lab.write_file("host1", "/etc/hosts", etc_hosts().replace(f"{H2_IP}\t", f"{H1_IP}\t"))


def dest_localhost(lab: Lab) -> None:
    lab.exec("host2", "hostname localhost.localdomain && echo localhost.localdomain > /etc/hostname", check=True)


def same_uuid(lab: Lab) -> None:
    conf = lab.read_file("host2", "/etc/libvirt/libvirtd.conf")
    lab.write_file("host2", "/etc/libvirt/libvirtd.conf", conf.replace(host_uuid("host2"), host_uuid("host1")))
    lab.restart_daemon("host2", "libvirtd")


def stop_dest_libvirtd(lab: Lab) -> None:
    lab.stop_daemon("host2", "libvirtd")


def max_startups_1(lab: Lab) -> None:
    _append(lab, "host2", "/etc/ssh/sshd_config", "MaxStartups 1\n")
    lab.restart_daemon("host2", "sshd")


def max_clients_1(lab: Lab) -> None:
    _append(lab, "host2", "/etc/libvirt/libvirtd.conf",
            "max_clients = 1\nmax_anonymous_clients = 1\nmax_workers = 1\nmin_workers = 1\n")
    lab.restart_daemon("host2", "libvirtd")


def max_clients_held(lab: Lab) -> None:
    max_clients_1(lab)
    # a long-lived client (a monitoring agent, a forgotten virsh) holds the only slot
    lab.spawn("host2", ["python", "-c", "import libvirt, time; c = libvirt.open('qemu:///system'); time.sleep(900)"])
    lab.exec("host2", "sleep 1")


BRIDGE_NIC = "    <interface type='bridge'><source bridge='br-lab'/><model type='virtio'/></interface>\n"


def guest_on_bridge(lab: Lab, on_dest: bool) -> None:
    """g1 gets a NIC on bridge br-lab, which exists on host1 (and on host2 only when on_dest)."""
    for host in ("host1", "host2") if on_dest else ("host1",):
        lab.exec(host, "ip link add br-lab type bridge && ip link set br-lab up", check=True)
    xml = guest_xml("g1", f"{SHARED_DIR}/g1.qcow2").replace("    <controller", BRIDGE_NIC + "    <controller", 1)
    lab.exec("host1", "virsh -q destroy g1; virsh -q undefine g1", timeout=30)
    lab.write_file("host1", "/run/lab/g1-nic.xml", xml)
    lab.exec("host1", "virsh -q define /run/lab/g1-nic.xml && virsh -q start g1", check=True, timeout=60)


def drop_bridges(lab: Lab) -> None:
    """reset() keeps network devices: remove the scenario bridge so every scenario starts clean."""
    for host in ("host1", "host2"):
        lab.exec(host, "ip link del br-lab 2>/dev/null; true")


def firewall_rejects_migration_ports(lab: Lab) -> None:
    lab.exec("host2", "iptables -A INPUT -p tcp --dport 49152:49215 -j REJECT", check=True)


def different_file_on_dest(lab: Lab) -> None:
    # a stray image with the same name on host2's local disk (e.g. from an earlier copy)
    lab.exec("host2", f"qemu-img create -q -f qcow2 {LOCAL_DIR}/g1.qcow2 32M", check=True)


SCENARIOS = [
    Scenario("baseline, 1 guest"),
    Scenario("baseline, 4 concurrent guests", guests=4),
    Scenario("baseline --p2p", flags=["--p2p"]),
    Scenario("baseline --p2p --tunnelled", flags=["--p2p", "--tunnelled"]),
    Scenario("source cannot resolve dest hostname", no_dest_name, dest_uri=f"qemu+ssh://{H2_IP}/system",
             expect=("NET001",)),
    Scenario("... same, with --migrateuri tcp://IP", no_dest_name, dest_uri=f"qemu+ssh://{H2_IP}/system",
             flags=["--migrateuri", f"tcp://{H2_IP}"]),
    Scenario("dest hostname localhost.localdomain", dest_localhost, expect=("NET002",)),
    Scenario("source /etc/hosts points dest name at source", dest_name_points_at_source,
             dest_uri=f"qemu+ssh://{H2_IP}/system", expect=("NET001",)),
    Scenario("same host UUID on both", same_uuid, expect=("NET003",)),
    Scenario("libvirtd stopped on dest", stop_dest_libvirtd, expect=("DMN001",)),
    Scenario("guest shut off", start=False, expect=("GST002",)),
    Scenario("guest bridge missing on dest", lambda lab: guest_on_bridge(lab, on_dest=False), expect=("NET004",)),
    Scenario("guest bridge present on both", lambda lab: guest_on_bridge(lab, on_dest=True)),
    Scenario("dest firewall rejects 49152-49215", firewall_rejects_migration_ports, expect=("NET005",)),
    Scenario("dest firewall rejects 49152-49215, --p2p --tunnelled", firewall_rejects_migration_ports,
             flags=["--p2p", "--tunnelled"]),
    Scenario("disk on a non-shared directory", disk="local", expect=("STO001", "STO002")),
    Scenario("different file at the same path, --unsafe", different_file_on_dest, disk="local",
             flags=["--unsafe"], expect=("STO003",)),
    Scenario("dest MaxStartups 1, 3 concurrent ssh migrations", max_startups_1, guests=3, repeat=3,
             expect=("SSH001",)),
    Scenario("dest max_clients 1, 3 overlapping migrations", max_clients_1, guests=3),
    # issue 7 item 2: the only client virt-admin counts may be preflight's own libvirt connection
    Scenario("dest max_clients 1, 2 concurrent migrations, no other client", max_clients_1, guests=2),
    Scenario("dest max_clients 1 held by a long-lived client", max_clients_held, timeout=20, check_timeout=3,
             expect=("LIM001",)),
]


def predict(lab: Lab, sc: Scenario, guests: list[str]) -> dict:
    cmd = ["preflight", "check", "--live", *guests, sc.dest_uri, *sc.flags, "--format", "json",
           "--timeout", str(sc.check_timeout)]
    out = lab.exec("host1", shlex.join(cmd), timeout=120)
    assert out.returncode in (0, 1, 3), f"preflight failed: rc={out.returncode}\n{out.stderr}"
    report = json.loads(out.stdout)
    assert report["exit_code"] == out.returncode
    if sc.name.startswith("baseline"):
        # one ssh connection to the destination; libvirt and the gather script are sessions on it
        dest = report["hosts"]["destination"]
        assert (dest["ssh_connections"], dest["remote_commands"]) == (1, 2), dest
    return report


def same_disk_everywhere(lab: Lab, path: str) -> bool:
    """Ground truth for --unsafe: do both hosts hold the same bytes at the disk's path?"""
    sums = [lab.exec(h, f"sha256sum {shlex.quote(path)} 2>&1").stdout.split()[0] for h in ("host1", "host2")]
    return sums[0] == sums[1]


def setup_guests(lab: Lab, sc: Scenario) -> list[str]:
    guests = [f"g{i + 1}" for i in range(sc.guests)]
    for g in guests:
        lab.define_guest("host1", g, disk=(sc.disk, f"{g}.qcow2") if sc.disk else None, start=sc.start)
    return guests


def failing_rules(report: dict) -> list[str]:
    """Failing error rules, warnings marked ~, unknown error rules marked ?: the table's rules column."""
    return sorted({f["rule"] if f["severity"] == "error" else "~" + f["rule"] for f in report["findings"]
                   if f["status"] == "fail" and f["severity"] in ("error", "warning")}
                  | {f"?{f['rule']}" for f in report["findings"]
                     if f["status"] == "unknown" and f["severity"] == "error"})


def agrees(predicted: str, ok: bool, fired: list[str], expect: tuple[str, ...]) -> bool:
    """READY with every migration fine, or NOT READY with a failure for the expected reasons.

    UNKNOWN agrees with nothing: "could not see" is not a prediction of the failure."""
    if predicted == "ready":
        return ok
    if predicted != "not-ready" or ok:
        return False
    return all(rule in fired for rule in expect)  # fired: error-severity failures carry no ~ or ? mark


def migrate_truth(lab: Lab, sc: Scenario, guests: list[str]) -> tuple[bool, str]:
    """Run the real migrations (sc.repeat times): (all fine, the first error)."""
    for attempt in range(sc.repeat):
        if attempt:  # put the guests back on host1 in the faulty state
            lab.reset()
            setup_guests(lab, sc)
            sc.fault(lab)
        disk_path = f"{LOCAL_DIR if sc.disk == 'local' else SHARED_DIR}/g1.qcow2"
        intact = same_disk_everywhere(lab, disk_path) if "--unsafe" in sc.flags else True
        outcomes = lab.migrate(guests, sc.flags, sc.dest_uri, timeout=sc.timeout)
        failed = [o for o in outcomes if not o.ok]
        if failed:
            return False, f"{len(failed)}/{len(outcomes)} failed: {failed[0].first_error_line}"
        if not intact:
            return False, "migrated, but the guest now runs on a different disk file"
    return True, ""


def run_scenario(lab: Lab, sc: Scenario) -> None:
    """Fault, predict, migrate for real; append the table row and assert agreement."""
    drop_bridges(lab)
    guests = setup_guests(lab, sc)
    sc.fault(lab)
    report = predict(lab, sc, guests)
    predicted = report["verdict"]
    rules = failing_rules(report)
    ok, first_error = migrate_truth(lab, sc, guests)
    outcome = "all migrations succeeded" if ok else first_error
    agree = agrees(predicted, ok, rules, sc.expect)
    ROWS.append(Row(sc.name, predicted, " ".join(rules), outcome, agree, " ".join(sc.expect)))
    missing = [r for r in sc.expect if r not in rules]
    assert agree, (f"preflight said {predicted} ({rules}; expected {list(sc.expect)}, missing {missing}) "
                   f"but: {outcome}\n" + "\n".join(
                       f"{f['rule']} {f['status']} {f['message']}" for f in report["findings"]
                       if f["status"] != "pass"))


@pytest.mark.parametrize("sc", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_prediction_agrees_with_real_migration(lab: Lab, sc: Scenario) -> None:
    run_scenario(lab, sc)


@pytest.mark.parametrize(("predicted", "ok", "fired", "expect", "want"), [
    ("ready", True, [], (), True),
    ("ready", False, [], (), False),
    ("not-ready", False, ["NET001"], ("NET001",), True),
    ("not-ready", False, ["NET002"], ("NET001",), False),  # right verdict, wrong reason
    ("not-ready", False, ["~NET001"], ("NET001",), False),  # a warning is not the error expected
    ("not-ready", False, ["?NET001"], ("NET001",), False),
    ("not-ready", True, ["NET001"], ("NET001",), False),
    ("unknown", False, ["?DMN001"], (), False),  # UNKNOWN never counts as agreement
    ("unknown", True, [], (), False),
])
def test_agreement_definition(predicted: str, ok: bool, fired: list[str], expect: tuple[str, ...],
                              want: bool) -> None:
    assert agrees(predicted, ok, fired, expect) is want
