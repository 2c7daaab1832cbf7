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
from preflight.gather.libvirt_jobs import guest_jobs
from preflight.model.facts import (
    Availability,
    DiskFact,
    GuestFact,
    InterfaceFact,
    LibvirtFacts,
    MemoryFact,
    PoolFact,
)
from preflight.versions import from_libvirt_int
from preflight.xmlsafe import parse_xml

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
        format=driver.get("type") if driver is not None else None,
        backing=_backing_chain(el),
        target=target.get("dev", "") if target is not None else "",
        device=el.get("device", "disk"),
        type=dtype,
        source=source,
        protocol=protocol,
        cache=driver.get("cache") if driver is not None else None,
        readonly=el.find("readonly") is not None,
        shareable=el.find("shareable") is not None,
    )


def _backing_chain(disk: ET.Element) -> list[str]:
    """The live XML's <backingStore> chain, nearest first (bounded: a crafted XML may nest deeply)."""
    chain: list[str] = []
    node = disk.find("backingStore")
    while node is not None and len(chain) < 64:
        src = node.find("source")
        if src is None:
            break
        if node.get("type") == "network":
            chain.append(f"{src.get('protocol', '')}:{src.get('name', '')}")
        else:
            chain.append(src.get("file") or src.get("dev") or src.get("dir") or "")
        node = node.find("backingStore")
    return chain


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
    root = parse_xml(xml)
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
            if state in ("running", "paused"):
                _block_info(dom, parsed, errors)
            guest_jobs(dom, parsed, errors)
            return parsed
    return GuestFact(name=name, uuid=dom.UUIDString(), state=state, persistent=persistent, xml=xml or "")


def _block_info(dom: Any, guest: GuestFact, errors: dict[str, str]) -> None:
    """Capacity and allocation of each local disk (virDomainGetBlockInfo: allowed read-only)."""
    for disk in guest.disks:
        if disk.type not in ("file", "block") or not disk.source or not disk.target:
            continue
        target = disk.target
        info: list[int] | None = _try(errors, f"guest:{guest.name}:blockinfo:{target}",
                                      lambda: dom.blockInfo(target))  # noqa: B023 - called at once
        if info:
            disk.capacity, disk.allocation = int(info[0]), int(info[1])


def _pool(pool: Any, errors: dict[str, str]) -> PoolFact:
    name = pool.name()
    fact = PoolFact(name=name, type="", active=bool(_try(errors, f"pool:{name}:active", pool.isActive)))
    xml = _try(errors, f"pool:{name}:xml", lambda: pool.XMLDesc(0))
    if xml:
        root = _try(errors, f"pool:{name}:xml", lambda: parse_xml(xml))
        if root is not None:
            fact.type = root.get("type", "")
            fact.target = (root.findtext("target/path") or "").strip() or None
    info = _try(errors, f"pool:{name}:info", pool.info) if fact.active else None
    if info:
        fact.capacity, fact.allocation, fact.available = (int(v) for v in info[1:4])
    return fact


def _memory(conn: Any, errors: dict[str, str], caps: str | None) -> MemoryFact:
    mem = MemoryFact()
    info = _try(errors, "memory:total", conn.getInfo)
    mem.total = int(info[1]) * 1024 * 1024 if info else None  # MiB
    free = _try(errors, "memory:free", conn.getFreeMemory)
    mem.free = int(free) if free is not None else None
    stats = _try(errors, "memory:stats", lambda: conn.getMemoryStats(libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS))
    if stats and "free" in stats:
        mem.available = sum(int(stats.get(k, 0)) for k in ("free", "buffers", "cached")) * 1024  # KiB
    sizes = sorted({int(p.get("size", "0")) for p in parse_xml(caps).iterfind("host/topology/cells/cell/pages")
                    if p.get("unit", "KiB") == "KiB"} - {0, 4}) if caps else []
    cells = len(parse_xml(caps).findall("host/topology/cells/cell")) if caps else 0
    if sizes and cells:
        pages = _try(errors, "memory:free_pages", lambda: conn.getFreePages(sizes, 0, cells))
        for per_size in (pages or {}).values():
            for size, count in per_size.items():
                mem.free_pages[str(size)] = mem.free_pages.get(str(size), 0) + int(count)
    return mem


def machine_types(caps_xml: str) -> list[str]:
    """Every machine type in the capabilities, aliases ("pc") and canonical names ("pc-i440fx-7.2")."""
    root = parse_xml(caps_xml)
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
        error = _message(exc)
        if uri.startswith("test:"):  # libxml2 quotes the offending line of whatever file the URI names
            error = error.split("\n", 1)[0]
        return LibvirtFacts(uri=uri, status=Availability.ERROR, error=error)
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
        facts.capabilities = caps or None
        if caps:
            facts.host_uuid = _try(errors, "host_uuid", lambda: parse_xml(caps).findtext("host/uuid"))
            facts.machine_types = _try(errors, "machine_types", lambda: machine_types(caps))
            if not facts.host_uuid:
                errors.setdefault("host_uuid", "the capabilities XML has no host/uuid")
        domains = _try(errors, "guests", lambda: conn.listAllDomains(0)) or []
        facts.guests = sorted((_guest(d, errors) for d in domains), key=lambda g: g.name)
        nets = _try(errors, "networks", lambda: conn.listAllNetworks(libvirt.VIR_CONNECT_LIST_NETWORKS_ACTIVE))
        facts.networks = sorted(n.name() for n in nets) if nets is not None else None
        pools = _try(errors, "pools", lambda: conn.listAllStoragePools(0))
        facts.pools = sorted((_pool(p, errors) for p in pools), key=lambda p: p.name) if pools is not None else None
        facts.memory = _try(errors, "memory", lambda: _memory(conn, errors, caps))
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
