"""The TLS/TCP transports and QEMU's migration TLS on one host: listeners, ports, certificates, keys.

What ``virt-pki-validate`` checks, judged offline from gathered facts: the certificates are
gathered as files (public), the private keys only as mode/owner (``cmd:pki-keys``), never read.
Rules TLS001-TLS003, SEC001 and NET006 read this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from preflight.known import Known, known, unknown
from preflight.model import probes as P
from preflight.model.facts import Availability
from preflight.parsers.x509 import Cert, CertError, names_host, parse_pem, signed_by
from preflight.view.daemons import JudgedDaemon
from preflight.view.host import HostView

DEFAULT_PORTS = {"tls": 16514, "tcp": 16509}  # libvirtd.conf tls_port / tcp_port defaults
MIGRATION_PORT_MIN, MIGRATION_PORT_MAX = 49152, 49215  # qemu.conf defaults


def listener_daemons(host: HostView, transport: str) -> list[JudgedDaemon]:
    """The daemons owning the TCP/TLS listener: libvirtd (monolithic) or virtproxyd (modular)."""
    return [d for d in host.judged_daemons(transport) if d.name != "virtqemud"]


def conf_value(host: HostView, daemon: JudgedDaemon, key: str) -> Known[object]:
    """A key of the daemon's file (None inside a Known that is ok means: not set, the default)."""
    conf = host.conf_file(daemon.path)
    if not conf.ok:
        return unknown(conf.reason, conf.not_applicable)
    entry = conf.get().get(key)
    return known(entry.value if entry is not None else "", daemon.path)


def transport_port(host: HostView, transport: str) -> int:
    """tls_port / tcp_port of the listening daemon's file, else the default."""
    for daemon in listener_daemons(host, transport):
        value = conf_value(host, daemon, f"{transport}_port").value
        if isinstance(value, str) and value.isascii() and value.isdigit():
            return int(value)
    return DEFAULT_PORTS[transport]


def parse_listening(text: str) -> set[int]:
    """TCP ports in LISTEN from ``ss -Hltn`` or ``netstat -ltn`` (local address: the 4th column)."""
    ports: set[int] = set()
    for line in text.splitlines():
        cols = line.split()
        if len(cols) < 4 or cols[0] in ("Active", "Proto"):
            continue
        port = cols[3].rsplit(":", 1)[-1]
        if port.isascii() and port.isdigit():  # isdigit alone takes "²": int() fails
            ports.add(int(port))
    return ports


def listening(host: HostView) -> Known[set[int]]:
    return host.text(P.LISTENING).map(parse_listening)


@dataclass(frozen=True)
class KeyStat:
    path: str
    mode: int
    owner: str
    group: str

    @property
    def world_readable(self) -> bool:
        return bool(self.mode & 0o004)


def key_stats(host: HostView) -> Known[dict[str, KeyStat | None]]:
    """Each private key's mode/owner (None: absent); a key whose directory was not searchable is left out."""
    def parse(text: str) -> dict[str, KeyStat | None]:
        out: dict[str, KeyStat | None] = {}
        for line in text.splitlines():
            path, _, rest = line.partition("\t")
            parts = rest.split()
            if rest == "-":
                out[path] = None
            elif len(parts) == 3 and all(c in "01234567" for c in parts[0]):
                out[path] = KeyStat(path, int(parts[0], 8), parts[1], parts[2])
        return out
    return host.text(P.PKI_KEYS).map(parse)


def key_problem(host: HostView, path: str) -> Known[str]:
    """"" when the key exists and is not world-readable, else what is wrong; unknown when unseen."""
    stats = key_stats(host)
    if not stats.ok:
        return unknown(f"{path}: {stats.reason}", stats.not_applicable)
    if path not in stats.get():
        return unknown(f"{path}: its directory is not searchable by the gathering user (gather as root)")
    st = stats.get()[path]
    if st is None:
        return known(f"private key {path} does not exist", P.PKI_KEYS)
    if st.world_readable:
        return known(f"private key {path} is world-readable (mode {st.mode:o}): chmod 600 (or 640 "
                     f"root:qemu for QEMU's)", P.PKI_KEYS)
    return known("", P.PKI_KEYS)


@dataclass(frozen=True)
class CertFile:
    path: str
    cert: Cert | None  # the first certificate of the file
    problem: str = ""  # absent / malformed: a certain failure
    unseen: str = ""  # could not be read: unknown
    not_applicable: bool = False


def cert_file(host: HostView, path: str) -> CertFile:
    probe = host.snap.probe(P.file_key(path))
    if probe.status is Availability.MISSING:
        return CertFile(path, None, problem=f"{path} does not exist")
    text = host.file(path)
    if not text.ok:
        return CertFile(path, None, unseen=f"{path}: {text.reason}", not_applicable=text.not_applicable)
    try:
        return CertFile(path, parse_pem(text.get())[0])
    except CertError as exc:
        return CertFile(path, None, problem=f"{path} is not a valid PEM certificate ({exc})")


def reference_time(host: HostView) -> datetime:
    """The time the facts were gathered (certificates are judged then), else now."""
    try:
        t = datetime.fromisoformat(host.snap.gathered_at)
        return t if t.tzinfo else t.replace(tzinfo=timezone.utc)
    except ValueError:
        return datetime.now(timezone.utc)


def validity_problem(cf: CertFile, now: datetime) -> str:
    cert = cf.cert
    if cert is None:
        return ""
    if now > cert.not_after:
        return f"{cf.path} expired on {cert.not_after:%Y-%m-%d %H:%M} UTC"
    if now < cert.not_before:
        return f"{cf.path} is not valid before {cert.not_before:%Y-%m-%d %H:%M} UTC"
    return ""


