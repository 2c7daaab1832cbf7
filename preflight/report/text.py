"""Human report: findings grouped by host, errors first, one verdict line at the end.

Host text is escaped (:mod:`preflight.report.safe`): no terminal escape or
newline from an inspected host reaches the terminal, so none can forge a line.

One cause, one line: the UNKNOWN findings that an unreachable host or a libvirt
that did not answer explains are counted on one "could not inspect" line with
the rules they blocked, instead of repeating the same ssh error per rule.
On a terminal, lines are wrapped to its width; in a file or a pipe they are not
(a line per finding is what grep and diff want)."""

from __future__ import annotations

import os
import shutil
import textwrap
from collections import Counter
from dataclasses import dataclass, field
from typing import TextIO

from preflight.engine import Report, Verdict
from preflight.model.facts import Availability, HostSnapshot
from preflight.model.findings import Finding, Scope, Severity, Status
from preflight.report import safe

COLOURS = {"fail": "31", "unknown": "35", "skip": "2", "pass": "32", "warning": "33"}
HEADINGS = {Scope.SOURCE: "Source", Scope.DESTINATION: "Destination", Scope.PAIR: "Between the hosts"}
COLOR_MODES = ("auto", "always", "never")
INDENT = " " * 10  # under the message, past "  UNKNOWN "


def rank(f: Finding) -> tuple[int, str]:
    """Errors first (failed, then unknown), then warnings, infos, skips, passes; by rule id within."""
    error = f.severity is Severity.ERROR
    order = {
        (Status.FAIL, True): 0, (Status.UNKNOWN, True): 1, (Status.FAIL, False): 2,
        (Status.UNKNOWN, False): 3, (Status.SKIP, True): 4, (Status.SKIP, False): 4,
        (Status.PASS, True): 5, (Status.PASS, False): 5,
    }[(f.status, error)]
    if f.status is Status.FAIL and (f.severity is Severity.INFO or f.waived is not None):
        order = 3  # a waived failure is reported, after what still needs work
    return order, f.rule


def use_colour(stream: TextIO | None, mode: str = "auto") -> bool:
    """--color: always / never; auto = a terminal, and never with NO_COLOR set (https://no-color.org)."""
    if mode == "always":
        return True
    if mode == "never" or stream is None:
        return False
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def terminal_width(stream: TextIO | None) -> int | None:
    """The terminal's columns (COLUMNS wins), None when ``stream`` is not a terminal: no wrapping."""
    if stream is None or not (hasattr(stream, "isatty") and stream.isatty()):
        return None
    return max(40, shutil.get_terminal_size((100, 24)).columns)


def _tag(f: Finding) -> tuple[str, str]:
    if f.waived is not None:
        return f"{'WAIVED':<7}", COLOURS["skip"]
    label = f.status.value.upper()
    if f.status is Status.FAIL and f.severity is not Severity.ERROR:
        label = f.severity.value.upper()
    key = "warning" if label in ("WARNING", "INFO") else f.status.value
    return f"{label:<7}", COLOURS[key]


@dataclass
class Cause:
    """One reason many rules could not see their facts."""

    text: str
    rules: Counter[str] = field(default_factory=Counter)


def _causes(report: Report) -> list[tuple[str, str]]:
    """(needle found in a blocked finding's message, the one line that explains it), strongest first."""
    out: list[tuple[str, str]] = []
    for role, snap in report.snapshots.items():
        if not snap.reachable and snap.unreachable_reason:
            out.append((safe.line(snap.unreachable_reason),
                        f"{role} {safe.line(snap.spec)} could not be inspected: {safe.line(snap.unreachable_reason)}"))
    for role, snap in report.snapshots.items():
        lv = snap.libvirt
        if snap.reachable and lv is not None and lv.status is Availability.ERROR and lv.error:
            why = safe.line(lv.error)
            out.append((why, f"{role} libvirt {safe.line(lv.uri)} did not answer: {why}"))
    return out


def group_unknowns(report: Report, found: list[Finding]) -> tuple[list[Finding], list[Cause]]:
    """``found`` without the UNKNOWNs a shared cause explains (when it explains two or more), and the causes."""
    causes = _causes(report)
    blocked: dict[str, list[Finding]] = {line: [] for _, line in causes}
    for f in found:
        if f.status is not Status.UNKNOWN or f.rule == "INS001":
            continue
        for needle, line in causes:
            if needle and needle in f.message:
                blocked[line].append(f)
                break
    grouped = {id(f) for fs in blocked.values() if len(fs) > 1 for f in fs}
    out = [Cause(line, Counter(f.rule for f in fs)) for line, fs in blocked.items() if len(fs) > 1]
    return [f for f in found if id(f) not in grouped], out


def _rules_text(rules: Counter[str]) -> str:
    return ", ".join(r if n == 1 else f"{r} (x{n})" for r, n in sorted(rules.items()))


