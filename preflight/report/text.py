"""Human report: findings grouped by host, one verdict line at the end.

Host text is escaped (:mod:`preflight.report.safe`): no terminal escape or
newline from an inspected host reaches the terminal, so none can forge a line."""

from __future__ import annotations

import os
from typing import TextIO

from preflight.engine import Report, Verdict
from preflight.model.findings import Finding, Scope, Severity, Status
from preflight.report import safe

COLOURS = {"fail": "31", "unknown": "35", "skip": "2", "pass": "32", "warning": "33"}
ORDER = {Status.FAIL: 0, Status.UNKNOWN: 1, Status.SKIP: 2, Status.PASS: 3}
HEADINGS = {Scope.SOURCE: "Source", Scope.DESTINATION: "Destination", Scope.PAIR: "Between the hosts"}


def use_colour(stream: TextIO) -> bool:
    """Colour only on a terminal, never with NO_COLOR set (https://no-color.org)."""
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def _tag(f: Finding, colour: bool) -> str:
    label = f.status.value.upper()
    if f.status is Status.FAIL and f.severity is not Severity.ERROR:
        label = f.severity.value.upper()
    key = "warning" if label in ("WARNING", "INFO") else f.status.value
    text = f"{label:<7}"
    return f"\033[{COLOURS[key]}m{text}\033[0m" if colour else text


def render(report: Report, stream: TextIO | None = None, verbose: bool = False) -> str:
    colour = stream is not None and use_colour(stream)  # None: a file (-o), never coloured
    lines: list[str] = []
    snaps = report.snapshots
    for scope in (Scope.SOURCE, Scope.DESTINATION, Scope.PAIR):
        found = sorted((safe.finding(f) for f in report.findings if f.host is scope),
                       key=lambda f: (ORDER[f.status], f.rule))
        hidden_skips = 0
        if not verbose:
            hidden_skips = sum(1 for f in found if f.status is Status.SKIP)
            found = [f for f in found if f.status not in (Status.PASS, Status.SKIP)]
        title = HEADINGS[scope]
        snap = snaps.get(scope.value)
        if snap is not None:
            title += f" — {safe.line(snap.spec)}"
        lines.append(title)
        if not found and not hidden_skips:
            lines.append("  (all checks passed)" if not verbose else "  (nothing)")
        for f in found:
            where = f" [{f.file}{':' + str(f.line) if f.line else ''}]" if f.file else ""
            lines.append(f"  {_tag(f, colour)} {f.rule} {f.name}: {f.message}{where}")
            if f.remediation and f.status is Status.FAIL:
                lines.append(f"          fix: {f.remediation}")
        if hidden_skips:
            lines.append(f"  ({hidden_skips} check(s) skipped, e.g. not available in image mode: -v lists them)")
        lines.append("")
    lines.append(verdict_line(report, colour))
    return "\n".join(lines) + "\n"


def verdict_line(report: Report, colour: bool = False) -> str:
    c = report.counts()
    errors = len(report.blocking_failures)
    warnings = sum(1 for f in report.findings if f.status is Status.FAIL and f.severity is not Severity.ERROR)
    word = {Verdict.READY: "READY", Verdict.NOT_READY: "NOT READY", Verdict.UNKNOWN: "UNKNOWN"}[report.verdict]
    if colour:
        code = {"READY": "32", "NOT READY": "31", "UNKNOWN": "35"}[word]
        word = f"\033[1;{code}m{word}\033[0m"
    guests = ", ".join(map(safe.line, report.plan.guests)) or ("all running guests" if report.plan.all_running else "-")
    return (
        f"{word}: {guests} -> {safe.line(report.plan.dest_uri)} ({report.plan.n_concurrent} concurrent) — "
        f"{errors} error(s), {warnings} warning(s), {c['unknown']} unknown, {c['skip']} skipped, "
        f"{c['pass']} passed"
    )
