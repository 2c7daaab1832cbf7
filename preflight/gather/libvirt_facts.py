"""libvirt facts over a READ-ONLY connection (libvirt-python), bounded in time.

Every call that fails records its message in ``errors`` instead of failing the
host: a driver that lacks getHostname still tells us its guests.
"""

from __future__ import annotations

import queue
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any, TypeVar

import libvirt

from preflight.access import kexdrop
from preflight.model.facts import Availability, DiskFact, GuestFact, InterfaceFact, LibvirtFacts
from preflight.versions import from_libvirt_int

T = TypeVar("T")

_STATES = {
    libvirt.VIR_DOMAIN_NOSTATE: "nostate",
    libvirt.VIR_DOMAIN_RUNNING: "running",
    libvirt.VIR_DOMAIN_BLOCKED: "blocked",
    libvirt.VIR_DOMAIN_PAUSED: "paused",
    libvirt.VIR_DOMAIN_SHUTDOWN: "shutdown",
    libvirt.VIR_DOMAIN_SHUTOFF: "shutoff",
    libvirt.VIR_DOMAIN_CRASHED: "crashed",
    libvirt.VIR_DOMAIN_PMSUSPENDED: "pmsuspended",
}


def _quiet(_ctx: object, _err: object) -> None:
    """libvirt's default handler prints every error to stderr; ours are recorded instead."""


def silence_libvirt_errors() -> None:
    libvirt.registerErrorHandler(_quiet, None)


def _message(exc: BaseException) -> str:
    if isinstance(exc, libvirt.libvirtError):
        return exc.get_error_message() or str(exc)
    return str(exc) or type(exc).__name__


def _try(errors: dict[str, str], field: str, call: Callable[[], T]) -> T | None:
    try:
        return call()
    except Exception as exc:  # libvirtError, and XML the driver should never send
        errors[field] = _message(exc)
        return None


# --- domain XML -------------------------------------------------------------------
def _disk(el: ET.Element) -> DiskFact:
    src = el.find("source")
    dtype = el.get("type", "file")
    source: str | None = None
    protocol: str | None = None
    if src is not None:
        if dtype == "network":
            protocol = src.get("protocol")
            source = f"{protocol}:{src.get('name', '')}"
        elif dtype == "volume":
            source = f"{src.get('pool', '')}/{src.get('volume', '')}"
        else:
            source = src.get("file") or src.get("dev") or src.get("dir")
    target = el.find("target")
    driver = el.find("driver")
    return DiskFact(
        target=target.get("dev", "") if target is not None else "",
        device=el.get("device", "disk"),
        type=dtype,
        source=source,
        protocol=protocol,
        cache=driver.get("cache") if driver is not None else None,
        readonly=el.find("readonly") is not None,
        shareable=el.find("shareable") is not None,
    )


def _interface(el: ET.Element) -> InterfaceFact:
    src = el.find("source")
    mac = el.find("mac")
    source = None
    if src is not None:
        source = src.get("bridge") or src.get("network") or src.get("dev")
    return InterfaceFact(
        type=el.get("type", ""), source=source, mac=mac.get("address") if mac is not None else None
    )


def _hostdev(el: ET.Element) -> str:
    """A short summary: "pci 0000:01:00.0", "usb 046d:c52b", "scsi scsi_host0 0:0:0" ..."""
    kind = el.get("type", el.get("mode", "hostdev"))
    addr = el.find("source/address")
    if kind == "pci" and addr is not None:
        parts = [addr.get(k, "0x0").removeprefix("0x") for k in ("domain", "bus", "slot", "function")]
        return (
            f"pci {int(parts[0], 16):04x}:{int(parts[1], 16):02x}:{int(parts[2], 16):02x}.{int(parts[3], 16)}"
        )
    vendor, product = el.find("source/vendor"), el.find("source/product")
    if vendor is not None and product is not None:
        return f"{kind} {vendor.get('id', '').removeprefix('0x')}:{product.get('id', '').removeprefix('0x')}"
    if addr is not None:
        return f"{kind} " + " ".join(f"{k}={v}" for k, v in sorted(addr.attrib.items()))
    return kind


def guest_from_xml(name: str, uuid: str, state: str, persistent: bool, xml: str) -> GuestFact:
    root = ET.fromstring(xml)
    os_type = root.find("os/type")
    cpu = root.find("cpu")
    devices = root.find("devices")
    dev_list = list(devices) if devices is not None else []
    return GuestFact(
        name=name,
        uuid=uuid,
        state=state,
        persistent=persistent,
        machine=os_type.get("machine") if os_type is not None else None,
        cpu_mode=cpu.get("mode") if cpu is not None else None,
        disks=[_disk(d) for d in dev_list if d.tag == "disk"],
        interfaces=[_interface(i) for i in dev_list if i.tag == "interface"],
        hostdevs=[_hostdev(h) for h in dev_list if h.tag == "hostdev"],
        xml=xml,
    )


