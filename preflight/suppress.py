"""Inline suppression in the inspected file itself: ``# preflight: ignore[SSH001] reason``.

On the finding's line (where the file's format allows a trailing comment: libvirtd.conf,
/etc/hosts) or on the line above it (everywhere, sshd_config included). For a finding about a
setting the file lacks (a compiled default: no line), ``# preflight: ignore-file[SSH001] reason``
anywhere in that file. Pure: the file's text is the one in the snapshot, as the rule saw it.
Several rules: ``ignore[SSH001,LIM001]``; rule ids or slugs. A suppression without a reason is not
applied and is reported.
The reason is text from an inspected file: escaped and bounded before it is stored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from preflight.engine import Note
from preflight.model.facts import HostMode, HostSnapshot
from preflight.model.findings import Finding, Status, Waived
from preflight.model.probes import file_key
from preflight.rules import find_rule
from preflight.textsafe import escape_control

MARKER = re.compile(r"#\s*preflight:\s*ignore\[([^\]]*)\]\s*(.*?)\s*$", re.IGNORECASE)
# anywhere in the file: for a finding about a setting the file lacks (a compiled default has no line)
FILE_MARKER = re.compile(r"#\s*preflight:\s*ignore-file\[([^\]]*)\]\s*(.*?)\s*$", re.IGNORECASE)
MAX_REASON = 200


@dataclass(frozen=True)
class Suppression:
    rules: tuple[str, ...]  # as written, upper-cased ids or lower-cased slugs compared
    reason: str  # escaped, bounded; "" = none given
    line: int
    marker: str = "ignore"  # or "ignore-file", as written in the comment

    def covers(self, finding: Finding) -> bool:
        return any(r.upper() == finding.rule or r.lower() == finding.name for r in self.rules)


def parse_line(text: str, line: int, marker: re.Pattern[str] = MARKER) -> Suppression | None:
    m = marker.search(text)
    if m is None:
        return None
    rules = tuple(escape_control(r.strip(), keep_newlines=False)[:40] for r in m.group(1).split(",") if r.strip())
    reason = escape_control(m.group(2), keep_newlines=False)[:MAX_REASON]
    kind = "ignore-file" if marker is FILE_MARKER else "ignore"
    return Suppression(rules=rules, reason=reason, line=line, marker=kind)


def near(text: str, line: int) -> list[Suppression]:
    """The suppressions on ``line`` (1-based) and on the line above it."""
    lines = text.splitlines()
    found = []
    for no in (line, line - 1):
        if 1 <= no <= len(lines):
            s = parse_line(lines[no - 1], no)
            if s is not None:
                found.append(s)
    return found


def whole_file(text: str) -> list[Suppression]:
    """The ``# preflight: ignore-file[RULE] reason`` comments anywhere in ``text``."""
    found = []
    for no, line in enumerate(text.splitlines(), 1):
        if "ignore-file" in line:
            s = parse_line(line, no, FILE_MARKER)
            if s is not None:
                found.append(s)
    return found


def _where(snap: HostSnapshot, file: str, line: int) -> str:
    """The comment's place as a person opens it: the file inside an image root, else host role + path."""
    place = snap.spec.rstrip("/") + file if snap.mode is HostMode.IMAGE else f"{snap.role} {file}"
    return f"{escape_control(place, keep_newlines=False)}:{line}"


def apply_inline(findings: list[Finding], snapshots: Mapping[str, HostSnapshot]) -> list[Note]:
    """Mark FAIL findings suppressed in their own file as waived ("inline: reason"); notes for
    suppressions that name the finding's rule but give no reason (not applied), and for those naming no rule."""
    notes: list[Note] = []
    reported: set[tuple[str, str]] = set()  # one note per comment and kind, however many findings point at it

    def note(kind: str, where: str, message: str) -> None:
        if (kind, where) not in reported:
            reported.add((kind, where))
            notes.append(Note(level="warning", kind=kind, where=where, message=f"{where}: {message}"))

    for f in findings:
        if f.status is not Status.FAIL or f.waived is not None or not f.file:
            continue
        snap = snapshots.get(f.host.value)
        if snap is None:
            continue
        probe = snap.probe(file_key(f.file))
        if not probe.ok or probe.text is None:
            continue
        for s in (near(probe.text, f.line) if f.line else []) + whole_file(probe.text):
            where = _where(snap, f.file, s.line)
            written = f"`preflight: {s.marker}[{', '.join(s.rules)}]`"
            unknown = [r for r in s.rules if find_rule(r) is None]
            if unknown:  # a typo leaves the finding failing with no word why
                note("suppression-unknown-rule", where, f"{written} names no rule {', '.join(map(repr, unknown))} "
                                                        "(`preflight rules` lists them)")
            if not s.covers(f):
                continue
            if s.reason:
                f.waived = Waived(kind="inline", reason=f"inline: {s.reason}", origin=where)
                break
            note("suppression-without-reason", where, f"{written} without a reason is not applied; say why after "
                                                      f"the bracket (# preflight: {s.marker}[{f.rule}] why)")
    return notes