def signature_problem(cf: CertFile, ca: CertFile, where: str) -> tuple[str, str]:
    """(problem, note): not signed by ``ca`` is a problem; a signature this reader cannot verify a note."""
    if cf.cert is None or ca.cert is None:
        return "", ""
    verdict = signed_by(cf.cert, ca.cert)
    if verdict is False:
        return (f"{cf.path} (issuer {cf.cert.issuer}) is not signed by {where}'s CA {ca.path} "
                f"({ca.cert.subject})"), ""
    if verdict is None:
        return "", f"{cf.path}: issuer matches {ca.path}; its signature algorithm is not verified by this reader"
    return "", ""


def name_problem(cf: CertFile, host_name: str) -> str:
    if cf.cert is None or names_host(cf.cert, host_name):
        return ""
    names = ", ".join(cf.cert.names() + cf.cert.ip_addresses) or "no name"
    return f"{cf.path} does not name {host_name} (it names {names})"


@dataclass
class PkiJudgement:
    """Problems (certain failures), unseen facts (unknown) and notes of one host's certificate set."""

    problems: list[str]
    unseen: list[str]
    notes: list[str]
    not_applicable: bool = False


@dataclass(frozen=True)
class PkiSet:
    """One side's CA, certificate and private key paths."""

    role: str  # client | server
    ca: str
    cert: str
    key: str


LIBVIRT_CLIENT = PkiSet("client", P.CA_CERT, P.CLIENT_CERT, P.CLIENT_KEY)
LIBVIRT_SERVER = PkiSet("server", P.CA_CERT, P.SERVER_CERT, P.SERVER_KEY)
QEMU_CLIENT = PkiSet("client", P.QEMU_CA_CERT, P.QEMU_CLIENT_CERT, P.QEMU_CLIENT_KEY)
QEMU_SERVER = PkiSet("server", P.QEMU_CA_CERT, P.QEMU_SERVER_CERT, P.QEMU_SERVER_KEY)
QEMU_DEFAULT_DIR = P.QEMU_PKI


def judge_pki(host: HostView, pki: PkiSet, peer_host: HostView, peer: str, host_name: str | None) -> PkiJudgement:
    """One side's CA, certificate and key, its certificate checked against the peer's CA too.

    ``host_name``: the name the certificate must carry (the server's), None for a client certificate.
    """
    j = PkiJudgement([], [], [])
    now = reference_time(host)
    ca, cert, key_path = cert_file(host, pki.ca), cert_file(host, pki.cert), pki.key
    peer_ca = cert_file(peer_host, pki.ca)
    for cf in (ca, cert):
        if cf.problem:
            j.problems.append(cf.problem)
        if cf.unseen:
            j.unseen.append(cf.unseen)
            j.not_applicable = j.not_applicable or cf.not_applicable
        if (p := validity_problem(cf, now)):
            j.problems.append(p)
    for against, where in ((ca, "its own host"), (peer_ca, peer)):
        problem, note = signature_problem(cert, against, where)
        if problem and problem not in j.problems:
            j.problems.append(problem)
        if note and note not in j.notes:
            j.notes.append(note)
    if host_name and (p := name_problem(cert, host_name)):
        j.problems.append(p)
    key = key_problem(host, key_path)
    if key.ok and key.get():
        j.problems.append(key.get())
    elif not key.ok:
        j.unseen.append(key.reason)
        j.not_applicable = j.not_applicable or key.not_applicable
    return j


def qemu_tls_dir(host: HostView) -> Known[str]:
    """QEMU's migration TLS dir: migrate_tls_x509_cert_dir, else default_tls_x509_cert_dir, else /etc/pki/qemu."""
    conf = host.qemu_conf
    if not conf.ok:
        return unknown(conf.reason, conf.not_applicable)
    for key in ("migrate_tls_x509_cert_dir", "default_tls_x509_cert_dir"):
        entry = conf.get().get(key)
        if entry is not None and isinstance(entry.value, str) and entry.value:
            return known(entry.value.rstrip("/") or "/", f"{conf.get().path}:{entry.line}")
    return known(P.QEMU_PKI, "default")


def migration_port_range(host: HostView) -> Known[tuple[int, int]]:
    """qemu.conf migration_port_min..migration_port_max (defaults 49152..49215)."""
    conf = host.qemu_conf
    if not conf.ok:
        return unknown(conf.reason, conf.not_applicable)
    got = []
    for key, default in (("migration_port_min", MIGRATION_PORT_MIN), ("migration_port_max", MIGRATION_PORT_MAX)):
        entry = conf.get().get(key)
        got.append(entry.value if entry is not None and isinstance(entry.value, int) else default)
    return known((got[0], got[1]), conf.get().path)


# libvirtd.conf / virtproxyd.conf keys that move the server's PKI away from the default paths
PKI_CONF_KEYS = {"ca_file": P.CA_CERT, "cert_file": P.SERVER_CERT, "key_file": P.SERVER_KEY}


def moved_server_pki(host: HostView) -> list[str]:
    """``ca_file``/``cert_file``/``key_file`` settings naming other paths than the default ones (not gathered)."""
    out = []
    for daemon in listener_daemons(host, "tls"):
        for key, default in PKI_CONF_KEYS.items():
            value = conf_value(host, daemon, key).value
            if isinstance(value, str) and value and value != default:
                out.append(f"{daemon.path}: {key} = \"{value}\"")
    return out
