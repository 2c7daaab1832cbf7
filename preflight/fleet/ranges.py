"""Ansible host ranges: ``kvm[01:20].example.com``, ``db-[a:f]``, ``x[0:10:2]`` (several brackets nest).

As ansible.inventory.helpers' expand_hostname_range: a leading zero pads to the width of the
bounds (which must then be equal), letters range over ascii_letters, ``[:5]`` starts at 0.
An inventory is hostile input: the total expansion is bounded (MAX_HOSTS).
"""

from __future__ import annotations

import re
import string

MAX_HOSTS = 100_000  # more hosts than any fleet this tool judges; a [0:999999999] range is refused
_RANGE = re.compile(r"\[([^\[\]]*:[^\[\]]*)\]")


class RangeError(ValueError):
    pass


def has_range(pattern: str) -> bool:
    return _RANGE.search(pattern) is not None


def _values(spec: str) -> list[str]:
    bounds = spec.split(":")
    if len(bounds) not in (2, 3):
        raise RangeError(f"[{spec}]: a host range is [begin:end] or [begin:end:step]")
    beg, end = bounds[0] or "0", bounds[1]
    step_text = bounds[2] if len(bounds) == 3 else "1"
    if not end:
        raise RangeError(f"[{spec}]: a host range needs an end")
    if not (step_text.isascii() and step_text.isdigit()) or int(step_text) < 1:
        raise RangeError(f"[{spec}]: the step must be a positive number")
    step = int(step_text)
    if beg in string.ascii_letters and end in string.ascii_letters and not beg.isdigit():
        lo, hi = string.ascii_letters.index(beg), string.ascii_letters.index(end)
        if lo > hi:
            raise RangeError(f"[{spec}]: begin must not be after end")
        return list(string.ascii_letters[lo:hi + 1:step])
    if not (beg.isascii() and beg.isdigit() and end.isascii() and end.isdigit()):
        raise RangeError(f"[{spec}]: bounds must be numbers or single letters")
    width = len(beg) if beg.startswith("0") and len(beg) > 1 else 0
    if width and len(end) != width:
        raise RangeError(f"[{spec}]: zero-padded bounds must have the same width")
    lo, hi = int(beg), int(end)
    if lo > hi:
        raise RangeError(f"[{spec}]: begin must not be after end")
    if (hi - lo) // step + 1 > MAX_HOSTS:
        raise RangeError(f"[{spec}]: more than {MAX_HOSTS} hosts")
    return [str(i).zfill(width) for i in range(lo, hi + 1, step)]


def expand(pattern: str, budget: int = MAX_HOSTS) -> list[str]:
    """Every host name ``pattern`` stands for (itself when it has no range)."""
    match = _RANGE.search(pattern)
    if match is None:
        return [pattern]
    head, tail = pattern[:match.start()], pattern[match.end():]
    out: list[str] = []
    for value in _values(match.group(1)):
        out.extend(expand(head + value + tail, budget - len(out)))
        if len(out) > budget:
            raise RangeError(f"{pattern}: more than {MAX_HOSTS} hosts")
    return out
