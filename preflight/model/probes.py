"""The catalogue of probe keys: what gathering collects and rules read.

Files are keyed ``file:<absolute path as on the host>``. Commands have fixed
keys; per-name and per-path commands append the name or path. Each command's
raw output format is documented here because the parser in
:mod:`preflight.parsers.commands` and the gather script must agree on it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

ETC_HOSTS = "/etc/hosts"
ETC_HOSTNAME = "/etc/hostname"
OS_RELEASE = "/etc/os-release"
REDHAT_RELEASE = "/etc/redhat-release"
MACHINE_ID = "/etc/machine-id"
LIBVIRTD_CONF = "/etc/libvirt/libvirtd.conf"
VIRTQEMUD_CONF = "/etc/libvirt/virtqemud.conf"
VIRTPROXYD_CONF = "/etc/libvirt/virtproxyd.conf"
QEMU_CONF = "/etc/libvirt/qemu.conf"
SSHD_CONFIG = "/etc/ssh/sshd_config"
# TLS certificates (public, gathered as files): libvirt's (virt-pki-validate's paths) and QEMU's
# default migration TLS dir. Private keys are never read: only their mode/owner (PKI_KEYS).
CA_CERT = "/etc/pki/CA/cacert.pem"
CLIENT_CERT = "/etc/pki/libvirt/clientcert.pem"
SERVER_CERT = "/etc/pki/libvirt/servercert.pem"
CLIENT_KEY = "/etc/pki/libvirt/private/clientkey.pem"
SERVER_KEY = "/etc/pki/libvirt/private/serverkey.pem"
QEMU_PKI = "/etc/pki/qemu"
QEMU_CA_CERT = QEMU_PKI + "/ca-cert.pem"
QEMU_SERVER_CERT = QEMU_PKI + "/server-cert.pem"
QEMU_CLIENT_CERT = QEMU_PKI + "/client-cert.pem"
QEMU_SERVER_KEY = QEMU_PKI + "/server-key.pem"
QEMU_CLIENT_KEY = QEMU_PKI + "/client-key.pem"
PKI_KEY_FILES = (CLIENT_KEY, SERVER_KEY, QEMU_SERVER_KEY, QEMU_CLIENT_KEY)

# Files always collected (sshd_config's Include targets are added as found).
FILES = (
    ETC_HOSTS,
    ETC_HOSTNAME,
    OS_RELEASE,
    REDHAT_RELEASE,
    MACHINE_ID,
    LIBVIRTD_CONF,
    VIRTQEMUD_CONF,
    VIRTPROXYD_CONF,
    QEMU_CONF,
    SSHD_CONFIG,
    CA_CERT,
    CLIENT_CERT,
    SERVER_CERT,
    QEMU_CA_CERT,
    QEMU_SERVER_CERT,
    QEMU_CLIENT_CERT,
)


def file_key(path: str) -> str:
    return f"file:{path}"


# Index of sshd files gathered: text is one absolute path per line, in the
# order sshd reads them (main file first, then Include targets depth-first,
# each glob sorted). Every listed path also has its own file: probe.
SSHD_FILES = "sshd-files"

# How many of our own ssh connections the host's sshd refused at key exchange
# (MaxStartups) before one got through: text is the count.
SSH_DROPPED = "ssh-dropped"

# Our own ssh connection to the host, as the gatherer made it (the migration's control path when
# preflight runs on the source): "field<TAB>value" lines, written by preflight.gather.pair:
# result (ok | failed), cause (preflight.access.ssh_errors.SshCause), reason (ssh's words),
# user and uid (who ran ssh), login/host/port (the target), ssh_config (-F FILE or ""),
# sudo (0/1), strict (StrictHostKeyChecking).
SSH_CONNECT = "ssh-connect"

HOSTNAME = "cmd:hostname"  # `hostname`
HOSTNAME_F = "cmd:hostname-f"  # `hostname -f`
# `ip -o addr show` (fallback: `hostname -I`); parse_addresses() takes either.
ADDRESSES = "cmd:addresses"
SSHD_T = "cmd:sshd-T"  # `sshd -T` stdout: "keyword value" lines, lower-case keywords
SSHD_VERSION = "cmd:sshd-version"  # first line of `sshd -V` (stderr), e.g. "OpenSSH_9.2p1 ..."
# Package versions, one "name<TAB>version-release" line per installed package
# (rpm -q --qf or dpkg-query -W); names not installed are absent.
PACKAGES = "cmd:packages"
# Which libvirt daemons run: one "daemon<TAB>state<TAB>how" line per daemon
# (libvirtd, virtqemud, virtproxyd); state is running | socket | stopped;
# how is systemd | pidfile | pidof | socket.
DAEMONS = "cmd:daemons"
MOUNTINFO = "cmd:mountinfo"  # cat /proc/self/mountinfo
IPTABLES = "cmd:iptables-save"  # `iptables-save -t filter` (needs root)
NFT = "cmd:nft-ruleset"  # `nft list ruleset` (needs root); MISSING where nft is not installed
FIREWALLD = "cmd:firewalld"  # "state<TAB>how" of firewalld, as in DAEMONS
NETDEVS = "cmd:netdevs"  # `ls /sys/class/net`: every network device (bridges, NICs), one per line
# TCP ports listened on: `ss -Hltn` (fallback `netstat -ltn`); the local address is the 4th column.
LISTENING = "cmd:listening"
# The private keys' metadata, never their content: one "path<TAB>octal-mode owner group" line per key
# of PKI_KEY_FILES (`stat -L -c '%a %U %G'`); "path<TAB>-" absent, "path<TAB>?" not seen (its
# directory not searchable by the gathering user).
PKI_KEYS = "cmd:pki-keys"
# `virt-admin -c <daemon uri> srv-clients-info <srv>` + `srv-threadpool-info <srv>`,
# output concatenated; key suffix is the daemon name (libvirtd / virtqemud / virtproxyd).
VIRT_ADMIN_PREFIX = "cmd:virt-admin:"
# `getent ahosts NAME` on the source; key suffix is the name.
GETENT_PREFIX = "cmd:getent:"
# Beside each getent: whether root's ssh on the source knows NAME's host key (`ssh-keygen -F NAME -f
# FILE` over root's and the global known_hosts) and which of root's identity files exist:
# "known_hosts<TAB>FILE<TAB>found|absent|missing|unreadable", "identity<TAB>FILE<TAB>present|missing|unreadable".
KNOWN_HOST_PREFIX = "cmd:known-host:"
# Per guest disk path: "realpath<TAB>dev<TAB>inode<TAB>size<TAB>mtime<TAB>ctime<TAB>sha256-of-first-64KiB"
# one line; status MISSING when the path does not exist.
PATH_PREFIX = "cmd:path:"
# Per guest emulator path (from the source's guest XML), on the destination: the first line of
# `PATH -version` (stdin /dev/null, under the per-command timeout); status MISSING when PATH does not
# exist, ERROR (rc, stderr) when it does not run. `-version` has no side effects. Only an absolute path
# named qemu* or kvm is run (rc 2 "refusing ..." otherwise): the path comes from hostile guest XML.
EMULATOR_PREFIX = "cmd:emulator:"
# After a successful `PATH -version`: the binary's own `PATH -machine help` / `PATH -accel help` output
# (what it offers, asked of it: libvirt's capabilities are cached). Absent when -version failed.
EMULATOR_MACHINES_PREFIX = "cmd:emulator-machines:"
EMULATOR_ACCELS_PREFIX = "cmd:emulator-accels:"
# Per directory of a guest disk path (d: words, from the p: paths): free space where a copied disk
# would be created: "avail<TAB>BYTES" (`stat -f`, blocks available to non-root x block size);
# status MISSING when the directory does not exist.
SPACE_PREFIX = "cmd:space:"
# KVM on the host: "dev<TAB>char|absent|other" (/dev/kvm), "module<TAB>present|absent" (/sys/module/kvm),
# "mode<TAB>OCTAL OWNER GROUP" of /dev/kvm (`stat -L -c '%a %U %G'`, "-" when absent),
# "rdev<TAB>MAJOR:MINOR" in hex (`stat -L -c '%t:%T'`; "a:e8" = 10:232 is KVM; "-" not a char device).
KVM = "cmd:kvm"
# libvirt's x86 CPU map: the x86_*.xml files /usr/share/libvirt/cpu_map/index.xml includes (safe names
# only), or before libvirt 4.7 the <arch name='x86'> of /usr/share/libvirt/cpu_map.xml; comments dropped.
# One "model NAME VENDOR|- BASE|- FEATURE..." line per model (removed='yes' features left out, as libvirt
# leaves them out of the model), then "vendors NAME..." and "features NAME..." (every feature defined).
# MISSING when neither layout exists.
CPU_MAP = "cmd:cpumap"


def virt_admin_key(daemon: str) -> str:
    return VIRT_ADMIN_PREFIX + daemon


def getent_key(name: str) -> str:
    return GETENT_PREFIX + name


def known_host_key(name: str) -> str:
    return KNOWN_HOST_PREFIX + name


def path_key(path: str) -> str:
    return PATH_PREFIX + path


def emulator_key(path: str) -> str:
    return EMULATOR_PREFIX + path


def emulator_machines_key(path: str) -> str:
    return EMULATOR_MACHINES_PREFIX + path


def emulator_accels_key(path: str) -> str:
    return EMULATOR_ACCELS_PREFIX + path


def space_key(directory: str) -> str:
    return SPACE_PREFIX + directory


def disk_dir(path: str) -> str:
    """The directory a disk path's file lives in (where a copy would be created): "/" for "/x"."""
    head = path.rstrip("/").rsplit("/", 1)[0]
    return head or "/"


