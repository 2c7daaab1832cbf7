"""Agreement scenarios for the migration port range (issue 7 item 5).

Each fault is on host2 (the destination); N guests migrate at once, so libvirt's port allocator
and the firewall see N incoming streams. A port range smaller than N, or a firewall that opens
only the range's first port, lets some migrations through and fails the others (repeat: any
failing run counts, the overlap of tiny guests' streams is a race); NET006 must say so. The
smallest range libvirt accepts is 2 ports (min = max stops the QEMU driver: "start port 49152
must be less than end port 49152", measured; judged on facts in test_ports_rules.py).

The TLS/TCP scenarios of item 4 (valid, expired, misnamed certificates; listen_tcp with
auth_tcp none) are judged on fact fixtures (tests/rule_checks/test_tls_rules.py): the lab's
libvirtd does not listen on TCP, and SEC001's finding is an error on a host where migration works,
so it can never "agree" with a real migration.
"""

from __future__ import annotations

import pytest

from .lab import Lab
from .test_agreement import Scenario, run_scenario

pytestmark = pytest.mark.lab


def port_range(size: int):  # type: ignore[no-untyped-def]
    def fault(lab: Lab) -> None:
        conf = lab.read_file("host2", "/etc/libvirt/qemu.conf")
        lab.write_file("host2", "/etc/libvirt/qemu.conf",
                       conf + f"migration_port_min = 49152\nmigration_port_max = {49152 + size - 1}\n")
        lab.restart_daemon("host2", "libvirtd")
    return fault


def firewall_opens_first_port_only(lab: Lab) -> None:
    lab.exec("host2", "iptables -A INPUT -p tcp --dport 49152 -j ACCEPT && "
                      "iptables -A INPUT -p tcp --dport 49153:49215 -j REJECT", check=True)


SCENARIOS = [
    Scenario("dest migration port range of 2, 3 concurrent migrations", port_range(2), guests=3, repeat=3,
             expect=("NET006",)),
    Scenario("dest migration port range of 2, 2 concurrent migrations", port_range(2), guests=2),
    Scenario("dest firewall opens only 49152, 2 concurrent migrations", firewall_opens_first_port_only, guests=2,
             repeat=3, expect=("NET006",)),
]


@pytest.mark.parametrize("sc", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_port_prediction_agrees_with_real_migration(lab: Lab, sc: Scenario) -> None:
    run_scenario(lab, sc)
