"""Pure parsers of the raw command outputs in a HostSnapshot (formats: preflight.model.probes).

Each takes the probe's text exactly as gathered and never touches a host, so a
saved snapshot parses the same as a live one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_IP_O_LINE = re.compile(r"^\d+:\s+\S+\s+inet6?\s+(\S+)")
_VA_LINE = re.compile(r"^\s*(\w+)\s*:\s*(-?\d+)\s*$")
_OCTAL = re.compile(r"\\([0-7]{3})")
_OPENSSH = re.compile(r"OpenSSH_([0-9][0-9A-Za-z.]*)")


def parse_addresses(text: str) -> list[str]:
    """Addresses from `ip -o addr show` or `hostname -I`, prefix length dropped, in order, unique.

    >>> parse_addresses("1: lo    inet 127.0.0.1/8 scope host lo\\\\\\n2: eth0    inet6 fd00::2/64 scope")
    ['127.0.0.1', 'fd00::2']
    >>> parse_addresses("192.0.2.2 fd00::2 \\n")
    ['192.0.2.2', 'fd00::2']
    """
    lines = text.splitlines()
    found: list[str] = []
    if any(re.match(r"^\d+:\s", ln) for ln in lines):
        for ln in lines:
            m = _IP_O_LINE.match(ln)
            if m:
                found.append(m.group(1).split("/", 1)[0])
    else:
        found = text.split()
    return list(dict.fromkeys(found))


def parse_getent_ahosts(text: str) -> list[str]:
    """Addresses `getent ahosts NAME` answered, unique, in the resolver's order.

    >>> parse_getent_ahosts("198.18.0.12     STREAM host2\\n198.18.0.12     DGRAM\\n")
    ['198.18.0.12']
    """
    return list(dict.fromkeys(ln.split()[0] for ln in text.splitlines() if ln.split()))


def parse_packages(text: str) -> dict[str, str]:
    """``{name: version-release}`` from "name<TAB>version" lines (first one wins for multi-arch).

    >>> parse_packages("libvirt0\\t9.0.0-4+deb12u2\\nopenssh-server\\t1:9.2p1-2+deb12u10\\n")
    {'libvirt0': '9.0.0-4+deb12u2', 'openssh-server': '1:9.2p1-2+deb12u10'}
    """
    found: dict[str, str] = {}
    for ln in text.splitlines():
        name, sep, version = ln.partition("\t")
        if sep and name and version:
            found.setdefault(name.strip(), version.strip())
    return found


def parse_daemons(text: str) -> dict[str, tuple[str, str]]:
    """``{daemon: (state, how)}``; state running | socket | stopped, how systemd | pidfile | pidof | socket.

    >>> parse_daemons("libvirtd\\trunning\\tpidof\\nvirtqemud\\tstopped\\tpidof\\n")["libvirtd"]
    ('running', 'pidof')
    """
    found: dict[str, tuple[str, str]] = {}
    for ln in text.splitlines():
        parts = ln.split("\t")
        if len(parts) == 3 and parts[0]:
            found[parts[0]] = (parts[1], parts[2])
    return found


def parse_virt_admin(text: str) -> dict[str, int]:
    """Numbers from `virt-admin srv-clients-info` + `srv-threadpool-info`, keyed as virt-admin prints them.

    >>> parse_virt_admin("nclients_max        : 5000\\nmaxWorkers     : 20\\n")
    {'nclients_max': 5000, 'maxWorkers': 20}
    """
    found: dict[str, int] = {}
    for ln in text.splitlines():
        m = _VA_LINE.match(ln)
        if m:
            found[m.group(1)] = int(m.group(2))
    return found


@dataclass(frozen=True)
class Mount:
    mount_point: str
    fstype: str  # as the kernel reports it: "nfs4", "fuse.glusterfs", "ext4" ...
    source: str
    options: str  # per-mount options (field 6)


def _unescape(field: str) -> str:
    # the kernel writes space, tab, newline and backslash in paths as \040 \011 \012 \134
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field)


def parse_mountinfo(text: str) -> list[Mount]:
    r"""Mounts from /proc/self/mountinfo, in mount order.

    >>> parse_mountinfo("36 35 98:0 / /mnt/a\\040b rw,noatime shared:1 - nfs4 srv:/x rw,vers=4.2\n")
    [Mount(mount_point='/mnt/a b', fstype='nfs4', source='srv:/x', options='rw,noatime')]
    """
    mounts: list[Mount] = []
    for ln in text.splitlines():
        left, sep, right = ln.partition(" - ")
        head, tail = left.split(" "), right.split(" ")
        if not sep or len(head) < 6 or len(tail) < 2:
            continue
        mounts.append(Mount(_unescape(head[4]), _unescape(tail[0]), _unescape(tail[1]), head[5]))
    return mounts


def mount_for(path: str, mounts: Iterable[Mount]) -> Mount | None:
    """The mount ``path`` lives on: the longest mount point containing it; of equals, the last mounted.

    >>> m = parse_mountinfo("1 0 8:1 / / rw - ext4 /dev/sda1 rw\\n2 1 0:5 / /srv rw - nfs4 s:/ rw\\n")
    >>> mount_for("/srv/img/a.qcow2", m).fstype, mount_for("/srvx", m).fstype
    ('nfs4', 'ext4')
    """
    best: Mount | None = None
    for m in mounts:
        mp = m.mount_point.rstrip("/") or "/"
        inside = mp == "/" or path == mp or path.startswith(mp + "/")
        if inside and (best is None or len(mp) >= len(best.mount_point.rstrip("/") or "/")):
            best = m
    return best


@dataclass(frozen=True)
class PathStat:
    realpath: str
    dev: int
    inode: int
    size: int
    mtime: int
    ctime: int
    head_sha256: str | None  # of the first 64 KiB; None when it could not be read
    header: bytes | None = None  # the first 32 bytes (an image's format and virtual size); None: not seen

    @property
    def image_format(self) -> str | None:
        """"qcow2" (QEMU's magic), "raw" (anything else), None when the header was not seen."""
        if self.header is None:
            return None
        return "qcow2" if self.header[:4] == QCOW2_MAGIC else "raw"

    @property
    def virtual_size(self) -> int | None:
        """The guest-visible size: qcow2's header field (bytes 24-31, big-endian), a raw file's size."""
        fmt = self.image_format
        if fmt == "qcow2":
            return int.from_bytes(self.header[24:32], "big") if self.header and len(self.header) >= 32 else None
        return self.size if fmt == "raw" else None


QCOW2_MAGIC = b"QFI\xfb"
_HEX = re.compile(r"(?:[0-9a-f]{2})*")
_SHA = re.compile(r"-|[0-9a-f]{64}")


def parse_path_stat(text: str) -> PathStat:
    """The one PATH_PREFIX line; raises ValueError when the text is not that line.

    Eight columns (the header's hex last); seven in snapshots from before it was gathered.

    >>> parse_path_stat("/srv/a b.img\\t64769\\t12\\t65536\\t1700000000\\t1700000001\\t-\\n").size
    65536
    >>> parse_path_stat("/a\\t1\\t2\\t3\\t4\\t5\\t-\\t514649fb" + "00" * 20 + "0000000040000000").virtual_size
    1073741824
    """
    line = text.rstrip("\n")
    header: bytes | None = None
    parts = line.rsplit("\t", 7)  # from the right: only the path may hold a tab
    if len(parts) == 8 and _SHA.fullmatch(parts[6]) and _HEX.fullmatch(parts[7]):
        header = bytes.fromhex(parts[7]) if parts[7] else None
        parts = parts[:7]
    else:
        parts = line.rsplit("\t", 6)
    if len(parts) != 7:
        raise ValueError(f"not a path stat line: {line!r}")
    rp, dev, inode, size, mtime, ctime, sha = parts
    fields = (dev, inode, size, mtime, ctime)
    # ASCII digits only: int() also takes '١٢', '1_000' and ' 12 ', which stat never prints
    if not all(x.isascii() and x.removeprefix("-").isdigit() for x in fields):
        raise ValueError(f"not a path stat line: {line!r}")
    nums = [int(x) for x in fields]
    dev_n, inode_n, size_n, mtime_n, ctime_n = nums
    return PathStat(rp, dev_n, inode_n, size_n, mtime_n, ctime_n, None if sha in ("", "-") else sha, header)


def parse_sshd_version(text: str) -> str | None:
    """OpenSSH's version from the `sshd -V` line.

    >>> parse_sshd_version("OpenSSH_9.2p1 Debian-2+deb12u6, OpenSSL 3.0.15 3 Sep 2024")
    '9.2p1'
    >>> parse_sshd_version("OpenSSH_9.2, OpenSSL 3.0.19 27 Jan 2026")
    '9.2'
    """
    m = _OPENSSH.search(text)
    return m.group(1).rstrip(".") if m else None
