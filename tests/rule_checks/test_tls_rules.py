"""TLS001-TLS003 and SEC001 on fact fixtures (issue 7 item 4): listeners, ports, certificates, keys.

The certificates under pki/ are real ones made with OpenSSL 3.0 (RSA 2048, valid 2026-11-30 to
2036-11-27): ca.pem (CN=Lab CA), server.pem (CN=host2, SAN DNS host2.example.com, host2,
IP 198.18.0.12), client.pem (CN=host1), other-ca.pem and server-other-ca.pem (another CA),
server-wrong-name.pem (SAN host3.example.com); e.g.
``openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -days 3650 -extfile ext``.
Their keys were not kept: rules never read private keys, only their mode (cmd:pki-keys).
Expiry is judged at the snapshot's gathering time, so each case sets it.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from preflight.engine import Report, Verdict, evaluate
from preflight.model import probes as P
from preflight.model.findings import Severity, Status
from preflight.model.plan import MigrationPlan
from preflight.parsers.x509 import CertError, names_host, parse_pem, signed_by
from tests.rule_checks.factory import DST_ADDR, HostBuilder, baseline, modular, of, statuses

PKI = Path(__file__).parent / "pki"
NOW = "2027-06-01T12:00:00+00:00"
TLS_URI = "qemu+tls://host2.example.com/system"
KEYS_OK = "".join(f"{k}\t600 root root\n" for k in P.PKI_KEY_FILES)


def pem(name: str) -> str:
    return (PKI / name).read_text()


def tls_pair() -> tuple[HostBuilder, HostBuilder]:
    """The baseline pair with a complete, valid libvirt and QEMU PKI on both hosts, 16514 listening."""
    src, dst = baseline()
    for b in (src, dst):
        b.files.update({P.CA_CERT: pem("ca.pem"), P.CLIENT_CERT: pem("client.pem"), P.SERVER_CERT: pem("server.pem"),
                        P.QEMU_CA_CERT: pem("ca.pem"), P.QEMU_CLIENT_CERT: pem("client.pem"),
                        P.QEMU_SERVER_CERT: pem("server.pem")})
        b.cmds[P.PKI_KEYS] = KEYS_OK
        b.cmds[P.LISTENING] = "LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\nLISTEN 0 50 0.0.0.0:16514 0.0.0.0:*\n"
    return src, dst


def run_at(src: HostBuilder, dst: HostBuilder, plan: MigrationPlan | None = None, when: str = NOW) -> Report:
    plan = plan or MigrationPlan(guests=["g1"], dest_uri=TLS_URI, live=True)
    s, d = src.build(), dst.build()
    s.gathered_at = d.gathered_at = when
    return evaluate(plan, s, d)


def messages(report: Report, rule: str) -> str:
    return " | ".join(f.message for f in of(report, rule))


# --- the DER reader ---------------------------------------------------------------------------

def test_reader_reads_the_fields_virt_pki_validate_judges() -> None:
    ca, server = parse_pem(pem("ca.pem"))[0], parse_pem(pem("server.pem"))[0]
    assert ca.is_ca and not server.is_ca
    assert server.dns_names == ("host2.example.com", "host2") and server.ip_addresses == (DST_ADDR,)
    assert server.common_names == ("host2",) and "CN=Lab CA" in server.issuer
    assert server.not_before.year == 2026 and server.not_after.year == 2036
    assert signed_by(server, ca) is True and signed_by(ca, ca) is True
    assert signed_by(parse_pem(pem("server-other-ca.pem"))[0], ca) is False
    assert names_host(server, "HOST2.example.com.") and names_host(server, DST_ADDR)
    assert not names_host(server, "host3.example.com") and not names_host(server, "198.18.0.13")


def test_reader_verifies_the_signature_not_only_the_issuer_name() -> None:
    der = bytearray(base64.b64decode("".join(pem("server.pem").splitlines()[1:-1])))
    der[-5] ^= 0x01  # one bit of the signature: the issuer name still matches
    forged = parse_pem("-----BEGIN CERTIFICATE-----\n" + base64.b64encode(bytes(der)).decode() +
                       "\n-----END CERTIFICATE-----\n")[0]
    assert forged.issuer_der == parse_pem(pem("ca.pem"))[0].subject_der
    assert signed_by(forged, parse_pem(pem("ca.pem"))[0]) is False


@pytest.mark.parametrize("text", ["", "hello", "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
                                  "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
                                  "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n"])
def test_reader_refuses_malformed_input_with_its_own_error(text: str) -> None:
    with pytest.raises(CertError):
        parse_pem(text)


def test_wildcard_matches_one_label_only() -> None:
    from dataclasses import replace
    server = replace(parse_pem(pem("server.pem"))[0], dns_names=("*.example.com",))
    assert names_host(server, "host2.example.com")
    assert not names_host(server, "a.host2.example.com") and not names_host(server, "example.com")


# --- TLS002: libvirt's certificates ------------------------------------------------------------

def test_tls002_valid_set_passes_on_both_hosts() -> None:
    report = run_at(*tls_pair())
    assert statuses(report, "TLS002") == {Status.PASS} and len(of(report, "TLS002")) == 2


def test_tls002_passes_for_an_ip_desturi_named_in_the_san() -> None:
    report = run_at(*tls_pair(), MigrationPlan(guests=["g1"], dest_uri=f"qemu+tls://{DST_ADDR}/system", live=True))
    assert statuses(report, "TLS002") == {Status.PASS}


def test_tls002_server_certificate_for_another_name_fails() -> None:
    src, dst = tls_pair()
    dst.files[P.SERVER_CERT] = pem("server-wrong-name.pem")
    report = run_at(src, dst)
    [bad] = [f for f in of(report, "TLS002") if f.status is Status.FAIL]
    assert bad.host.value == "destination" and "does not name host2.example.com" in bad.message
    assert "host3.example.com" in bad.message and report.verdict == Verdict.NOT_READY


def test_tls002_desturi_host_not_in_the_certificate_fails() -> None:
    report = run_at(*tls_pair(), MigrationPlan(guests=["g1"], dest_uri="qemu+tls://198.18.0.99/system", live=True))
    assert Status.FAIL in statuses(report, "TLS002") and "does not name 198.18.0.99" in messages(report, "TLS002")


@pytest.mark.parametrize("when,word", [("2037-01-01T00:00:00+00:00", "expired on 2036-11-27"),
                                       ("2025-01-01T00:00:00+00:00", "is not valid before 2026-11-30")])
def test_tls002_expired_or_not_yet_valid_fails(when: str, word: str) -> None:
    report = run_at(*tls_pair(), when=when)
    assert statuses(report, "TLS002") == {Status.FAIL} and word in messages(report, "TLS002")


def test_tls002_server_certificate_from_another_ca_fails() -> None:
    src, dst = tls_pair()
    dst.files[P.SERVER_CERT] = pem("server-other-ca.pem")
    report = run_at(src, dst)
    assert "is not signed by the source's CA" in messages(report, "TLS002")
    assert "is not signed by its own host's CA" in messages(report, "TLS002")


def test_tls002_peer_ca_differs_fails_even_when_each_host_is_self_consistent() -> None:
    src, dst = tls_pair()
    src.files[P.CA_CERT] = pem("other-ca.pem")  # the source trusts another CA: the server is not trusted
    report = run_at(src, dst)
    assert {f.host.value for f in of(report, "TLS002") if f.status is Status.FAIL} == {"source", "destination"}
    assert "not signed by the source's CA" in messages(report, "TLS002")


def test_tls002_missing_client_certificate_and_key_fail() -> None:
    src, dst = tls_pair()
    src.files[P.CLIENT_CERT] = None
    src.cmds[P.PKI_KEYS] = f"{P.CLIENT_KEY}\t-\n"
    report = run_at(src, dst)
    [bad] = [f for f in of(report, "TLS002") if f.status is Status.FAIL]
    assert bad.host.value == "source" and f"{P.CLIENT_CERT} does not exist" in bad.message
    assert f"private key {P.CLIENT_KEY} does not exist" in bad.message


def test_tls002_world_readable_key_fails() -> None:
    src, dst = tls_pair()
    dst.cmds[P.PKI_KEYS] = KEYS_OK.replace(f"{P.SERVER_KEY}\t600", f"{P.SERVER_KEY}\t644")
    report = run_at(src, dst)
    assert "is world-readable (mode 644)" in messages(report, "TLS002")
    assert {f.host.value for f in of(report, "TLS002") if f.status is Status.FAIL} == {"destination"}


def test_tls002_unseen_key_or_unreadable_cert_is_unknown_not_pass() -> None:
    src, dst = tls_pair()
    dst.cmds[P.PKI_KEYS] = f"{P.SERVER_KEY}\t?\n"
    src.cmds[P.PKI_KEYS] = None  # the probe failed
    report = run_at(src, dst)
    assert statuses(report, "TLS002") == {Status.UNKNOWN}
    assert "not searchable" in messages(report, "TLS002") and report.verdict == Verdict.UNKNOWN


def test_tls002_not_a_certificate_fails() -> None:
    src, dst = tls_pair()
    dst.files[P.SERVER_CERT] = "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n"
    assert "is not a valid PEM certificate" in messages(run_at(src, dst), "TLS002")


def test_tls_rules_skip_for_ssh() -> None:
    report = run_at(*tls_pair(), MigrationPlan(guests=["g1"], dest_uri="qemu+ssh://host2.example.com/system"))
    for rule in ("TLS001", "TLS002", "TLS003"):
        assert statuses(report, rule) == {Status.SKIP}, rule


# --- TLS001: the listener and its port -------------------------------------------------------

def test_tls001_listening_and_accepted_passes() -> None:
    report = run_at(*tls_pair())
    assert statuses(report, "TLS001") == {Status.PASS} and len(of(report, "TLS001")) == 2


def test_tls001_nothing_listens_fails_with_the_socket_unit() -> None:
    src, dst = tls_pair()
    dst.cmds[P.LISTENING] = "LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\n"
    [bad] = [f for f in of(run_at(src, dst), "TLS001") if f.status is Status.FAIL]
    assert "nothing listens on TCP 16514" in bad.message and "libvirtd-tls.socket" in (bad.remediation or "")


def test_tls001_modular_host_reads_virtproxyd_port() -> None:
    src, dst = tls_pair()
    modular(dst)
    dst.files[P.VIRTPROXYD_CONF] = 'tls_port = "16600"\n'
    report = run_at(src, dst)
    assert Status.FAIL in statuses(report, "TLS001") and "16600" in messages(report, "TLS001")
    [bad] = [f for f in of(report, "TLS001") if f.status is Status.FAIL]
    assert "virtproxyd-tls.socket" in (bad.remediation or "")
    dst.cmds[P.LISTENING] = "LISTEN 0 50 [::]:16600 [::]:*\n"
    assert statuses(run_at(src, dst), "TLS001") == {Status.PASS}


def test_tls001_tcp_transport_uses_16509_and_netstat_output() -> None:
    src, dst = tls_pair()
    dst.files[P.LIBVIRTD_CONF] = 'listen_tcp = 1\nauth_tcp = "sasl"\n'
    dst.cmds[P.LISTENING] = ("Active Internet connections (only servers)\nProto Recv-Q Send-Q Local Address "
                             "Foreign Address State\ntcp 0 0 0.0.0.0:16509 0.0.0.0:* LISTEN\n")
    report = run_at(src, dst, MigrationPlan(guests=["g1"], dest_uri="qemu+tcp://host2.example.com/system"))
    assert statuses(report, "TLS001") == {Status.PASS} and "16509" in messages(report, "TLS001")


def test_tls001_firewall_rejecting_the_port_fails() -> None:
    src, dst = tls_pair()
    dst.cmds[P.IPTABLES] = ("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n"
                            "-A INPUT -j REJECT --reject-with icmp-host-prohibited\nCOMMIT\n")
    [bad] = [f for f in of(run_at(src, dst), "TLS001") if f.status is Status.FAIL]
    assert "rejects TCP 16514" in bad.message


def test_tls001_listeners_unseen_is_unknown() -> None:
    src, dst = tls_pair()
    dst.cmds[P.LISTENING] = None
    assert Status.UNKNOWN in statuses(run_at(src, dst), "TLS001")


# --- TLS003: QEMU's own TLS (--tls) ------------------------------------------------------------

def tls_plan(**kw: object) -> MigrationPlan:
    return MigrationPlan(guests=["g1"], dest_uri="qemu+ssh://host2.example.com/system", live=True, tls=True,
                         **kw)  # type: ignore[arg-type]


def test_tls003_skips_without_tls_and_passes_with_valid_qemu_certs() -> None:
    src, dst = tls_pair()
    assert statuses(run_at(src, dst, MigrationPlan(guests=["g1"], dest_uri=TLS_URI)), "TLS003") == {Status.SKIP}
    report = run_at(src, dst, tls_plan())
    assert statuses(report, "TLS003") == {Status.PASS}, messages(report, "TLS003")


def test_tls003_missing_server_key_and_wrong_name_fail() -> None:
    src, dst = tls_pair()
    dst.cmds[P.PKI_KEYS] = f"{P.QEMU_SERVER_KEY}\t-\n"
    dst.files[P.QEMU_SERVER_CERT] = pem("server-wrong-name.pem")
    report = run_at(src, dst, tls_plan())
    [bad] = [f for f in of(report, "TLS003") if f.status is Status.FAIL]
    assert f"{P.QEMU_SERVER_KEY} does not exist" in bad.message and "does not name host2.example.com" in bad.message


def test_tls003_names_the_migrateuri_host() -> None:
    src, dst = tls_pair()
    assert statuses(run_at(src, dst, tls_plan(migrate_uri=f"tcp://{DST_ADDR}")), "TLS003") == {Status.PASS}
    assert "does not name 198.18.0.77" in messages(run_at(src, dst, tls_plan(migrate_uri="tcp://198.18.0.77")),
                                                    "TLS003")


def test_tls003_another_directory_is_unknown_said_so() -> None:
    src, dst = tls_pair()
    dst.files[P.QEMU_CONF] = 'migrate_tls_x509_cert_dir = "/srv/pki/qemu"\n'
    report = run_at(src, dst, tls_plan())
    [unk] = [f for f in of(report, "TLS003") if f.status is Status.UNKNOWN]
    assert "/srv/pki/qemu" in unk.message and "not gathered" in unk.message


# --- SEC001: TCP without authentication --------------------------------------------------------

def test_sec001_listen_tcp_with_auth_none_is_an_error_not_ready() -> None:
    src, dst = tls_pair()
    dst.files[P.LIBVIRTD_CONF] = 'listen_tcp = 1\nauth_tcp = "none"\n'
    report = run_at(src, dst, MigrationPlan(guests=["g1"], dest_uri="qemu+ssh://host2.example.com/system"))
    [bad] = [f for f in of(report, "SEC001") if f.status is Status.FAIL]
    assert bad.severity is Severity.ERROR and bad.host.value == "destination" and "auth_tcp" in bad.message
    assert report.verdict == Verdict.NOT_READY


def test_sec001_socket_activated_modular_listener_counts() -> None:
    src, dst = tls_pair()
    modular(src)
    src.files[P.VIRTPROXYD_CONF] = 'auth_tcp = "none"\n'  # listen_tcp is ignored under socket activation
    src.cmds[P.LISTENING] = "LISTEN 0 50 *:16509 *:*\n"
    [bad] = [f for f in of(run_at(src, dst), "SEC001") if f.status is Status.FAIL]
    assert bad.host.value == "source" and "virtproxyd" in bad.message and "TCP 16509 listens" in bad.message


def test_sec001_auth_none_without_listener_passes_and_unseen_listener_is_unknown() -> None:
    src, dst = tls_pair()
    dst.files[P.LIBVIRTD_CONF] = 'auth_tcp = "none"\n'
    assert statuses(run_at(src, dst), "SEC001") == {Status.PASS}
    dst.cmds[P.LISTENING] = None
    assert Status.UNKNOWN in statuses(run_at(src, dst), "SEC001")


def test_sec001_sasl_passes() -> None:
    src, dst = tls_pair()
    dst.files[P.LIBVIRTD_CONF] = 'listen_tcp = 1\nauth_tcp = "sasl"\n'
    dst.cmds[P.LISTENING] = "LISTEN 0 50 0.0.0.0:16509 0.0.0.0:*\n"
    assert statuses(run_at(src, dst), "SEC001") == {Status.PASS}


def test_tls002_certificates_moved_elsewhere_are_unknown_not_judged_at_the_default_paths() -> None:
    src, dst = tls_pair()
    dst.files[P.SERVER_CERT] = None  # the default path is empty: judging it would be a false FAIL
    dst.files[P.LIBVIRTD_CONF] = 'cert_file = "/srv/pki/server.pem"\n'
    plan = MigrationPlan(guests=["g1"], dest_uri=TLS_URI + "?pkipath=/home/op/pki", live=True)
    report = run_at(src, dst, plan)
    assert statuses(report, "TLS002") == {Status.UNKNOWN}
    assert 'cert_file = "/srv/pki/server.pem"' in messages(report, "TLS002")
    assert "pkipath=/home/op/pki" in messages(report, "TLS002")


def test_image_root_keys_judged_by_mode_only(tmp_path: Path) -> None:
    """Image mode: the keys' mode comes from stat under the root (gather.image.pki_keys_probe), never a read:
    a FIFO as the key would hang any reader."""
    import os

    from preflight.gather.image import pki_keys_probe
    private = tmp_path / P.SERVER_KEY.lstrip("/")
    private.parent.mkdir(parents=True)
    os.mkfifo(private, 0o644)
    os.chmod(private, 0o644)
    probe = pki_keys_probe(str(tmp_path))
    assert f"{P.SERVER_KEY}\t644 " in (probe.text or "") and f"{P.CLIENT_KEY}\t-" in (probe.text or "")
    src, dst = tls_pair()
    dst.cmds[P.PKI_KEYS] = probe.text
    assert "is world-readable (mode 644)" in messages(run_at(src, dst), "TLS002")
    os.chmod(private, 0o600)
    dst.cmds[P.PKI_KEYS] = pki_keys_probe(str(tmp_path)).text
    assert [f.status for f in of(run_at(src, dst), "TLS002") if f.host.value == "destination"] == [Status.PASS]


def test_tls003_server_certificate_must_name_desturis_host_too() -> None:
    """QEMU checked DESTURI's host in the lab ('Certificate does not match the hostname host2'): a certificate
    naming only the destination's hostname is not enough when DESTURI uses another name."""
    src, dst = tls_pair()
    plan = MigrationPlan(guests=["g1"], dest_uri="qemu+ssh://h2alias/system", live=True, tls=True)
    report = run_at(src, dst, plan)
    [bad] = [f for f in of(report, "TLS003") if f.status is Status.FAIL]
    assert "does not name h2alias" in bad.message and "does not name host2.example.com" not in bad.message
