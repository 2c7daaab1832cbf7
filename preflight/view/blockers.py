"""What in a guest libvirt (or QEMU, which libvirt asks) refuses to migrate, from its live XML and its
snapshot / block-job facts.

The list follows libvirt's own check, qemuMigrationSrcIsAllowed (src/qemu/qemu_migration.c), as
libvirt 9.0 ships it; each blocker carries the error text the migration fails with, so a user can
match it. Since libvirt 8.6 the QEMU driver first asks QEMU for its migration blockers
(query-migrate "blocked-reasons", QEMU >= 6.0) and reports them as ``cannot migrate domain: REASON``;
host devices are then QEMU's to judge (a VFIO device whose driver supports migration can move).
Before 8.6 libvirt refused every host device but USB itself.
"""

from __future__ import annotations

import shlex
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from preflight.known import Known, known, unknown
from preflight.model.facts import GuestFact
from preflight.textsafe import escape_control
from preflight.view.guests import guest_root

GUEST_XML = "the guest's live XML"
QEMU_DECIDES = (8, 6, 0)  # libvirt asks QEMU for blockers (and skips its own hostdev check) from here on


@dataclass(frozen=True)
class Blocker:
    device: str  # "shmem 'my_shmem0'", "hostdev pci 0000:01:00.0"
    error: str  # the text `virsh migrate` fails with
    remedy: str
    warning: bool = False  # libvirt lets it migrate, but the destination must offer something


def _q(text: str | None) -> str:
    return escape_control(text or "")[:120]


def version_tuple(text: str | None) -> tuple[int, ...] | None:
    try:
        return tuple(int(p) for p in (text or "").split(".")[:3]) or None
    except ValueError:
        return None


def _asks_qemu(lib_version: str | None) -> bool | None:
    v = version_tuple(lib_version)
    return None if v is None else v >= QEMU_DECIDES


def _either(lib_version: str | None, libvirt_text: str, qemu_text: str) -> str:
    """The text this source's libvirt reports: its own (before 8.6) or QEMU's blocker."""
    asks = _asks_qemu(lib_version)
    if asks is None:
        return f"{qemu_text} (libvirt before 8.6: {libvirt_text})"
    return qemu_text if asks else libvirt_text


def _pci_addr(el: ET.Element | None) -> str:
    if el is None:
        return "?"
    try:
        d, b, s, f = (int(el.get(k, "0"), 0) for k in ("domain", "bus", "slot", "function"))
    except ValueError:
        return "?"
    return f"{d:04x}:{b:02x}:{s:02x}.{f}"


def _transient_teaming(el: ET.Element) -> bool:
    team = el.find("teaming")
    return team is not None and team.get("type") == "transient"


VFIO = "cannot migrate domain: VFIO device doesn't support migration"


def _hostdev(el: ET.Element, name: str, lib_version: str | None) -> Blocker | None:
    mode, kind = el.get("mode", "subsystem"), el.get("type", "")
    word = shlex.quote(name)  # a hostile host's guest name: one shell word in the commands we suggest
    detach = f"Detach it before migrating (virsh detach-device {word} HOSTDEV.xml --live) and attach the " \
             "destination's own device afterwards"
    if mode == "capabilities":
        return Blocker(f"hostdev mode='capabilities' type='{_q(kind)}'",
                       "cannot migrate a domain with <hostdev mode='capabilities'>", detach)
    if kind == "usb":
        vendor, product = el.find("source/vendor"), el.find("source/product")
        if vendor is not None and product is not None:
            dev = f"hostdev usb {_q(vendor.get('id'))}:{_q(product.get('id'))}"
        else:
            addr = el.find("source/address")
            dev = "hostdev usb " + " ".join(f"{k}={_q(v)}" for k, v in sorted((addr.attrib if addr is not None
                                                                                  else {}).items()))
        if el.find("source[@startupPolicy='optional']") is not None:
            return None
        return Blocker(dev, "libvirt migrates USB host devices, but the destination's QEMU must find the same "
                       "device (else the incoming guest fails to start)",
                       "Plug the same USB device into the destination (or give it startupPolicy='optional'), "
                       f"or detach it first (virsh detach-device {word} HOSTDEV.xml --live)", warning=True)
    if kind == "pci":
        if _transient_teaming(el):
            return None  # QEMU unplugs it during the migration (virtio-net failover)
        return Blocker(f"hostdev pci {_pci_addr(el.find('source/address'))}", _either(
            lib_version, "cannot migrate a domain with <hostdev mode='subsystem' type='pci'>", VFIO),
            detach + "; or pair an SR-IOV VF with a virtio NIC (<teaming type='transient'>)")
    if kind == "mdev":
        addr = el.find("source/address")
        return Blocker(f"hostdev mdev {_q(addr.get('uuid') if addr is not None else '?')}", _either(
            lib_version, "cannot migrate a domain with <hostdev mode='subsystem' type='mdev'>", VFIO), detach)
    if kind == "scsi_host":
        src = el.find("source")
        wwpn = _q(src.get("wwpn") if src is not None else "?")
        return Blocker(f"hostdev scsi_host {wwpn}", _either(
            lib_version, "cannot migrate a domain with <hostdev mode='subsystem' type='scsi_host'>",
            "cannot migrate domain: vhost-scsi does not support migration in all cases. ..."), detach)
    if kind == "scsi":
        adapter = el.find("source/adapter")
        addr = el.find("source/address")
        dev = f"hostdev scsi {_q(adapter.get('name') if adapter is not None else '')}" + (
            " " + ":".join(_q(addr.get(k, "?")) for k in ("bus", "target", "unit")) if addr is not None else "")
        if _asks_qemu(lib_version):
            return Blocker(dev, "libvirt 8.6+ lets QEMU judge SCSI passthrough; the destination must reach the "
                           "same LUN at the same adapter address", detach, warning=True)
        return Blocker(dev, "cannot migrate a domain with <hostdev mode='subsystem' type='scsi'>", detach,
                       warning=_asks_qemu(lib_version) is None)
    return Blocker(f"hostdev {_q(mode)} {_q(kind)}", "libvirt refuses host devices it does not know", detach)


