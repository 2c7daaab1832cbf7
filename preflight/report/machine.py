"""JSON (the CI contract), SARIF 2.1.0 and JUnit XML renderings of a Report.

Every string from a host goes through :mod:`preflight.report.safe` first (control
characters escaped in all three; JUnit always parses as XML)."""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree as ET

from preflight import __version__
from preflight.engine import Report
from preflight.model.findings import Severity, Status
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
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


def to_sarif(report: Report) -> str:
    from preflight.report import sarif

    return sarif.to_sarif(report)


def to_junit(report: Report) -> str:
    """One testcase per finding: FAIL(error) -> failure, UNKNOWN -> error, SKIP -> skipped."""
    suite = ET.Element("testsuite", name="migration-preflight", tests=str(len(report.findings)))
    counts = {"failures": 0, "errors": 0, "skipped": 0}
    x = safe.xml
    for f in report.findings:
        case = ET.SubElement(suite, "testcase", classname=x(f"{f.host.value}.{f.rule}"),
                             name=x(f"{f.name}{' ' + f.subject if f.subject else ''}"))
        if f.status is Status.FAIL and f.severity is Severity.ERROR:
            counts["failures"] += 1
            ET.SubElement(case, "failure", message=x(f.message)).text = x(f.remediation or "")
        elif f.status is Status.UNKNOWN:
            counts["errors"] += 1
            ET.SubElement(case, "error", message=x(f.message))
        elif f.status is Status.SKIP:
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=x(f.message))
        elif f.status is Status.FAIL:
            ET.SubElement(case, "system-out").text = x(f"{f.severity.value}: {f.message}")
    for k, v in counts.items():
        suite.set(k, str(v))
    return ET.tostring(suite, encoding="unicode") + "\n"