# --- the declared probes ---------------------------------------------------------------
# One entry per fact (insights-core's specs): its key (a prefix for per-name/per-path
# ones), what kind of thing it reads, the gather.sh section that collects it live (local
# and over ssh run the same script; `s:SECTION` arguments select sections), and how an
# image root provides it. tests/gather/test_probe_table.py checks gather.sh's sections,
# the image reader and the snapshot keys against this table.

FILE, COMMAND = "file", "command"
READ, UNAVAILABLE = "read", "unavailable"  # image root: the file under the root / no such thing


@dataclass(frozen=True)
class Spec:
    key: str
    kind: str  # FILE | COMMAND
    section: str  # gather.sh section collecting it
    image: str  # READ | UNAVAILABLE
    per: str = ""  # "name" / "path" / "daemon": the key is a prefix, one probe per item

    def matches(self, key: str) -> bool:
        return key.startswith(self.key) if self.per else key == self.key


SPECS: tuple[Spec, ...] = (
    *(Spec(file_key(p), FILE, "files", READ) for p in FILES),
    Spec(SSHD_FILES, COMMAND, "sshd-files", READ),  # image: the Include walk over the root
    Spec(HOSTNAME, COMMAND, "hostname", UNAVAILABLE),
    Spec(HOSTNAME_F, COMMAND, "hostname", UNAVAILABLE),
    Spec(ADDRESSES, COMMAND, "hostname", UNAVAILABLE),
    Spec(SSHD_T, COMMAND, "sshd", UNAVAILABLE),
    Spec(SSHD_VERSION, COMMAND, "sshd", UNAVAILABLE),
    Spec(PACKAGES, COMMAND, "packages", UNAVAILABLE),
    Spec(DAEMONS, COMMAND, "daemons", UNAVAILABLE),
    Spec(MOUNTINFO, COMMAND, "mountinfo", UNAVAILABLE),
    Spec(NETDEVS, COMMAND, "netdevs", UNAVAILABLE),
    Spec(IPTABLES, COMMAND, "firewall", UNAVAILABLE),
    Spec(NFT, COMMAND, "firewall", UNAVAILABLE),
    Spec(FIREWALLD, COMMAND, "firewall", UNAVAILABLE),
    Spec(LISTENING, COMMAND, "pki", UNAVAILABLE),
    Spec(PKI_KEYS, COMMAND, "pki", READ),  # image: os.stat under the root
    Spec(VIRT_ADMIN_PREFIX, COMMAND, "daemons", UNAVAILABLE, per="daemon"),  # running daemons only
    Spec(GETENT_PREFIX, COMMAND, "names", UNAVAILABLE, per="name"),
    Spec(KNOWN_HOST_PREFIX, COMMAND, "names", UNAVAILABLE, per="name"),
    Spec(PATH_PREFIX, COMMAND, "paths", UNAVAILABLE, per="path"),
    Spec(EMULATOR_PREFIX, COMMAND, "paths", UNAVAILABLE, per="path"),  # e: words, like p:
    Spec(EMULATOR_MACHINES_PREFIX, COMMAND, "paths", UNAVAILABLE, per="path"),  # with e:, once it ran
    Spec(EMULATOR_ACCELS_PREFIX, COMMAND, "paths", UNAVAILABLE, per="path"),
    Spec(SPACE_PREFIX, COMMAND, "paths", UNAVAILABLE, per="path"),  # d: words: each p: path's directory
    Spec(KVM, COMMAND, "kvm", UNAVAILABLE),
    Spec(CPU_MAP, COMMAND, "cpumap", UNAVAILABLE),  # image: no host CPU to compare with (GST008 skips)
    Spec(file_key("/"), FILE, "sshd-files", READ, per="path"),  # each Include target SSHD_FILES lists
    # Written by the gatherer itself, not the script: our own connections sshd dropped.
    Spec(SSH_DROPPED, COMMAND, "ssh", UNAVAILABLE),
    Spec(SSH_CONNECT, COMMAND, "ssh", UNAVAILABLE),
)

