"""What the planned guests need of the destination's memory, and what it has (GST009).

A guest's need is its ``<currentMemory>`` (``<memory>`` when absent) from the XML the source's
libvirt reported, plus a fixed estimate of QEMU's own overhead; a guest backed by huge pages
(``<memoryBacking><hugepages>``) needs free huge pages of its page size instead of ordinary
memory. The destination's side comes from libvirt's node calls (``LibvirtFacts.memory``) and
its hugetlbfs mounts (mountinfo).
"""

from __future__ import annotations

from dataclasses import dataclass

from preflight.known import Known, known, unknown
from preflight.model import probes as P
from preflight.model.facts import GuestFact, MemoryFact
from preflight.textsafe import escape_control
from preflight.view.guests import guest_root
from preflight.view.host import HostView

KIB, MIB, GIB = 1024, 1024 * 1024, 1024 * 1024 * 1024

# libvirt's scaled integers (virScaleInteger): the unit names of the domain XML; none given is KiB.
UNITS = {
    "b": 1, "bytes": 1,
    "k": KIB, "kib": KIB, "kb": 1000,
    "m": MIB, "mib": MIB, "mb": 1000**2,
    "g": GIB, "gib": GIB, "gb": 1000**3,
    "t": 1024**4, "tib": 1024**4, "tb": 1000**4,
    "p": 1024**5, "pib": 1024**5, "pb": 1000**5,
    "e": 1024**6, "eib": 1024**6, "eb": 1000**6,
}

# QEMU's own memory beside the guest's RAM, per guest: its binary and libraries, device models,
# KVM's page tables and the migration dirty bitmaps. The lab's 64 MiB SeaBIOS guest runs in a
# QEMU of about 45 MB RSS (most of it QEMU, as the idle guest touches little RAM); 64 MiB plus
# 1 % of the guest's memory (page tables and bitmaps grow with it) covers that with room.
OVERHEAD_BASE = 64 * MIB
OVERHEAD_PER_MILLE = 10

# Left after every planned guest landed: less than this is a warning (the host itself, page cache,
# a guest that balloons back up need room too).
MARGIN_MIN = 512 * MIB
MARGIN_PERCENT = 10

GUEST_XML = "the guest's XML"


def scaled(value: str | None, unit: str | None, default_unit: str = "KiB") -> int | None:
    """Bytes of a libvirt scaled integer (``<memory unit='MiB'>64</memory>``); None when it is not one."""
    digits = (value or "").strip()
    # ASCII only and bounded: str.isdigit() takes '²' and '١٢', and int() refuses > 4300 digits
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 20:
        return None
    factor = UNITS.get((unit or default_unit).strip().lower())
    return int(digits) * factor if factor is not None else None


def overhead(memory: int) -> int:
    return OVERHEAD_BASE + memory * OVERHEAD_PER_MILLE // 1000


def margin(total: int | None) -> int:
    return max(MARGIN_MIN, (total or 0) * MARGIN_PERCENT // 100)


@dataclass(frozen=True)
class GuestMemory:
    name: str
    memory: int  # bytes: <currentMemory>, else <memory>
    element: str  # which element gave it
    # huge pages: None when the guest uses ordinary memory; () when backed by huge pages of the
    # host's default size; else the explicit page sizes in KiB (<page size=...>)
    hugepages: tuple[int, ...] | None = None


def guest_memory(guest: GuestFact) -> Known[GuestMemory]:
    parsed = guest_root(guest)
    if parsed.value is None:
        return unknown(parsed.reason)
    root = parsed.value
    for tag in ("currentMemory", "memory"):
        el = root.find(tag)
        if el is not None:
            size = scaled(el.text, el.get("unit"))
            if size is None:
                shown = escape_control((el.text or "").strip()[:40])  # bounded: the XML is hostile
                return unknown(f"{guest.name}: <{tag}> is not a size: "
                               f"{shown!r} {escape_control(el.get('unit') or '')[:20]}")
            break
    else:
        return unknown(f"{guest.name}: the guest XML has no <currentMemory> or <memory>")
    hp = root.find("memoryBacking/hugepages")
    pages: tuple[int, ...] | None = None
    if hp is not None:
        sizes = []
        for page in hp.findall("page"):
            kib = scaled(page.get("size"), page.get("unit"))
            if kib is None or kib < KIB:  # no page is under 1 KiB: 0 would divide the page count by zero
                return unknown(f"{guest.name}: a huge page size that is not a size: "
                               f"{escape_control(page.get('size') or '')[:40]!r}")
            sizes.append(kib // KIB)
        pages = tuple(sorted(set(sizes)))
    return known(GuestMemory(guest.name, size, tag, pages), GUEST_XML)


def node_memory(host: HostView) -> Known[MemoryFact]:
    """The host's memory from libvirt's node calls; UNKNOWN with the reason when they failed."""
    lv = host.libvirt_reason()
    if not lv.ok:
        return unknown(lv.reason, lv.not_applicable)
    facts = lv.get()
    if facts.memory is None:
        return unknown(f"libvirt {facts.uri}: node memory not read ({facts.errors.get('memory', 'no answer')})")
    return known(facts.memory, f"libvirt {facts.uri} (virNodeGetFreeMemory, virNodeGetMemoryStats)")


def usable_memory(mem: MemoryFact, errors: dict[str, str]) -> Known[tuple[int, str]]:
    """Bytes a new QEMU can get and what they are: free + buffers + page cache (the kernel reclaims
    cache for a new guest) when libvirt's memory stats answered, else the free memory alone."""
    if mem.available is not None:
        return known((mem.available, "free + buffers + cached (virNodeGetMemoryStats)"), "libvirt")
    if mem.free is not None:
        return known((mem.free, "free memory (virNodeGetFreeMemory; page cache not counted)"), "libvirt")
    why = errors.get("memory:stats") or errors.get("memory:free") or "not reported"
    return unknown(f"the destination's free memory: {why}")


def hugetlbfs_sizes(host: HostView) -> Known[list[int]]:
    """Page sizes (KiB) of the host's hugetlbfs mounts, from mountinfo's super options (``pagesize=2M``).

    libvirt uses these mounts for huge-page-backed guests; with none it refuses to start one
    ("hugetlbfs filesystem is not mounted or disabled by administrator config").
    """
    text = host.text(P.MOUNTINFO)
    if not text.ok:
        return unknown(text.reason, text.not_applicable)
    sizes: list[int] = []
    for ln in text.get().splitlines():
        _, sep, right = ln.partition(" - ")
        tail = right.split(" ")
        if not sep or len(tail) < 3 or tail[0] != "hugetlbfs":
            continue
        opts = dict(o.split("=", 1) for o in tail[2].split(",") if "=" in o)
        size = opts.get("pagesize", "")
        num, unit = size[:-1], size[-1:].upper()
        factor = {"K": 1, "M": 1024, "G": 1024 * 1024}.get(unit)
        if num.isascii() and num.isdigit() and len(num) <= 20 and factor:
            sizes.append(int(num) * factor)
        else:
            sizes.append(0)  # mounted, size not shown: the system default
    return known(sizes, f"{P.MOUNTINFO}")


def mib(n: int) -> str:
    return f"{n / MIB:.0f} MiB" if abs(n) < 10 * GIB else f"{n / GIB:.1f} GiB"
