"""JSON (the CI contract), SARIF 2.1.0 and JUnit XML renderings of a Report.

Every string from a host goes through :mod:`preflight.report.safe` first (control
characters escaped in all three; JUnit always parses as XML)."""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree as ET

from preflight import __version__
from preflight.engine import Report
from preflight.model.findings import Finding, Status
from preflight.report import safe

JSON_SCHEMA_VERSION = 1


def to_json(report: Report) -> str:
    """Top-level ``verdict`` and ``findings`` are the contract; the rest is extra.

    Host strings are escaped here too (``\\x1b`` as four characters): a JSON value is
    safe, but a consumer that prints ``message`` to a terminal is not."""
    data: dict[str, Any] = {
        "schema_version": JSON_SCHEMA_VERSION,
        "tool": {"name": "migration-preflight", "version": __version__},
        "verdict": report.verdict,
        "exit_code": int(report.exit_code),
        "counts": report.counts(),
        "plan": safe.plan_dict(report.plan),
        "hosts": {
            role: {
                "spec": safe.line(s.spec),
                "mode": s.mode.value,
                "reachable": s.reachable,
                "unreachable_reason": safe.opt_line(s.unreachable_reason),
                "gather_seconds": round(s.gather_seconds, 3),
                "ssh_connections": s.ssh_connections,
                "remote_commands": s.remote_commands,
            }
            for role, s in report.snapshots.items()
        },
        "findings": [safe.finding_dict(f) for f in report.findings],
    }
    data.update(policy_dict(report))
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


def policy_dict(report: Report) -> dict[str, Any]:
    """The gate policy a run applied: what fails it, the config file, the rules left out and why
    (``--ignore``, ``--select``, the config), and the notes about waivers a person should act on."""
    return {
        "fail_on": report.fail_on,
        "config": safe.opt_line(report.config),
        "not_selected": [{k: safe.line(v) for k, v in d.items()} for d in report.not_selected],
        "notes": [{"level": n.level, "kind": n.kind, "where": safe.line(n.where), "message": safe.line(n.message)}
                  for n in report.notes],
    }


def to_sarif(report: Report) -> str:
    from preflight.report import sarif

    return sarif.to_sarif(report)


def junit_name(f: Finding) -> str:
    """A test case's name: rule id and slug, host role, subject (made unique by :func:`to_junit`)."""
    return f"{f.rule} {f.name} [{f.host.value}]" + (f" {f.subject}" if f.subject else "")


def _repo_file(f: Finding, report: Report, root: str) -> str | None:
    """The finding's file as a repository path (an image root in the repository), else None."""
    if not f.file:
        return None
    from preflight.report.locations import repo_path

    rel = repo_path(report.snapshots.get(f.host.value), f.file, root)
    return rel if rel is None or safe.line(rel) == rel else None  # a control character: no faithful path


def waived_text(f: Finding) -> str:
    """``waived (config preflight.toml:12, until 2027-01-31): reason`` for a waived finding."""
    w = f.waived
    if w is None:
        return ""
    until = f", until {w.expires}" if w.expires else ""
    return f"waived ({w.kind} {w.origin}{until}): {w.reason}"


def to_junit(report: Report) -> str:
    """One ``<testsuite>``; one testcase per finding, named rule + host + subject (unique: a repeat
    gets `` #2``), classname ``preflight.HOST.RULE``. What fails the gate fails the case:
    a FAIL the gate counts (error severity; warnings too with ``--fail-on warning``) -> failure;
    an UNKNOWN the gate counts -> error; a waived FAIL -> skipped with the waiver and its reason;
    SKIP and the other UNKNOWNs -> skipped with the reason ("Could not tell: ...");
    the other FAILs (warnings) -> a passing case whose system-out says so.
    Every text is escaped (safe.xml), so it parses for any host input."""
    from preflight.report.locations import source_root

    root = source_root()
    suite = ET.Element("testsuite", name="migration-preflight", tests=str(len(report.findings)))
    counts = {"failures": 0, "errors": 0, "skipped": 0}
    x = safe.xml
    gate_fail = {id(f) for f in report.blocking_failures}
    gate_unknown = {id(f) for f in report.blocking_unknowns}
    seen: dict[str, int] = {}
    for raw in report.findings:
        f = safe.finding(raw)
        name = junit_name(f)
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name} #{seen[name]}"
        case = ET.SubElement(suite, "testcase", classname=x(f"preflight.{f.host.value}.{f.rule}"), name=x(name))
        file = _repo_file(f, report, root)
        if file is not None:  # a repository file: the CI system links it
            case.set("file", x(file))
        shown = file if file is not None else (f"{f.host.value}:{f.file}" if f.file else None)
        where = None if shown is None else shown + (f":{f.line}" if f.line else "")
        parts = ([f"at {where}"] if where else []) + ([f"Fix: {f.remediation}"] if f.remediation else [])
        detail = "\n".join(x(p) for p in parts) or None
        if f.waived is not None:
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=x(f"{waived_text(f)} — {f.message}"))
        elif f.status is Status.FAIL and id(raw) in gate_fail:
            counts["failures"] += 1
            ET.SubElement(case, "failure", message=x(f.message), type=f.rule).text = detail
        elif f.status is Status.UNKNOWN and id(raw) in gate_unknown:
            counts["errors"] += 1
            ET.SubElement(case, "error", message=x(f"Could not tell: {f.message}"), type="unknown").text = detail
        elif f.status is Status.UNKNOWN:
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=x(f"Could not tell ({f.severity.value}): {f.message}"))
        elif f.status is Status.SKIP:
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=x(f.message))
        elif f.status is Status.FAIL:
            ET.SubElement(case, "system-out").text = x(f"{f.severity.value}: {f.message}"
                                                       + (f" ({where})" if where else "")
                                                       + (f" Fix: {f.remediation}" if f.remediation else ""))
    for k, v in counts.items():
        suite.set(k, str(v))
    props = ET.Element("properties")
    ET.SubElement(props, "property", name="verdict", value=x(report.verdict))
    ET.SubElement(props, "property", name="fail-on", value=x(report.fail_on))
    for d in report.not_selected:
        ET.SubElement(props, "property", name=f"not-selected.{x(d.get('rule', '?'))}", value=x(d.get("why", "")))
    for n in report.notes:
        ET.SubElement(props, "property", name=f"note.{x(n.kind)}", value=x(n.message))
    for role, snap in report.snapshots.items():
        ET.SubElement(props, "property", name=f"host.{role}", value=x(snap.spec))
        if not snap.reachable:
            why = snap.unreachable_reason or "unreachable"
            ET.SubElement(props, "property", name=f"host.{role}.not-inspected", value=x(why))
    suite.insert(0, props)
    return ET.tostring(suite, encoding="unicode") + "\n"