# The keys every full script run produces (per-item ones aside), in the table's order.
SCRIPT_KEYS = tuple(s.key for s in SPECS if not s.per and s.section != "ssh")
COMMAND_KEYS = tuple(s.key for s in SPECS if s.kind == COMMAND and not s.per and s.section != "ssh")

# gather.sh's selectable sections, in the order it prints them ("ssh" is the transport's own).
SECTIONS = ("files", "sshd-files", "hostname", "mountinfo", "netdevs", "sshd", "packages", "daemons",
            "names", "paths", "firewall", "pki", "kvm", "cpumap")


def spec_of(key: str) -> Spec | None:
    """The declared probe a key belongs to (exact keys before prefixes)."""
    exact = [s for s in SPECS if not s.per and s.matches(key)]
    return exact[0] if exact else next((s for s in SPECS if s.per and s.matches(key)), None)


def sections_of(keys: Iterable[str]) -> set[str]:
    found = (spec_of(k) for k in keys)
    return {s.section for s in found if s is not None}


def gathered(key: str, only: Iterable[str] | None) -> bool:
    """Whether a gather limited to ``only`` (probe keys or per-item prefixes; None: all) collects ``key``.

    Files are asked one by one (f: words); every other probe comes with its whole section.
    """
    if only is None:
        return True
    wanted = set(only)
    spec = spec_of(key)
    if key in wanted or spec is None:
        return key in wanted
    if spec.per and spec.key in wanted:
        return True
    return spec.section != "files" and spec.section in sections_of(wanted)
