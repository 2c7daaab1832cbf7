"""The evacuation plan as a person runs it (text: a shell script of waves) and as JSON (same content).

Each `virsh migrate` is an argv; the text joins it with shlex.quote, word by word. A guest name is
hostile input: a name virsh would read otherwise (an option, a domain id, a UUID) or one holding a
character a terminal or shell line cannot show is replaced by the guest's UUID, which virsh takes too.
Every host text printed goes through preflight.report.safe (control characters escaped).
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

from preflight import __version__
from preflight.evacuate.plan import Evacuation
from preflight.report import safe
from preflight.view.memory import mib

SCHEMA_VERSION = 1
LOCAL = "qemu:///system"  # virsh runs on the source, against its own system daemon
_UUID = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")
WORDS = {"ready": "READY", "not-ready": "NOT READY", "unknown": "UNKNOWN"}


def guest_word(name: str, uuid: str) -> tuple[str, str]:
    """(the word virsh gets for the guest, why it is not the name or "")."""
    if safe.line(name) != name or not name.isprintable():
        return uuid, "its name holds control characters"
    if name.startswith("-"):
        return uuid, "its name starts with '-' (virsh would read an option)"
    if name.isdigit() or _UUID.fullmatch(name):
        return uuid, "its name reads as a domain id or UUID (virsh looks those up first)"
    return name, ""


def command(ev: Evacuation, guest: str, dest: str) -> tuple[list[str], str]:
    lv = ev.source.libvirt if ev.source is not None else None
    fact = lv.guest(guest) if lv is not None else None
    word, why = guest_word(guest, fact.uuid if fact is not None else guest)
    argv = ["virsh", "-c", LOCAL, "migrate", "--live", *ev.flags.words(), word, ev.dest(dest).dest_uri]
    return argv, why


def _dest_label(ev: Evacuation, name: str) -> str:
    d = ev.dest(name)
    inv = f"{safe.line(d.inventory_name)}: " if d.inventory_name else ""
    return f"{name} ({inv}{safe.line(d.spec)})"


def to_dict(ev: Evacuation) -> dict[str, Any]:
    dests = []
    for d in ev.dests:
        j = ev.judged.get(d.name)
        room = ev.rooms.get(d.name)
        cap = ev.caps.get(d.name)
        snap = d.snapshot
        dests.append({
            "name": d.name, "spec": safe.line(d.spec), "dest_uri": safe.line(d.dest_uri),
            "inventory_host": safe.line(d.inventory_name) or None,
            "inspected": snap is not None and snap.reachable,
            "reason": safe.line(d.why_missing or (snap.unreachable_reason or "" if snap is not None else "")) or None,
            "excluded": j.excluded if j is not None else True,
            "host_blocking": [safe.finding_dict(f) for f in (j.host_blocking if j is not None else [])],
            "memory_available": room.bytes if room is not None else None,
            "memory_is": safe.line(room.why) if room is not None else None,
            "memory_left": ev.placed.left.get(d.name),
            "guests": [safe.line(g) for g, w in ev.placed.where.items() if w == d.name],
            "concurrency": cap.value if cap is not None else None,
            "concurrency_why": safe.line(cap.why) if cap is not None else None,
            "ssh_connections": snap.ssh_connections if snap is not None else 0,
        })
    waves = []
    for w in ev.waves:
        moves = []
        for g, dn in w.moves:
            argv, why = command(ev, g, dn)
            moves.append({"guest": safe.line(g), "dest": dn, "dest_uri": safe.line(ev.dest(dn).dest_uri),
                          "memory": ev.needs.get(g), "argv": [safe.line(a) for a in argv],
                          "command": safe.line(shlex.join(argv)), "uuid_because": why or None})
        waves.append({"wave": w.number, "migrations": moves})
    unplaced = {safe.line(g): [{"dest": r.dest, "rules": r.rules, "messages": [safe.line(m) for m in r.messages],
                                "definite": r.definite, "inspected": r.inspected} for r in rs]
                for g, rs in ev.unplaced.items()}
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "migration-preflight", "version": __version__},
        "kind": "evacuate",
        "verdict": ev.verdict,
        "exit_code": int(ev.exit_code),
        "source": {"spec": safe.line(ev.source_spec), "inspected": not ev.source_problem,
                   "reason": safe.line(ev.source_problem) or None,
                   "running_guests": [safe.line(g) for g in ev.guests],
                   "not_running": [{"guest": safe.line(g), "state": safe.line(s)} for g, s in ev.not_running],
                   "concurrency": ev.source_cap.value, "concurrency_why": safe.line(ev.source_cap.why)},
        "flags": ["--live", *ev.flags.words()],
        "destinations": dests,
        "placement": {safe.line(g): d for g, d in ev.placed.where.items()},
        "waves": waves,
        "unplaced": unplaced,
    }


def to_json(ev: Evacuation) -> str:
    return json.dumps(to_dict(ev), indent=2) + "\n"


def to_text(ev: Evacuation) -> str:
    out = [f"# preflight evacuate {safe.line(ev.source_spec)}: {WORDS[ev.verdict]}"]
    if ev.source_problem:
        out.append(f"# the source could not be inspected: {safe.line(ev.source_problem)}")
        return "\n".join(out) + "\n"
    out.append(f"# {len(ev.guests)} running guest(s); {len(ev.placed.where)} placed, {len(ev.unplaced)} fit "
               "nowhere" + (f"; not running, left in place: {', '.join(safe.line(g) for g, _ in ev.not_running)}"
                            if ev.not_running else ""))
    for d in ev.dests:
        j = ev.judged.get(d.name)
        label = _dest_label(ev, d.name)
        if d.snapshot is None or not d.snapshot.reachable:
            why = d.why_missing or (d.snapshot.unreachable_reason if d.snapshot is not None else "") or "not gathered"
            out.append(f"# {label}: NOT INSPECTED, excluded: {safe.line(why)}")
        elif j is not None and j.excluded:
            out.append(f"# {label}: EXCLUDED for every guest: "
                       + "; ".join(safe.line(f"{f.rule}: {f.message}") for f in j.host_blocking[:5]))
        else:
            room, cap = ev.rooms.get(d.name), ev.caps.get(d.name)
            mem = (f"{mib(room.bytes)} available, {mib(ev.placed.left.get(d.name) or 0)} left after the plan"
                   if room is not None and room.bytes is not None else f"memory {room.why if room else 'not judged'}")
            n = sum(1 for w in ev.placed.where.values() if w == d.name)
            conc = f"; {cap.value} at once ({safe.line(cap.why)})" if cap is not None else ""
            out.append(f"# {label}: {n} guest(s); {safe.line(mem)}{conc}")
    if ev.waves:
        out.append(f"# run on the source ({safe.line(ev.source_spec)}) as root; each wave at once, the next when "
                   f"it ended (source: at most {ev.source_cap.value} at once: {safe.line(ev.source_cap.why)})")
    for w in ev.waves:
        out.append(f"\n# wave {w.number}: {len(w.moves)} migration(s)")
        for g, dn in w.moves:
            argv, why = command(ev, g, dn)
            if why:
                out.append(f"# {safe.line(g)}: by its UUID ({why})")
            out.append(safe.line(shlex.join(argv)) + " &")
        out.append("wait")
    if ev.unplaced:
        out.append("\n# guests that fit nowhere:")
        for g, reasons in ev.unplaced.items():
            out.append(f"#   {safe.line(g)}:")
            for r in reasons:
                out.append(f"#     {_dest_label(ev, r.dest)}: " + "; ".join(safe.line(m) for m in r.messages[:4]))
    return "\n".join(out) + "\n"
