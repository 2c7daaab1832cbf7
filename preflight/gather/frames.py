"""Read the gather script's framed output back into Probes.

Every marker is "\\n--TOKEN <tag>\\n" with a random TOKEN chosen per run, so no
file content can end a section early or invent one. Tags, in order per section:
K (key), H (how it was obtained), O (stdout), E rc status (then stderr), Z.
"""

from __future__ import annotations

from preflight.model.facts import Availability, Probe

_STATUS = {"ok": Availability.OK, "missing": Availability.MISSING, "error": Availability.ERROR}


class FrameError(ValueError):
    """The output is not the gather script's (no sections at all)."""


def parse_frames(output: str, token: str) -> tuple[dict[str, Probe], bool]:
    """Probes found in ``output`` and whether the script ran to its end (DONE marker)."""
    marker = f"\n--{token} "
    chunks = ("\n" + output).split(marker)[1:]  # the script's first marker has its own "\n"
    probes: dict[str, Probe] = {}
    done = False
    cur: dict[str, str] = {}
    for chunk in chunks:
        tag, _, data = chunk.partition("\n")
        kind = tag.split(" ", 1)[0]
        if kind == "K":
            cur = {"key": data}
        elif kind in ("H", "O") and cur:
            cur[kind] = data
        elif kind == "E" and cur:
            cur["E"] = tag
            cur["stderr"] = data
        elif kind == "Z" and "E" in cur:
            probe = _probe(cur)
            probes[probe.key] = probe
            cur = {}
        elif kind == "DONE":
            done = True
    if cur.get("key"):  # cut off mid-section (timeout): keep the key, say why
        key = cur["key"]
        probes[key] = Probe(key, cur.get("H", key), Availability.ERROR, error="gather script stopped here")
    return probes, done


def _probe(cur: dict[str, str]) -> Probe:
    _, rc_text, status_text = (cur["E"].split(" ") + ["", ""])[:3]
    rc = int(rc_text) if rc_text.lstrip("-").isdigit() else None
    status = _STATUS.get(status_text, Availability.ERROR)
    stderr = cur.get("stderr", "").strip()
    return Probe(
        key=cur["key"],
        how=cur.get("H", cur["key"]),
        status=status,
        text=cur.get("O", "") if status is Availability.OK else None,
        rc=rc,
        error=stderr or None,
    )