def hostdev_blockers(guest: GuestFact, lib_version: str | None) -> Known[list[Blocker]]:
    """Each ``<hostdev>`` and ``<interface type='hostdev'>`` (SR-IOV VF) that stops or conditions the
    migration (a PCI device with ``<teaming type='transient'>`` is unplugged by QEMU: not listed)."""
    root = guest_root(guest)
    if root.value is None:
        return unknown(root.reason)
    out: list[Blocker] = []
    for el in root.value.iterfind("devices/hostdev"):
        b = _hostdev(el, guest.name, lib_version)
        if b is not None:
            out.append(b)
    for el in root.value.iterfind("devices/interface[@type='hostdev']"):
        if _transient_teaming(el):
            continue
        mac = el.find("mac")
        out.append(Blocker(
            f"interface hostdev {_pci_addr(el.find('source/address'))}"
            + (f" (mac {_q(mac.get('address'))})" if mac is not None else ""),
            _either(lib_version, "cannot migrate a domain with <interface type='hostdev'>", VFIO),
            f"Detach the VF before migrating (virsh detach-interface {shlex.quote(guest.name)} hostdev --mac MAC "
            "--live), or "
            "pair it with a virtio NIC (<teaming type='transient'>) so QEMU unplugs it during the migration"))
    return known(out, GUEST_XML)


def _invtsc(root: ET.Element) -> list[Blocker]:
    cpu = root.find("cpu")
    if cpu is None:
        return []
    tsc_hz = any(t.get("name") == "tsc" and t.get("frequency", "0") not in ("", "0")
                 for t in root.iterfind("clock/timer"))
    out = []
    wants = [f for f in cpu.iterfind("feature") if f.get("name") == "invtsc"
             and f.get("policy", "require") in ("require", "force")]
    if wants and not tsc_hz:
        out.append(Blocker("cpu feature 'invtsc'", "domain has 'invtsc' CPU feature but TSC frequency is not specified",
                           "Set the TSC frequency (<clock><timer name='tsc' frequency='HZ'/></clock>, the same on "
                           "both hosts) or drop the invtsc feature; restart the guest"))
    if cpu.get("mode") == "host-passthrough" and cpu.get("migratable") == "off" and not tsc_hz:
        out.append(Blocker("cpu mode='host-passthrough' migratable='off'",
                           "cannot migrate domain: State blocked by non-migratable CPU device (invtsc flag) "
                           "(when the host CPU has invtsc)",
                           "Use migratable='on' (the default) or set the TSC frequency; restart the guest",
                           warning=True))
    return out


