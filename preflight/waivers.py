"""Waivers with reasons (config ``[[waivers]]`` and baseline files) applied to a run's findings,
and the baseline file `preflight baseline` writes.

Only FAIL findings are waived: an UNKNOWN means the tool could not see, and a waiver cannot
make it see (the tool never says READY when it could not look). A waived finding stays in the
report with its waiver; it does not fail the gate. An expired waiver does not apply; expired
and unused waivers are reported as notes (warnings).
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from preflight.config import Config, Waiver
from preflight.engine import Note, Report
from preflight.model.facts import HostMode, HostSnapshot
from preflight.model.findings import Finding, Scope, Severity, Status, Waived
from preflight.textsafe import escape_control


def host_matches(waiver: Waiver, finding: Finding, snapshots: Mapping[str, HostSnapshot]) -> bool:
    """``host`` absent: any; ``source``/``destination``/``pair``: the finding's side; else the host's spec
    (``ssh://root@host2`` or just ``host2``), or an image root path (relative to the waiver's file)."""
    if waiver.host is None:
        return True
    if waiver.host in (s.value for s in Scope):
        return waiver.host == finding.host.value
    snap = snapshots.get(finding.host.value)
    if snap is None:
        return False
    if snap.mode is HostMode.IMAGE:
        base = waiver.base or Path.cwd()
        try:
            return (base / waiver.host).resolve() == Path(snap.spec).resolve()
        except (OSError, RuntimeError, ValueError):  # a snapshot's spec is hostile: NUL, loops
            return False
    if waiver.host == snap.spec:
        return True
    try:
        return "://" in snap.spec and urlsplit(snap.spec).hostname == waiver.host.lower()
    except ValueError:
        return False


def matches(waiver: Waiver, finding: Finding, snapshots: Mapping[str, HostSnapshot]) -> bool:
    return (waiver.rule == finding.rule and (waiver.subject is None or waiver.subject == finding.subject)
            and host_matches(waiver, finding, snapshots))


def apply_waivers(findings: list[Finding], snapshots: Mapping[str, HostSnapshot], waivers: Iterable[tuple[str, Waiver]],
                  judged: set[str], today: datetime.date | None = None) -> list[Note]:
    """Mark the FAIL findings each waiver matches as waived. ``waivers`` are (kind, waiver), kind
    "config" or "baseline"; ``judged`` the rule ids this run evaluated (a waiver of a rule not run
    is not called unused)."""
    today = today or datetime.date.today()
    notes: list[Note] = []
    for kind, w in waivers:
        hits = [f for f in findings if matches(w, f, snapshots)]
        fails = [f for f in hits if f.status is Status.FAIL]
        what = _describe(w)
        if w.expires is not None and w.expires < today:
            notes.append(Note(level="warning", kind="expired-waiver", where=w.origin,
                              message=f"{w.origin}: waiver {what} expired on {w.expires.isoformat()}: not applied"
                                      + (f" ({len(fails)} finding(s) fail again)" if fails else "")))
            continue
        for f in fails:
            if f.waived is None:
                f.waived = Waived(kind=kind, reason=w.reason, origin=w.origin,
                                  expires=w.expires.isoformat() if w.expires else None)
        if fails or w.rule not in judged:
            continue
        unknown = [f for f in hits if f.status is Status.UNKNOWN]
        if unknown:
            notes.append(Note(level="warning", kind="waiver-on-unknown", where=w.origin,
                              message=f"{w.origin}: waiver {what} matches only findings that could not be judged "
                                      "(UNKNOWN): not applied, an unknown is never waived"))
        else:
            notes.append(Note(level="warning", kind="unused-waiver", where=w.origin,
                              message=f"{w.origin}: waiver {what} matches no failing finding: remove it"))
    return notes


def _describe(w: Waiver) -> str:
    parts = [w.rule] + [f"{k}={v!r}" for k, v in (("host", w.host), ("subject", w.subject)) if v is not None]
    return escape_control(" ".join(parts), keep_newlines=False)


# --- writing a baseline ------------------------------------------------------------------------------------
def _toml_str(value: str) -> str:
    """A TOML basic string: JSON's escapes (\\" \\\\ \\n \\uXXXX) are all valid TOML escapes."""
    return json.dumps(value, ensure_ascii=True)


def baseline_host(finding: Finding, snapshots: Mapping[str, HostSnapshot], directory: Path) -> str:
    """How a baseline names the finding's host: an image root relative to the baseline's directory (the
    repo stays movable), a live host by its spec, a pair finding as ``pair``."""
    snap = snapshots.get(finding.host.value)
    if snap is None:
        return finding.host.value
    if snap.mode is HostMode.IMAGE:
        try:
            return os.path.relpath(Path(snap.spec).resolve(), directory.resolve())
        except (OSError, RuntimeError, ValueError):
            pass
    return snap.spec


def baseline_text(findings: Iterable[Finding], snapshots: Mapping[str, HostSnapshot], directory: Path,
                  today: datetime.date, expires: datetime.date | None = None) -> tuple[str, int]:
    """The baseline file for the FAIL findings (error and warning, not yet waived), and their number."""
    lines = [
        "# preflight baseline: findings accepted when the tool was adopted. Each waiver needs a reason;",
        "# replace the generic one, or fix the finding and delete its waiver (`preflight check` reports",
        "# waivers that no longer match). Use it with --baseline FILE or `baseline = \"FILE\"` in preflight.toml.",
    ]
    seen: set[tuple[str, str, str | None]] = set()
    for f in findings:
        if f.status is not Status.FAIL or f.waived is not None or f.severity is Severity.INFO:
            continue
        host = baseline_host(f, snapshots, directory)
        key = (f.rule, host, f.subject)
        if key in seen:  # one waiver covers every finding of that rule, host and subject
            continue
        seen.add(key)
        lines += ["", "[[waivers]]", f"rule = {_toml_str(f.rule)}", f"host = {_toml_str(host)}"]
        if f.subject is not None:
            lines.append(f"subject = {_toml_str(f.subject)}")
        lines.append(f"reason = {_toml_str(f'baseline: accepted on {today.isoformat()}')}")
        if expires is not None:
            lines.append(f"expires = {expires.isoformat()}")
        lines.append(f"# {escape_control(f.message, keep_newlines=False)[:150]}")
    return "\n".join(lines) + "\n", len(seen)


# --- the whole policy over one report ----------------------------------------------------------------------
def apply_paths(report: Report, config: Config) -> None:
    """``[[paths]]`` settings for the image roots judged: their ``ignore`` drops that host's findings of
    those rules (recorded in not_selected), their ``severity`` overrides that host's findings."""
    from preflight.rules import _named as named
    from preflight.rules import find_rule

    for role, snap in report.snapshots.items():
        entry = config.for_path(snap.spec) if snap.mode is HostMode.IMAGE else None
        if entry is None:
            continue
        kept = []
        dropped: set[str] = set()
        for f in report.findings:
            rule = find_rule(f.rule)
            if f.host.value == role and rule is not None and rule.ID != "INS001" and named(rule, entry.ignore):
                dropped.add(f.rule)
                continue
            if f.host.value == role and f.rule in entry.severity:
                f.severity = Severity(entry.severity[f.rule])
            kept.append(f)
        report.findings = kept
        report.not_selected += [{"rule": r, "why": f"ignored for the {role} ({entry.origin}, [[paths]] ignore)"}
                                for r in sorted(dropped)]


def apply_policy(report: Report, config: Config, waivers: list[tuple[str, Waiver]],
                 today: datetime.date | None = None) -> None:
    """Per-path settings, then inline suppressions, then the config's and baseline's waivers."""
    from preflight.suppress import apply_inline

    apply_paths(report, config)
    report.notes += apply_inline(report.findings, report.snapshots)
    judged = {f.rule for f in report.findings}
    report.notes += apply_waivers(report.findings, report.snapshots, waivers, judged, today)
