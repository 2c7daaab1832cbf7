"""Agreement scenarios for the migration's own ssh control connection (issue 7 item 1).

preflight runs as root inside host1 (the source, ``--source local``): root is the invoking user,
so its ssh to host2 is the one `virsh migrate` (and, with --p2p, host1's libvirtd) opens. Each
fault breaks that path the way it breaks in the field; the real migration must fail and SSH003
must say so (NOT READY), not INS001's "could not inspect".
"""

from __future__ import annotations

import pytest

from .lab import Lab
from .test_agreement import Scenario, run_scenario

pytestmark = pytest.mark.lab

KNOWN_HOSTS = "/root/.ssh/known_hosts"


def stop_dest_sshd(lab: Lab) -> None:
    lab.stop_daemon("host2", "sshd")


def forget_dest_host_key(lab: Lab) -> None:
    """host1's known_hosts without host2's line (names and address)."""
    lines = lab.read_file("host1", KNOWN_HOSTS).splitlines(keepends=True)
    lab.write_file("host1", KNOWN_HOSTS, "".join(ln for ln in lines if not ln.startswith("host2,")), mode=0o600)


def change_dest_host_key(lab: Lab) -> None:
    """host1's known_hosts names host2 with another ed25519 key (host1's own): a changed host key."""
    lines = lab.read_file("host1", KNOWN_HOSTS).splitlines(keepends=True)
    other = next(ln for ln in lines if ln.startswith("host1,")).split(None, 1)[1]
    out = [ln.split(None, 1)[0] + " " + other if ln.startswith("host2,") else ln for ln in lines]
    lab.write_file("host1", KNOWN_HOSTS, "".join(out), mode=0o600)


def unauthorize_source_key(lab: Lab) -> None:
    lab.write_file("host2", "/root/.ssh/authorized_keys", "", mode=0o600)


SCENARIOS = [
    Scenario("dest sshd stopped", stop_dest_sshd, expect=("SSH003",)),
    Scenario("dest host key not in source's known_hosts", forget_dest_host_key, expect=("SSH003",)),
    Scenario("dest host key changed in source's known_hosts", change_dest_host_key, expect=("SSH003",)),
    Scenario("source's key not in dest's authorized_keys", unauthorize_source_key, expect=("SSH003",)),
    Scenario("dest host key unknown to root, --p2p", forget_dest_host_key, flags=["--p2p"], expect=("SSH003",)),
]


@pytest.mark.parametrize("sc", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_ssh_prediction_agrees_with_real_migration(lab: Lab, sc: Scenario) -> None:
    run_scenario(lab, sc)