def _shmem(el: ET.Element, lib_version: str | None) -> Blocker | None:
    name = _q(el.get("name"))
    model = el.find("model")
    mtype = model.get("type", "") if model is not None else ""
    role = el.get("role") or (el.findtext("role") or "").strip()
    if mtype == "ivshmem":
        return Blocker(f"shmem '{name}' (legacy ivshmem)", "migration with legacy shmem device is not supported",
                       "Use model ivshmem-plain or ivshmem-doorbell with role='master' (restart the guest)")
    if role == "master":
        return None  # its memory content migrates with the guest
    own = f"shmem device '{name}' cannot be migrated, only shmem with role='master' can be migrated"
    qemu = "cannot migrate domain: Migration is disabled when using feature 'peer mode' in device 'ivshmem'"
    return Blocker(f"shmem '{name}'", _either(lib_version, own, qemu),
                   "Give it role='master' (the region's content then migrates with the guest; restart the guest), "
                   "or detach it before migrating (virsh detach-device GUEST SHMEM.xml --live)")


def xml_blockers(guest: GuestFact, lib_version: str | None) -> Known[list[Blocker]]:
    """The devices and features of the live XML that libvirt 9.0's migration check refuses (host
    devices apart: :func:`hostdev_blockers`)."""
    root = guest_root(guest)
    if root.value is None:
        return unknown(root.reason)
    r = root.value
    out = _invtsc(r)
    for mem in r.iterfind("devices/memory[@model='dimm']"):
        if mem.find("address[@type='dimm']") is None:
            out.append(Blocker("memory dimm", "domain's dimm info lacks slot ID or base address",
                               "Give the DIMM a slot and base address (<address type='dimm' slot=... base=...>)"))
    for el in r.iterfind("devices/shmem"):
        b = _shmem(el, lib_version)
        if b is not None:
            out.append(b)
    for el in r.iterfind("devices/interface[@type='vdpa']"):
        src = el.find("source")
        dev = _q(src.get("dev") if src is not None else "")
        out.append(Blocker(f"interface vdpa {dev}".rstrip(), _either(
            lib_version, "vDPA devices cannot be migrated", "cannot migrate domain: (QEMU's vhost-vdpa blocker)"),
            "Detach the vDPA interface before migrating (virsh detach-interface GUEST vdpa --mac MAC --live)"))
    for fs in r.iterfind("devices/filesystem"):
        if fs.find("driver[@type='virtiofs']") is not None:
            tgt = fs.find("target")
            out.append(Blocker(f"filesystem virtiofs '{_q(tgt.get('dir') if tgt is not None else '')}'",
                               "migration with virtiofs device is not supported",
                               "Unmount it in the guest and detach it (virsh detach-device GUEST FS.xml --live), "
                               "or shut the guest down and migrate it offline"))
    for disk in r.iterfind("devices/disk"):
        tgt = disk.find("target")
        dev = _q(tgt.get("dev") if tgt is not None else "?")
        if disk.find("transient") is not None:
            out.append(Blocker(f"disk {dev} (<transient/>)", "migration with transient disk is not supported",
                               "Remove <transient/> from the disk (restart the guest)"))
    return known(out, GUEST_XML)


def snapshot_blocker(guest: GuestFact, reason: str = "") -> Known[list[Blocker]]:
    """libvirt refuses to migrate a guest with any snapshot to another host (its metadata stays behind)."""
    if guest.snapshots is None:
        return unknown(f"{guest.name}: snapshots not counted" + (f" ({reason})" if reason else ""))
    n = guest.snapshots
    if n < 0:  # libvirt never counts below zero: a crafted snapshot, not a guest without snapshots
        return unknown(f"{guest.name}: snapshot count {n} is not a count")
    if n == 0:
        return known([], "virDomainSnapshotNum")
    word = shlex.quote(guest.name)
    return known([Blocker(
        f"{n} snapshot{'s' if n != 1 else ''}", f"cannot migrate domain with {n} snapshots",
        f"Keep each snapshot's XML (virsh snapshot-dumpxml {word} SNAP > SNAP.xml), drop libvirt's metadata "
        f"(virsh snapshot-delete {word} SNAP --metadata: the data stays in the image), migrate, then "
        f"redefine them on the destination (virsh snapshot-create {word} SNAP.xml --redefine); or delete "
        "the snapshots")], "virDomainSnapshotNum")


def blockjob_blockers(guest: GuestFact, reason: str = "") -> Known[list[Blocker]]:
    """Each disk with an active block job (copy, commit, pull)."""
    if guest.block_jobs is None:
        return unknown(f"{guest.name}: block jobs not seen" + (f" ({reason})" if reason else ""))
    word = shlex.quote(guest.name)
    return known([Blocker(
        f"block job on {_q(job)}", "domain has active block job",
        f"Let the job finish, or end it: virsh blockjob {word} {shlex.quote(_q(job.split(':')[0]))} --abort (or "
        "--pivot for a copy in its ready phase)") for job in guest.block_jobs], "virDomainGetBlockJobInfo")
