"""Which destination each guest goes to: memory packing over the destinations that can take it.

A guest's need is what GST009 counts for it (preflight.view.memory): its ``<currentMemory>``
(``<memory>`` when absent) plus QEMU's overhead; a huge-page guest needs only the overhead from
ordinary memory (its pages are judged by GST009 for the guest alone, not packed across guests). A
destination's room is the memory GST009 compares with (free + buffers + page cache, else free).
GST009 judges all the guests of one plan at once; here each guest was judged alone, so the room is
taken from the view module directly and subtracted as guests are placed (each guest counted once).

Order: first-fit decreasing: the biggest guest first (ties by name), each onto the destination with
the most room left (ties: fewer guests placed, then the order of --to). Same input, same plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from preflight.known import Known, known, unknown
from preflight.model.facts import GuestFact, HostSnapshot
from preflight.view.host import HostView
from preflight.view.memory import guest_memory, mib, node_memory, overhead, usable_memory


@dataclass(frozen=True)
class Room:
    """A destination's memory for new guests; ``bytes`` None: not judged (``why``), no limit applied."""

    bytes: int | None
    why: str


@dataclass
class Placement:
    where: dict[str, str] = field(default_factory=dict)  # guest -> destination name, in placement order
    no_room: dict[str, dict[str, str]] = field(default_factory=dict)  # guest -> destination -> why not
    left: dict[str, int | None] = field(default_factory=dict)  # destination -> room left (None: not judged)


def guest_need(guest: GuestFact) -> Known[int]:
    """Bytes of ordinary memory the guest takes on a destination (GST009's count for it alone)."""
    got = guest_memory(guest)
    if not got.ok:
        return unknown(got.reason)
    g = got.get()
    return known((0 if g.hugepages is not None else g.memory) + overhead(g.memory), got.source or "")


def room(dest: HostSnapshot) -> Room:
    """What GST009 compares with on this destination; a test driver or an image root has none to judge."""
    view = HostView(dest)
    if view.libvirt_is_test_driver:
        return Room(None, "not judged: the libvirt test driver models no host memory")
    if view.image_mode:
        return Room(None, "not judged: an image root has no memory to look at")
    mem = node_memory(view)
    if not mem.ok:
        return Room(None, f"not judged: {mem.reason}")
    lv = view.libvirt
    usable = usable_memory(mem.get(), lv.errors if lv is not None else {})
    if not usable.ok:
        return Room(None, f"not judged: {usable.reason}")
    have, what = usable.get()
    return Room(have, what)


def place(needs: dict[str, int | None], allowed: dict[str, list[str]], rooms: dict[str, Room],
          order: list[str]) -> Placement:
    """``needs``: guest -> bytes (None: not known, only placeable where memory is not judged);
    ``allowed``: guest -> destinations whose rules accept it alone; ``order``: the destinations as given."""
    out = Placement(left={d: rooms[d].bytes for d in order})
    count = {d: 0 for d in order}
    for g in sorted(needs, key=lambda n: (-(needs[n] or 0), n)):
        need = needs[g]
        fits: list[str] = []
        for d in (d for d in order if d in allowed.get(g, [])):
            left = out.left[d]
            if left is None:
                fits.append(d)
            elif need is None:
                out.no_room.setdefault(g, {})[d] = "the guest's memory is not known"
            elif need > left:
                out.no_room.setdefault(g, {})[d] = (f"GST009: needs {mib(need)} (with QEMU overhead); "
                                                    f"{mib(max(left, 0))} left after the guests placed there "
                                                    f"before it ({rooms[d].why})")
            else:
                fits.append(d)
        if not fits:
            continue
        def most_room(d: str) -> tuple[float, int, int]:
            left = out.left[d]
            return (-(float("inf") if left is None else float(left)), count[d], order.index(d))

        best = min(fits, key=most_room)
        out.where[g] = best
        count[best] += 1
        out.no_room.pop(g, None)
        if out.left[best] is not None and need is not None:
            out.left[best] = (out.left[best] or 0) - need
    return out
