"""Effective sshd values with their origin: `sshd -T` when it ran, else the parsed files, else the default.

One place for what SSH001/SSH002 judge and what the sshd fix edits, so the advice and the
edit name the same file, line and value.
"""

from __future__ import annotations

from dataclasses import dataclass

from preflight.known import Known, known, unknown
from preflight.model import probes as P
from preflight.parsers.sshd import compiled_default, has_per_source_max_startups, parse_max_startups
from preflight.sizing import (
    MAX_STARTUPS_CAP,
    format_max_startups,
    max_startups_start_within,
    recommended_max_startups_start,
)
from preflight.view.host import HostView

# sshd's compiled MaxStartups, as the parser's defaults table has it (start, rate, full).
MAX_STARTUPS_DEFAULT = parse_max_startups(compiled_default("maxstartups") or "10:30:100")


@dataclass(frozen=True)
class SshdValue:
    value: str | None  # None: not set anywhere, the compiled default applies
    origin: str  # "sshd -T" | "file" | "default"
    file: str | None = None
    line: int | None = None

    def where(self) -> str:
        if self.origin == "file":
            return f"{self.file}:{self.line}"
        return "effective value from sshd -T" if self.origin == "sshd -T" else "compiled default"


def sshd_value(host: HostView, keyword: str) -> Known[SshdValue]:
    files = host.sshd_config
    placed = files.get().effective(keyword) if files.ok else None
    file, line = (placed.file, placed.line) if placed else (None, None)
    live = host.sshd_effective_T
    if live.ok and keyword.lower() in live.get():
        return known(SshdValue(live.get()[keyword.lower()][0], "sshd -T", file, line), "sshd -T")
    if not files.ok:
        return unknown(files.reason, files.not_applicable)
    if files.get().errors:
        err = files.get().errors[0]
        return unknown(f"{err.file}:{err.line}: {err.message}")
    if placed is not None:
        return known(SshdValue(placed.value, "file", file, line), "file")
    return known(SshdValue(None, "default"), "default")


def max_startups(value: SshdValue) -> tuple[int, int, int]:
    """(start, rate, full) of an effective MaxStartups value; the compiled default when unset."""
    return parse_max_startups(value.value) if value.value else MAX_STARTUPS_DEFAULT


def knows_per_source(version: str) -> bool:
    """Whether this OpenSSH release has PerSourceMaxStartups (8.5 and later)."""
    return has_per_source_max_startups(version)


def dropped_at_kex(host: HostView) -> Known[int]:
    """How many of this inspection's own ssh connections the host's sshd dropped (MaxStartups)."""
    return host.text(P.SSH_DROPPED).map(int)


def max_startups_target(current: tuple[int, int, int], n: int, cap: int = MAX_STARTUPS_CAP) -> str | None:
    """The MaxStartups value SSH001 advises and the sshd fix writes, computed once: start = n + margin
    (the margin shrinks to stay within ``cap``), rate kept, full >= start. None: n does not fit under cap."""
    _, rate, full = current
    start = max_startups_start_within(n, cap)
    return None if start is None else format_max_startups(start, rate, max(full, start))


def per_source_limit(value: SshdValue) -> int | None:
    """An effective PerSourceMaxStartups as a number; None: no per-source limit ("none", unset)."""
    raw = (value.value or "none").lower()
    return int(raw) if raw.isascii() and raw.isdigit() else None  # isdigit alone takes "²"


def per_source_target(n: int) -> int:
    """The PerSourceMaxStartups value SSH002 advises and the sshd fix writes: every migration comes
    from the one source address, n at once, plus the margin MaxStartups keeps for other logins."""
    return recommended_max_startups_start(n)
