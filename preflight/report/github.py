"""GitHub Actions workflow commands (``--format github``): one annotation per FAIL/UNKNOWN finding.

Escaping is GitHub's own (actions/toolkit ``command.ts``): in the message ``%``, CR and LF; in a
property (file, title) also ``:`` and ``,``, so nothing a host wrote can end the command or add a
property. Files of image roots in the repository give ``file=`` as SARIF's URIs do (the repository
path: :mod:`preflight.report.locations`), so the annotation lands on the file in the pull request;
live hosts name the host and file in the message instead (their paths are not in the repository)."""

from __future__ import annotations

from preflight.engine import Note, Report
from preflight.model.findings import Finding, Severity, Status
from preflight.report import safe
from preflight.report.locations import repo_file_line, repo_path, source_root

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(f: Finding, report: Report, root: str | None = None, blocking: bool | None = None) -> str:
    """One ``::LEVEL file=…,line=…,title=…::message`` line for ``f`` (already escaped by safe).

    ``error`` for what fails the gate (``blocking``; by default: error severity), ``notice`` for a
    waived finding, else the severity's level."""
    if blocking is None:
        blocking = f.severity is Severity.ERROR and f.waived is None
    prefix = "" if f.status is Status.FAIL else "Could not tell: "
    if f.waived is not None:
        level = "notice"
        w = f.waived
        prefix = f"Waived ({w.kind} {w.origin}{', until ' + w.expires if w.expires else ''}: {w.reason}): "
    elif blocking:
        level = "error"
    else:
        level = _LEVEL[f.severity] if f.status is Status.FAIL else "warning"
    props = []
    where = repo_path(report.snapshots.get(f.host.value), f.file, root) if f.file else None
    if where is not None and safe.line(where) != where:  # the image root's name holds a control character:
        where = None  # no faithful file=, the message names the host and (escaped) file instead
    if where is not None:
        props.append(f"file={escape_property(where)}")
        if f.line:
            props.append(f"line={f.line}")
    title = f"{f.rule} {f.name} ({f.host.value}{': ' + f.subject if f.subject else ''})"
    props.append(f"title={escape_property(title)}")
    place = f" [{f.host.value} {f.file}{':' + str(f.line) if f.line else ''}]" if f.file and where is None else ""
    message = f"{prefix}{f.message}{place}" + (f" Fix: {f.remediation}" if f.remediation else "")
    return f"::{level} {','.join(props)}::{escape_data(message)}"


def note_annotation(note: Note, root: str | None = None) -> str:
    """A policy note (expired or unused waiver, a suppression without a reason) on its config line."""
    props = []
    place = repo_file_line(note.where, root)
    if place is not None and safe.line(place[0]) != place[0]:
        place = None
    if place is not None:
        props.append(f"file={escape_property(place[0])}")
        if place[1]:
            props.append(f"line={place[1]}")
    props.append(f"title={escape_property('preflight ' + note.kind)}")
    level = note.level if note.level in ("error", "warning", "notice") else "warning"
    return f"::{level} {','.join(props)}::{escape_data(safe.line(note.message))}"


def to_github(report: Report) -> str:
    from preflight.report import text

    root = source_root()
    gate = {id(f) for f in (*report.blocking_failures, *report.blocking_unknowns)}
    lines = [annotation(safe.finding(f), report, root, blocking=id(f) in gate) for f in report.findings
             if f.status in (Status.FAIL, Status.UNKNOWN)]
    lines += [note_annotation(n, root) for n in report.notes]
    lines.append(text.verdict_line(report, False))
    return "\n".join(lines) + "\n"
