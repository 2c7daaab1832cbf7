"""The catalogue of probe keys: what gathering collects and rules read.

Files are keyed ``file:<absolute path as on the host>``. Commands have fixed
keys; per-name and per-path commands append the name or path. Each command's
raw output format is documented here because the parser in
:mod:`preflight.parsers.commands` and the gather script must agree on it.
"""

from __future__ import annotations

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
# `virt-admin -c <daemon uri> srv-clients-info <srv>` + `srv-threadpool-info <srv>`,
# output concatenated; key suffix is the daemon name (libvirtd / virtqemud / virtproxyd).
VIRT_ADMIN_PREFIX = "cmd:virt-admin:"
# `getent ahosts NAME` on the source; key suffix is the name.
GETENT_PREFIX = "cmd:getent:"
# Per guest disk path: "realpath<TAB>dev<TAB>inode<TAB>size<TAB>mtime<TAB>ctime<TAB>sha256-of-first-64KiB"
# one line; status MISSING when the path does not exist.
PATH_PREFIX = "cmd:path:"


def virt_admin_key(daemon: str) -> str:
    return VIRT_ADMIN_PREFIX + daemon


def getent_key(name: str) -> str:
    return GETENT_PREFIX + name


def path_key(path: str) -> str:
    return PATH_PREFIX + path