class _Writer:
    def __init__(self, colour: bool, width: int | None) -> None:
        self.colour, self.width, self.lines = colour, width, list[str]()

    def plain(self, text: str) -> None:
        if self.width is None or len(text) <= self.width:
            self.lines.append(text)
        else:
            self.lines.extend(textwrap.wrap(text, self.width, subsequent_indent="    ", break_long_words=False,
                                            break_on_hyphens=False))

    def item(self, tag: str, code: str, text: str, indent: str = INDENT) -> None:
        """``  TAG     text`` wrapped under the text (never breaking a path or URI)."""
        first = f"  {tag} "
        if self.width is None:
            wrapped = [first + text]
        else:
            wrapped = textwrap.wrap(text, self.width, initial_indent=first, subsequent_indent=indent,
                                    break_long_words=False, break_on_hyphens=False) or [first]
        if self.colour and code != "0":
            wrapped[0] = wrapped[0].replace(tag, f"\033[{code}m{tag}\033[0m", 1)
        self.lines.extend(wrapped)


def render(report: Report, stream: TextIO | None = None, verbose: bool = False, color: str = "auto") -> str:
    """The report; ``stream`` is where it goes (None: a file, -o), deciding colour and wrapping."""
    colour = use_colour(stream, color)
    out = _Writer(colour, terminal_width(stream))
    found_all = sorted((safe.finding(f) for f in report.findings), key=rank)
    rest, causes = group_unknowns(report, found_all)
    if causes:
        out.plain("Could not inspect")
        for c in causes:
            n = sum(c.rules.values())
            out.item(f"{'UNKNOWN':<7}", COLOURS["unknown"],
                     f"{c.text} ({n} check(s) blocked: {_rules_text(c.rules)})")
        out.plain("")
    snaps = report.snapshots
    for scope in (Scope.SOURCE, Scope.DESTINATION, Scope.PAIR):
        found = [f for f in rest if f.host is scope]
        blocked = sum(1 for f in found_all if f.host is scope) - len(found)
        hidden_skips = 0
        if not verbose:
            hidden_skips = sum(1 for f in found if f.status is Status.SKIP)
            found = [f for f in found if f.status not in (Status.PASS, Status.SKIP)]
        title = HEADINGS[scope]
        snap = snaps.get(scope.value)
        if snap is not None:
            title += f" — {safe.line(snap.spec)}"
        out.plain(title)
        if not found and not hidden_skips and not blocked:
            out.plain("  (all checks passed)" if not verbose else "  (nothing)")
        for f in found:
            where = f" [{f.file}{':' + str(f.line) if f.line else ''}]" if f.file else ""
            tag, code = _tag(f)
            out.item(tag, code, f"{f.rule} {f.name}: {f.message}{where}")
            if f.waived is not None:
                w = f.waived
                until = f", until {w.expires}" if w.expires else ""
                out.item(" " * 7, "0", f"waived: {w.reason} ({w.kind} {w.origin}{until})", indent=INDENT + "     ")
            elif f.remediation and f.status is Status.FAIL:
                out.item(" " * 7, "0", f"fix: {f.remediation}", indent=INDENT + "     ")
        if blocked:
            out.plain(f"  ({blocked} check(s) could not be judged: see 'Could not inspect' above)")
        if hidden_skips:
            out.plain(f"  ({hidden_skips} check(s) skipped ({_skip_why(snaps, scope)}): -v lists them)")
        out.plain("")
    out.plain(verdict_line(report, colour))
    return "\n".join(out.lines) + "\n"


def _skip_why(snaps: dict[str, HostSnapshot], scope: Scope) -> str:
    """Why checks were skipped, without claiming image mode for an ssh host."""
    snap = snaps.get(scope.value)
    images = [s for s in snaps.values() if s.mode.value == "image"]
    if (snap is not None and snap.mode.value == "image") or (scope is Scope.PAIR and images):
        return "not available in image mode, or not part of this plan"
    return "not part of this plan"


def verdict_line(report: Report, colour: bool = False) -> str:
    c = report.counts()
    live = [f for f in report.findings if f.status is Status.FAIL and f.waived is None]
    errors = sum(1 for f in live if f.severity is Severity.ERROR)
    warnings = len(live) - errors
    waived = f", {c['waived']} waived" if c.get("waived") else ""
    word = {Verdict.READY: "READY", Verdict.NOT_READY: "NOT READY", Verdict.UNKNOWN: "UNKNOWN"}[report.verdict]
    if colour:
        code = {"READY": "32", "NOT READY": "31", "UNKNOWN": "35"}[word]
        word = f"\033[1;{code}m{word}\033[0m"
    guests = ", ".join(map(safe.line, report.plan.guests)) or ("all running guests" if report.plan.all_running else "-")
    return (
        f"{word}: {guests} -> {safe.line(report.plan.dest_uri)} ({report.plan.n_concurrent} concurrent) — "
        f"{errors} error(s), {warnings} warning(s), {c['unknown']} unknown, {c['skip']} skipped, "
        f"{c['pass']} passed{waived}"
    )