def _guest(dom: Any, errors: dict[str, str]) -> GuestFact:
    name = dom.name()
    state_code = _try(errors, f"guest:{name}:state", lambda: dom.state()[0])
    state = _STATES.get(state_code, "unknown") if state_code is not None else "unknown"
    persistent = bool(_try(errors, f"guest:{name}:persistent", dom.isPersistent))
    xml = _try(errors, f"guest:{name}:xml", lambda: dom.XMLDesc(0))
    if xml:
        parsed = _try(
            errors,
            f"guest:{name}:xml",
            lambda: guest_from_xml(name, dom.UUIDString(), state, persistent, xml),
        )
        if parsed is not None:
            return parsed
    return GuestFact(name=name, uuid=dom.UUIDString(), state=state, persistent=persistent, xml=xml or "")


def machine_types(caps_xml: str) -> list[str]:
    """Every machine type in the capabilities, aliases ("pc") and canonical names ("pc-i440fx-7.2")."""
    root = ET.fromstring(caps_xml)
    names: set[str] = set()
    for machine in root.iterfind("guest/arch/machine"):
        if machine.text:
            names.add(machine.text.strip())
        if machine.get("canonical"):
            names.add(machine.get("canonical", ""))
    return sorted(names)


# --- connection -------------------------------------------------------------------
def _collect(uri: str) -> LibvirtFacts:
    silence_libvirt_errors()
    try:
        conn = libvirt.openReadOnly(uri)
    except libvirt.libvirtError as exc:
        return LibvirtFacts(uri=uri, status=Availability.ERROR, error=_message(exc))
    errors: dict[str, str] = {}
    try:
        facts = LibvirtFacts(uri=uri, status=Availability.OK, errors=errors)
        facts.hypervisor_type = _try(errors, "hypervisor_type", conn.getType)
        hv = _try(errors, "hypervisor_version", conn.getVersion)
        facts.hypervisor_version = from_libvirt_int(hv) if hv is not None else None
        lib = _try(errors, "lib_version", conn.getLibVersion)
        facts.lib_version = from_libvirt_int(lib) if lib is not None else None
        facts.hostname = _try(errors, "hostname", conn.getHostname)
        caps = _try(errors, "host_uuid", conn.getCapabilities)
        if caps:
            facts.host_uuid = _try(errors, "host_uuid", lambda: ET.fromstring(caps).findtext("host/uuid"))
            facts.machine_types = _try(errors, "machine_types", lambda: machine_types(caps))
            if not facts.host_uuid:
                errors.setdefault("host_uuid", "the capabilities XML has no host/uuid")
        domains = _try(errors, "guests", lambda: conn.listAllDomains(0)) or []
        facts.guests = sorted((_guest(d, errors) for d in domains), key=lambda g: g.name)
        nets = _try(errors, "networks", lambda: conn.listAllNetworks(libvirt.VIR_CONNECT_LIST_NETWORKS_ACTIVE))
        facts.networks = sorted(n.name() for n in nets) if nets is not None else None
        return facts
    finally:
        _try(errors, "close", conn.close)


def gather_libvirt(uri: str, timeout: float = 30.0) -> LibvirtFacts:
    """Facts from ``uri`` (read-only); status ERROR with libvirt's message when it cannot open.

    The open can hang (a daemon whose client slots are all held never answers), so
    the work runs in a daemon thread we can walk away from.
    """
    answer: queue.Queue[LibvirtFacts] = queue.Queue()

    def work() -> None:
        def attempt() -> LibvirtFacts:
            try:
                return _collect(uri)
            except Exception as exc:  # never let a libvirt surprise kill the gather
                return LibvirtFacts(uri=uri, status=Availability.ERROR, error=_message(exc))

        # sshd's MaxStartups dropped libvirt's ssh at kex: load, not a verdict; try again
        answer.put(kexdrop.retry(attempt, lambda facts: kexdrop.dropped(facts.error)))

    threading.Thread(target=work, name=f"libvirt {uri}", daemon=True).start()
    try:
        return answer.get(timeout=timeout)
    except queue.Empty:
        return LibvirtFacts(
            uri=uri, status=Availability.ERROR, error=f"no answer from {uri} within {timeout:g} s"
        )
