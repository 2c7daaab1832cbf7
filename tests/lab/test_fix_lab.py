"""Lab proof: for three faults that break (or slow) real migrations, the fix `preflight fix` renders,
applied to the lab hosts, makes `preflight check` say READY and the real migrations succeed.

preflight runs inside host1 (source: local, destination: ssh://host2) as a user would. The fixed
files are taken from --output-dir and copied into the hosts in place (the lab bind-mounts /etc/hosts,
which an atomic rename cannot replace), then the daemon is restarted.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from .files import ADDRS, fqdn
from .lab import Lab
from .test_agreement import max_clients_1, max_startups_1, no_dest_name

pytestmark = pytest.mark.lab

OUT = "/tmp/preflight-fix-lab"
DAEMON_OF = {"/etc/ssh/sshd_config": "sshd", "/etc/libvirt/libvirtd.conf": "libvirtd"}


@dataclass
class FixScenario:
    name: str
    fault: Callable[[Lab], None]
    guests: int
    dest_uri: str = "qemu+ssh://host2/system"
    rules: tuple[str, ...] = ()  # the findings the fix must answer


SCENARIOS = [
    FixScenario("MaxStartups 1, 3 concurrent", max_startups_1, 3, rules=("SSH001",)),
    FixScenario("max_clients 1, 3 concurrent", max_clients_1, 3, rules=("LIM001",)),
    FixScenario("no hosts entry for the destination", no_dest_name, 1, dest_uri=f"qemu+ssh://{ADDRS['host2']}/system",
                rules=("NET001",)),
]


def _preflight(lab: Lab, *args: str) -> tuple[int, str]:
    out = lab.exec("host1", shlex.join(["preflight", *args]), timeout=120)
    assert out.returncode in (0, 1, 3), out.stderr
    return out.returncode, out.stdout


@pytest.mark.parametrize("sc", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_fix_makes_the_migration_work(lab: Lab, sc: FixScenario) -> None:
    guests = [f"g{i + 1}" for i in range(sc.guests)]
    for g in guests:
        lab.define_guest("host1", g, disk=("shared", f"{g}.qcow2"))
    sc.fault(lab)
    plan = ["--live", *guests, sc.dest_uri, "--concurrency", str(sc.guests), "--timeout", "5"]
    rc, text = _preflight(lab, "check", *plan, "--format", "json")
    failing = {f["rule"] for f in json.loads(text)["findings"] if f["status"] == "fail"}
    assert set(sc.rules) <= failing, failing

    lab.exec("host1", f"rm -rf {OUT}")
    rc, text = _preflight(lab, "fix", *plan, "--output-dir", OUT, "--no-diff")
    assert rc == 1 and "would say: READY" in text, text
    listed = lab.exec("host1", f"cd {OUT} && find . -type f", check=True).stdout.split()
    assert listed, text
    for rel in listed:
        role, path = rel[2:].split("/", 1)
        host = "host1" if role == "source" else "host2"
        lab.write_file(host, "/" + path, lab.read_file("host1", f"{OUT}/{rel[2:]}"))
        if "/" + path in DAEMON_OF:
            lab.restart_daemon(host, DAEMON_OF["/" + path])
    if sc.fault is no_dest_name:
        assert f"{ADDRS['host2']}" in lab.read_file("host1", "/etc/hosts")
        assert fqdn("host2") in lab.read_file("host1", "/etc/hosts")

    rc, text = _preflight(lab, "check", *plan)
    assert rc == 0 and text.splitlines()[-1].startswith("READY"), text
    rc, text = _preflight(lab, "fix", *plan, "--no-diff")
    assert "Nothing to change" in text, text  # idempotent on the live hosts too
    outcomes = lab.migrate(guests, (), sc.dest_uri, timeout=60)
    assert all(o.ok for o in outcomes), [o.first_error_line for o in outcomes if not o.ok]
    for g in guests:
        assert lab.domstate("host2", g) == "running"
