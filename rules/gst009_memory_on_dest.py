"""GST009 memory-on-dest — the destination has memory for every planned guest.

What it checks
    The destination's memory as its libvirt reports it (free + buffers +
    page cache from virNodeGetMemoryStats; the free memory alone when the
    stats failed) against the sum, over every planned guest (all of them
    land, however many migrate at once; with ``--all-running`` every
    running guest of the source), of its ``<currentMemory>`` (``<memory>``
    when absent; units as libvirt reads them) plus QEMU's own overhead,
    estimated at 64 MiB + 1 % of the guest's memory. Less than that is an
    error; less than max(512 MiB, 10 % of the host's memory) left over is
    a warning. A guest backed by huge pages (``<memoryBacking><hugepages>``)
    needs free huge pages of its page size instead (``<page size=...>``, or
    the size of the destination's hugetlbfs mount), summed over NUMA cells
    (virNodeGetFreePages), and a hugetlbfs mount of that size. The memory
    facts missing is UNKNOWN; a test-driver or image-root destination has
    no memory to look at and is skipped, as is an ``--offline`` migration
    (the destination only defines the guests).

Why it breaks a migration
    The destination's QEMU must hold the guest's whole RAM by the end of
    the migration: without room the kernel refuses the huge pages at once
    (``unable to map backing store for guest RAM: Cannot allocate memory``)
    or the OOM killer ends a guest, a migrating one or one already there,
    part way through. An evacuation (``--all-running``) lands every guest
    on one host, so one short host fails many migrations.

How to fix it
    Migrate fewer guests to this destination (spread them over several
    hosts), free memory there (stop or move other guests), or reserve huge
    pages of the guest's size on the destination
    (``echo N > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages``,
    or ``hugepagesz=1G hugepages=N`` on the kernel command line) with
    hugetlbfs mounted (``/dev/hugepages``).
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.known import Known, unknown
from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed
from preflight.rules._guests import guests_on_runnable_dest
from preflight.view.memory import (
    KIB,
    GuestMemory,
    guest_memory,
    hugetlbfs_sizes,
    margin,
    mib,
    node_memory,
    overhead,
    usable_memory,
)

ID = "GST009"
NAME = "memory-on-dest"
SEVERITY = Severity.ERROR
SEVERITIES = (Severity.ERROR, Severity.WARNING)
NEEDS = ("libvirt", "mounts")
SEED = ("Beyond the RHEL guide: the destination needs free memory (and huge pages) for every guest "
        "migrating to it, plus QEMU's overhead.")

DST = Scope.DESTINATION
JUDGED = "judged from the destination's libvirt node memory"
SPREAD = ("Migrate fewer guests to this destination (spread them over several hosts) or free memory there "
          "(stop or move other guests)")


def check(ctx: Context) -> Iterator[Outcome]:
    guests, stop = guests_on_runnable_dest(ctx, "guest memory", "the libvirt test driver models no host memory",
                                           "an image root has no memory to look at",
                                           "the destination only defines the guests (memory is needed at start)")
    if stop is not None:
        yield stop
        return
    if not guests:
        return
    needs: list[GuestMemory] = []
    for g in guests:
        got = guest_memory(g)
        if not got.ok:
            yield not_seen(DST, f"{g.name}: memory to find room for", got, subject=g.name)
            return  # a sum with a guest missing is no answer
        needs.append(got.get())
    mem = node_memory(ctx.dest)
    if not mem.ok:
        yield not_seen(DST, "the destination's memory", mem)
        return
    lv = ctx.dest.libvirt
    errors = lv.errors if lv is not None else {}
    yield from _ordinary(needs, mem.get().total, usable_memory(mem.get(), errors))
    huge = [n for n in needs if n.hugepages is not None]
    if huge:
        yield from _hugepages(ctx, huge, mem.get().free_pages, errors)


def _ordinary(needs: list[GuestMemory], total: int | None, usable: Known[tuple[int, str]]) -> Iterator[Outcome]:
    ram = sum(n.memory for n in needs if n.hugepages is None)
    over = sum(overhead(n.memory) for n in needs)
    need = ram + over
    names = ", ".join(f"{n.name} {mib(n.memory)}" + (" (huge pages)" if n.hugepages is not None else "")
                      for n in needs)
    if not usable.ok:
        yield not_seen(DST, f"room for {len(needs)} guest(s) needing {mib(need)}", usable)
        return
    have, what = usable.get()
    left = have - need
    ev = {"guests": names, "guest_memory": ram, "qemu_overhead": over, "needed": need, "available": have,
          "available_is": what, "total": total, "judged_by": "libvirt node memory"}
    summary = (f"{len(needs)} guest(s) need {mib(need)} ({mib(ram)} of guest memory + {mib(over)} QEMU overhead); "
               f"the destination has {mib(have)} ({what})")
    if left < 0:
        yield failed(DST, f"{summary}: {mib(-left)} short; {JUDGED}", SPREAD, evidence=ev)
    elif left < margin(total):
        yield failed(DST, f"{summary}: only {mib(left)} would be left (less than {mib(margin(total))}); {JUDGED}",
                     SPREAD + ", or accept a host with little memory to spare", severity=Severity.WARNING,
                     evidence=ev)
    else:
        yield passed(DST, f"{summary}; {mib(left)} left; {JUDGED}", evidence=ev)


def _hugepages(ctx: Context, huge: list[GuestMemory], free_pages: dict[str, int],
               errors: dict[str, str]) -> Iterator[Outcome]:
    mounts = hugetlbfs_sizes(ctx.dest)
    if not mounts.ok:
        yield not_seen(DST, "the destination's hugetlbfs mounts", mounts)
        return
    sizes = mounts.get()
    if not sizes:
        yield failed(DST, f"{', '.join(n.name for n in huge)}: backed by huge pages, and the destination has no "
                     "hugetlbfs mounted: libvirt will say 'hugetlbfs filesystem is not mounted or disabled by "
                     "administrator config'; judged from the destination's mountinfo",
                     "Mount hugetlbfs on the destination (mount -t hugetlbfs hugetlbfs /dev/hugepages) and "
                     "restart libvirt there", evidence={"mountinfo": "no hugetlbfs"})
        return
    # the page size each guest gets: its <page size>, else the mounts' (when they all agree)
    per_size: dict[int, list[GuestMemory]] = {}
    unsure: list[GuestMemory] = []
    for n in huge:
        if n.hugepages:
            for size in n.hugepages:
                per_size.setdefault(size, []).append(n)
        elif len(set(sizes)) == 1 and sizes[0]:
            per_size.setdefault(sizes[0], []).append(n)
        else:
            unsure.append(n)
    if unsure:
        yield not_seen(DST, f"{', '.join(n.name for n in unsure)}: huge pages of the destination's default size",
                       unknown("several hugetlbfs mounts (or one of unknown size) and the host's default "
                               f"huge page size is not gathered (mounts: {sorted(set(sizes))} KiB)"))
    if not free_pages and per_size:
        why = errors.get("memory:free_pages") or "libvirt reported no huge page pool (virNodeGetFreePages)"
        yield not_seen(DST, "free huge pages on the destination", unknown(why))
        return
    for size, guests in sorted(per_size.items()):
        # a guest with several <page> sizes (per NUMA node) is counted whole at each: an upper bound
        need_pages = sum(-(-g.memory // (size * KIB)) for g in guests)
        free = free_pages.get(str(size))
        names = ", ".join(g.name for g in guests)
        ev = {"page_size_kib": size, "pages_needed": need_pages, "pages_free": free, "guests": names,
              "judged_by": "libvirt virNodeGetFreePages, mountinfo"}
        if size not in sizes:
            yield failed(DST, f"{names}: huge pages of {size} KiB, and no hugetlbfs of that size is mounted on the "
                         "destination: libvirt will say 'Unable to find any usable hugetlbfs mount'",
                         f"Mount hugetlbfs with pagesize={size}K on the destination and restart libvirt there",
                         subject=names, evidence=ev)
            continue
        if free is None:
            yield not_seen(DST, f"{names}: free huge pages of {size} KiB",
                           unknown(f"libvirt reported no {size} KiB page pool"), subject=names)
            continue
        msg = (f"{names}: {need_pages} huge pages of {size} KiB needed, {free} free on the destination "
               "(all NUMA cells); judged from libvirt's free page counts")
        if free < need_pages:
            yield failed(DST, msg + ": QEMU will fail with 'unable to map backing store for guest RAM: "
                         "Cannot allocate memory'",
                         f"Reserve at least {need_pages - free} more {size} KiB huge pages on the destination "
                         f"(/sys/kernel/mm/hugepages/hugepages-{size}kB/nr_hugepages) or migrate fewer of "
                         "these guests there", subject=names, evidence=ev)
        else:
            yield passed(DST, msg, subject=names, evidence=ev)
