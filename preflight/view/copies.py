"""Where a ``--copy-storage-*`` migration lands each disk on the destination (STO004).

libvirt's destination (qemuMigrationDstPrepareStorage) leaves a disk path that exists alone and
pre-creates a missing one as a volume of the **active** storage pool whose target path is the
disk's directory (virStoragePoolLookupByTargetPath, an exact match after path sanitizing); with
``--copy-storage-inc`` it pre-creates nothing. These helpers read those facts: free space in a
directory, the pools at a path, an image's header (format, virtual size, backing reference).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from preflight.known import Known, known, unknown
from preflight.model import probes as P
from preflight.model.facts import Availability, DiskFact, LibvirtFacts, PoolFact
from preflight.parsers.commands import PathStat
from preflight.view.host import HostView

QCOW2_CLUSTER = 65536  # qemu-img's default cluster size: what a pre-created qcow2 uses
_SPACE = re.compile(r"avail\t([0-9]{1,20})")  # not \d: it takes any script's digits


def guest_disks(facts: LibvirtFacts | None, guests: Iterable[str]) -> Iterator[tuple[str, DiskFact]]:
    """(guest, disk) for every disk with a source of the named guests (source-less ones: nothing to open)."""
    if facts is None:
        return
    for name in guests:
        guest = facts.guest(name)
        for disk in guest.disks if guest is not None else ():
            if disk.source:
                yield name, disk


def copied(disk: DiskFact) -> bool:
    """Whether --copy-storage-* copies it (qemuMigrationAnyCopyDisk): writable and not shareable.

    A disk on shared storage is copied too (onto itself: measured to work)."""
    return not disk.readonly and not disk.shareable


def safety_checked(disk: DiskFact, copying: bool) -> bool:
    """Whether libvirt's "Unsafe migration" check (qemuMigrationSrcIsSafe) wants it on shared storage:
    every writable disk, shareable ones included, except those the copy takes (measured: a shareable
    disk on a local directory fails with --copy-storage-all too)."""
    return not disk.readonly and not (copying and copied(disk))


def disk_dir(path: str) -> str:
    """The directory a copy of ``path`` is created in (the pool lookup's key)."""
    return P.disk_dir(path)


def sanitize(path: str) -> str:
    """As libvirt's virFileSanitizePath: slashes collapsed, "/./" dropped, no trailing slash."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    lead = "/" if path.startswith("/") else ""
    return lead + "/".join(parts) if parts else (lead or ".")


def free_space(host: HostView, directory: str) -> Known[int]:
    """Bytes a non-root writer may still use in ``directory`` (``stat -f``), or why it is not known."""
    probe = host.snap.probe(P.space_key(directory))
    if probe.status is Availability.MISSING:
        return unknown(f"{directory} does not exist on this host")
    text = host.text(P.space_key(directory))
    if not text.ok:
        return unknown(text.reason, text.not_applicable)
    m = _SPACE.fullmatch(text.get().strip())
    if m is None:
        return unknown(f"{directory}: unexpected free-space output")
    return known(int(m.group(1)), f"stat -f {directory}")


def dir_missing(host: HostView, directory: str) -> bool:
    return host.snap.probe(P.space_key(directory)).status is Availability.MISSING


def pools_at(host: HostView, directory: str) -> Known[list[PoolFact]]:
    """Every pool (active or not) whose target path is ``directory``, as libvirt compares them."""
    lv = host.libvirt_reason()
    if not lv.ok:
        return unknown(lv.reason, lv.not_applicable)
    facts = lv.get()
    if facts.pools is None:
        return unknown(f"libvirt {facts.uri}: storage pools not listed ({facts.errors.get('pools', 'no answer')})")
    want = sanitize(directory)
    return known([p for p in facts.pools if p.target and sanitize(p.target) == want], f"libvirt {facts.uri} pools")


@dataclass(frozen=True)
class Image:
    """What the path probe's header says of an image file."""

    format: str  # "qcow2" | "raw" (anything that is not qcow2)
    virtual_size: int | None
    has_backing: bool | None  # qcow2 header bytes 8-15 (backing file offset) non-zero; None: not qcow2


def image_of(stat: PathStat) -> Known[Image]:
    fmt = stat.image_format
    if fmt is None:
        return unknown(f"{stat.realpath}: its first bytes could not be read")
    backing = None
    if fmt == "qcow2" and stat.header is not None and len(stat.header) >= 16:
        backing = int.from_bytes(stat.header[8:16], "big") != 0
    return known(Image(fmt, stat.virtual_size, backing), "the image header")


def precreated_size(capacity: int, fmt: str | None) -> int:
    """Bytes libvirt's pre-created volume takes: it asks for allocation = capacity, so qemu-img runs with
    preallocation=falloc (measured: a 16 MiB qcow2 took 16.3 MiB); qcow2 adds its tables (64 KiB clusters:
    8 bytes of L2 and 2 of refcount per cluster, plus header, L1 and refcount table)."""
    if fmt != "qcow2":
        return capacity
    clusters = -(-capacity // QCOW2_CLUSTER)

    def rounded(n: int) -> int:
        return -(-n // QCOW2_CLUSTER) * QCOW2_CLUSTER

    return capacity + rounded(clusters * 8) + rounded(clusters * 2) + 3 * QCOW2_CLUSTER


def size_text(n: int) -> str:
    """1.5 GiB, 320 KiB, 512 bytes: sizes in findings."""
    size = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{n} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} bytes"  # pragma: no cover - the loop returns
