"""Agreement scenarios for the migration port range (issue 7 item 5).

Each fault is on host2 (the destination); N guests migrate at once, so libvirt's port allocator
and the firewall see N incoming streams. A port range smaller than N, or a firewall that opens
only the range's first port, lets some migrations through and fails the others (repeat: any
failing run counts, the overlap of tiny guests' streams is a race); NET006 must say so. The
smallest range libvirt accepts is 2 ports (min = max stops the QEMU driver: "start port 49152
must be less than end port 49152", measured; judged on facts in test_ports_rules.py).

qemu+tls (item 4): certificates made with openssl for this run (one CA; host2's server
certificate names host2 and host2.lab.example), installed on a tmpfs over /etc/pki in each host's
own mount namespace (the lab does not give hosts their own /etc/pki; an empty /etc/pki is created
on the machine as the mount point), libvirtd restarted with --listen and listen_tls = 1. The
valid set migrates; a misnamed server certificate fails the TLS handshake, an expired one stops
libvirtd --listen from starting at all (TLS002); no listener refuses the connection (TLS001).
``listen_tcp`` with ``auth_tcp = "none"`` (SEC001) is an error on hosts where migration works, so
it cannot agree with a real migration: it is judged on fact fixtures (tests/rule_checks/test_tls_rules.py).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.skips import skip_or_fail

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


# --- qemu+tls ------------------------------------------------------------------------------------

TLS_URI = "qemu+tls://host2/system"
PKI: dict[str, str] = {}  # name -> PEM, made once per session by the `pki` fixture


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _issue(d: Path, name: str, cn: str, san: str, days: str) -> None:
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
             "-subj", f"/CN={cn}", cwd=d)
    (d / f"{name}.ext").write_text(f"subjectAltName={san}\n")
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", f"{name}.pem", "-days", days, "-extfile", f"{name}.ext", cwd=d)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    if shutil.which("openssl") is None:
        skip_or_fail("openssl is needed to make the lab's TLS certificates")
    d = tmp_path_factory.mktemp("pki")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
             "-subj", "/CN=preflight lab CA", cwd=d)
    _issue(d, "server", "host2", "DNS:host2,DNS:host2.lab.example,IP:198.18.0.12", "30")
    _issue(d, "expired", "host2", "DNS:host2,DNS:host2.lab.example,IP:198.18.0.12", "-1")  # notAfter: yesterday
    _issue(d, "othername", "host3", "DNS:host3,DNS:host3.lab.example", "30")
    _issue(d, "client", "host1", "DNS:host1,DNS:host1.lab.example", "30")
    PKI.update({p.stem + p.suffix: p.read_text() for p in d.iterdir() if p.suffix in (".pem", ".key")})
    return PKI


def _private_pki(lab: Lab, host: str) -> None:
    """A tmpfs over /etc/pki in this host's mount namespace, emptied (it outlives reset())."""
    lab.exec(host, "mkdir -p /etc/pki && { grep -q ' /etc/pki ' /proc/self/mountinfo || "
                   "mount -t tmpfs -o mode=755 tmpfs /etc/pki; } && rm -rf /etc/pki/*", check=True)
    lab.exec(host, "mkdir -p /etc/pki/CA /etc/pki/libvirt/private", check=True)
    lab.write_file(host, "/etc/pki/CA/cacert.pem", PKI["ca.pem"])


def tls_setup(server: str = "server", listen: bool = True) -> Callable[[Lab], None]:
    def fault(lab: Lab) -> None:
        for host in ("host1", "host2"):
            _private_pki(lab, host)
        lab.write_file("host1", "/etc/pki/libvirt/clientcert.pem", PKI["client.pem"])
        lab.write_file("host1", "/etc/pki/libvirt/private/clientkey.pem", PKI["client.key"], mode=0o600)
        lab.write_file("host2", "/etc/pki/libvirt/servercert.pem", PKI[f"{server}.pem"])
        lab.write_file("host2", "/etc/pki/libvirt/private/serverkey.pem", PKI[f"{server}.key"], mode=0o600)
        if listen:
            conf = lab.read_file("host2", "/etc/libvirt/libvirtd.conf")
            lab.write_file("host2", "/etc/libvirt/libvirtd.conf", conf + "listen_tls = 1\n")
            # not checked: with an expired server certificate libvirtd refuses to start ("Unable to
            # initialize network sockets"; measured), which is the real outcome being predicted
            lab.exec("host2", "kill $(cat /run/libvirtd.pid); i=0; while [ -e /run/libvirtd.pid ] && "
                              "[ $i -lt 100 ]; do i=$((i+1)); sleep 0.05; done; "
                              "libvirtd -d --listen -p /run/libvirtd.pid && i=0 && "
                              "until virsh -q -c qemu:///system version >/dev/null 2>&1 || [ $i -gt 200 ]; "
                              "do i=$((i+1)); sleep 0.05; done", timeout=30)
    return fault


