"""SARIF 2.1.0 rendering of a Report (valid against the OASIS schema: tests/cli/test_sarif.py).

Choices a CI dashboard depends on:
- FAIL findings are results with their rule's level; UNKNOWN findings are results too, with
  ``kind: "open"`` (SARIF's "could not tell": level "none", as the spec requires for a kind other
  than "fail"), so a host that could not be seen never looks clean; a host that could not be
  inspected also sets ``invocations[0].executionSuccessful = false`` with a notification.
- Image roots: the artifact URI is the image root's path + the host path, relative to the current
  directory (``uriBaseId`` SRCROOT), so code scanning places it in the repository. Live hosts:
  ``file:///etc/hosts`` locally, ``file://HOST/etc/hosts`` over ssh (RFC 8089's remote file), so
  source and destination never share a URI. Every location also names the host role in
  ``logicalLocations`` and ``properties.host``.
- ``partialFingerprints``: a hash of rule, host role, subject and host file: stable across runs and
  line moves, different for the same finding on the other host.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import metadata
from typing import Any
from urllib.parse import quote

from preflight import __version__
from preflight.engine import Report
from preflight.model.facts import HostMode, HostSnapshot
from preflight.model.findings import Finding, Scope, Severity, Status
from preflight.report import safe

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
TOOL_NAME = "migration-preflight"
SRCROOT = "SRCROOT"
FINGERPRINT_KEY = "preflightFinding/v1"

LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _docs_url() -> str | None:
    """helpUri must be absolute (SARIF 3.49.12): only when the package declares a Documentation URL."""
    try:
        urls = metadata.metadata("migration-preflight").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() == "documentation" and url.strip().startswith(("http://", "https://")):
            return url.strip()
    return None


def _rules() -> list[dict[str, Any]]:
    from preflight.rules import ALL_RULES

    docs = _docs_url()
    out = []
    for r in ALL_RULES:
        doc = (r.__doc__ or r.NAME).strip()
        entry: dict[str, Any] = {
            "id": r.ID,
            "name": r.NAME,
            "shortDescription": {"text": doc.splitlines()[0]},
            "fullDescription": {"text": doc},
            "help": {"text": doc},
            "defaultConfiguration": {"level": LEVEL[r.SEVERITY]},
        }
        if docs:
            entry["helpUri"] = f"{docs}#{r.ID.lower()}"
        out.append(entry)
    return out


def fingerprint(f: Finding) -> str:
    """Stable identity of a finding: rule, host role, subject, file (not the line, not the message)."""
    key = "\0".join([f.rule, f.host.value, f.subject or "", f.file or ""])
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def repo_path(snapshot: HostSnapshot | None, path: str) -> str | None:
    """For an image root under the current directory: the image root's path + ``path``, relative
    to it ('/'-separated), i.e. where the file is in the repository; None otherwise."""
    if snapshot is None or snapshot.mode is not HostMode.IMAGE:
        return None
    rel = os.path.relpath(os.path.join(os.path.abspath(snapshot.spec), path.lstrip("/")))
    return None if rel == ".." or rel.startswith(".." + os.sep) else rel.replace(os.sep, "/")


def artifact(snapshot: HostSnapshot | None, path: str) -> dict[str, Any]:
    """Where ``path`` (a path on the host) is, as a SARIF artifactLocation."""
    if snapshot is not None and snapshot.mode is HostMode.IMAGE:
        rel = repo_path(snapshot, path)
        if rel is not None:
            return {"uri": quote(rel, errors="surrogateescape"), "uriBaseId": SRCROOT}
        on_disk = os.path.join(os.path.abspath(snapshot.spec), path.lstrip("/"))
        return {"uri": "file://" + quote(on_disk, errors="surrogateescape")}
    host = ""
    if snapshot is not None and snapshot.mode is HostMode.SSH:
        from preflight.access.spec import HostSpecError, parse_host_spec

        try:
            host = parse_host_spec(snapshot.spec).url_host
        except HostSpecError:
            host = ""
    return {"uri": f"file://{quote(host, safe='[]:')}{quote(path)}"}


def _location(f: Finding, report: Report) -> dict[str, Any]:
    loc: dict[str, Any] = {}
    if f.file:
        phys: dict[str, Any] = {"artifactLocation": artifact(report.snapshots.get(f.host.value), f.file)}
        if f.line:
            phys["region"] = {"startLine": f.line}
        loc["physicalLocation"] = phys
    name = f"{f.host.value}/{f.subject}" if f.subject else f.host.value
    loc["logicalLocations"] = [{"name": name, "fullyQualifiedName": name,
                                "kind": "host" if f.host is not Scope.PAIR else "migration"}]
    return loc


def _result(f: Finding, report: Report) -> dict[str, Any]:
    text = f"[{f.host.value}] {f.message}" + (f" Fix: {f.remediation}" if f.remediation else "")
    res: dict[str, Any] = {"ruleId": f.rule}
    if f.status is Status.FAIL:
        res["level"] = LEVEL[f.severity]
    else:  # UNKNOWN: not seen, never clean
        res["kind"] = "open"
        res["level"] = "none"
        text = "Could not tell: " + text
    res["message"] = {"text": text}
    res["locations"] = [_location(f, report)]
    res["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint(f)}
    res["properties"] = {"host": f.host.value, "status": f.status.value, "severity": f.severity.value,
                         **({"subject": f.subject} if f.subject else {})}
    return res


def _invocation(report: Report) -> dict[str, Any]:
    notes = [
        {"level": "error", "descriptor": {"id": "INS001"},
         "message": {"text": f"could not inspect the {role} ({safe.line(s.spec)}): "
                             f"{safe.opt_line(s.unreachable_reason) or 'unreachable'}"}}
        for role, s in report.snapshots.items() if not s.reachable
    ]
    inv: dict[str, Any] = {"executionSuccessful": not notes, "exitCode": int(report.exit_code)}
    if notes:
        inv["toolExecutionNotifications"] = notes
    return inv


def to_sarif(report: Report) -> str:
    findings = [safe.finding(f) for f in report.findings if f.status in (Status.FAIL, Status.UNKNOWN)]
    run: dict[str, Any] = {
        "tool": {"driver": {"name": TOOL_NAME, "version": __version__, "rules": _rules()}},
        "invocations": [_invocation(report)],
        "originalUriBaseIds": {SRCROOT: {"uri": "file://" + quote(os.getcwd().rstrip("/") + "/")}},
        "results": [_result(f, report) for f in findings],
        "properties": {"verdict": report.verdict},
    }
    doc = {"version": "2.1.0", "$schema": SCHEMA_URI, "runs": [run]}
    return json.dumps(doc, indent=2) + "\n"