TLS_SCENARIOS = [
    Scenario("qemu+tls, valid certificates", tls_setup(), dest_uri=TLS_URI),
    Scenario("qemu+tls, dest server certificate expired", tls_setup("expired"), dest_uri=TLS_URI,
             expect=("TLS002",)),
    Scenario("qemu+tls, dest server certificate for another name", tls_setup("othername"), dest_uri=TLS_URI,
             expect=("TLS002",)),
    Scenario("qemu+tls, dest libvirtd not listening", tls_setup(listen=False), dest_uri=TLS_URI,
             expect=("TLS001",)),
]


def qemu_tls_setup(dest_server: str | None = "server") -> Callable[[Lab], None]:
    """QEMU's migration TLS (virsh migrate --tls): CA, server and client pairs in /etc/pki/qemu on both."""
    def fault(lab: Lab) -> None:
        for host in ("host1", "host2"):
            _private_pki(lab, host)
            lab.exec(host, "mkdir -p /etc/pki/qemu", check=True)
            files = {"ca-cert.pem": "ca.pem", "client-cert.pem": "client.pem", "client-key.pem": "client.key"}
            server = "server" if host == "host1" else dest_server
            if server:
                files.update({"server-cert.pem": f"{server}.pem", "server-key.pem": f"{server}.key"})
            for name, src in files.items():
                lab.write_file(host, f"/etc/pki/qemu/{name}", PKI[src], mode=0o600 if "key" in name else None)
        # a QEMU started before the tmpfs was mounted (its own mount namespace) would not see it: restart
        lab.exec("host1", "for g in $(virsh list --name); do virsh -q destroy $g && virsh -q start $g || exit 1; done",
                 check=True, timeout=60)
    return fault


TLS_SCENARIOS += [
    Scenario("--tls, valid QEMU certificates", qemu_tls_setup(), flags=["--tls"]),
    Scenario("--tls, dest lacks QEMU's server certificate", qemu_tls_setup(None), flags=["--tls"],
             expect=("TLS003",)),
    Scenario("--tls, dest QEMU server certificate for another name", qemu_tls_setup("othername"), flags=["--tls"],
             expect=("TLS003",)),
]


@pytest.mark.parametrize("sc", TLS_SCENARIOS, ids=[s.name for s in TLS_SCENARIOS])
def test_tls_prediction_agrees_with_real_migration(lab: Lab, pki: dict[str, str], sc: Scenario) -> None:
    run_scenario(lab, sc)


# --- SEC001: its claim checked against the real daemon (not an agreement row: migration works) ---

def test_tcp_without_auth_is_flagged_and_really_open(lab: Lab) -> None:
    """listen_tcp = 1 + auth_tcp = "none" on host2: SEC001 fails at error severity (NOT READY), and the
    finding is true: from host1, an unauthenticated qemu+tcp connection lists host2's guests."""
    import json
    import shlex

    conf = lab.read_file("host2", "/etc/libvirt/libvirtd.conf")
    lab.write_file("host2", "/etc/libvirt/libvirtd.conf", conf + 'listen_tls = 0\nlisten_tcp = 1\nauth_tcp = "none"\n')
    lab.exec("host2", "kill $(cat /run/libvirtd.pid); i=0; while [ -e /run/libvirtd.pid ] && [ $i -lt 100 ]; "
                      "do i=$((i+1)); sleep 0.05; done; libvirtd -d --listen -p /run/libvirtd.pid && "
                      "until virsh -q -c qemu:///system version >/dev/null 2>&1; do sleep 0.05; done",
             check=True, timeout=30)
    lab.define_guest("host1", "g1", disk=("shared", "g1.qcow2"))
    out = lab.exec("host1", shlex.join(["preflight", "check", "--live", "g1", "qemu+ssh://host2/system",
                                        "--format", "json", "--timeout", "5"]), timeout=120)
    report = json.loads(out.stdout)
    sec = [f for f in report["findings"] if f["rule"] == "SEC001" and f["status"] == "fail"]
    assert sec and sec[0]["severity"] == "error" and report["verdict"] == "not-ready", out.stdout[-2000:]
    opened = lab.exec("host1", "virsh -c qemu+tcp://host2/system hostname", timeout=30)
    assert opened.returncode == 0 and "host2" in opened.stdout, opened.stderr
