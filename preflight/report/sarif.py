"""SARIF 2.1.0 rendering of a Report: valid against the OASIS schema and accepted by GitHub code
scanning as it is (tests/cli/test_sarif.py, tests/cli/test_ci_outputs_repo.py).

Choices a CI dashboard depends on:
- Results: every FAIL finding with its level; every UNKNOWN finding too, ``kind: "open"`` (SARIF's
  "could not tell"; the spec then requires level "none"), its message starting "Could not tell",
  so a host that could not be seen never looks clean. A host that could not be inspected also
  sets ``invocations[0].executionSuccessful = false`` with a notification naming it and why.
- Every rule is in ``tool.driver.rules`` (INS001 included), in registry order (``ruleIndex``),
  with plain-text and Markdown help and ``helpUri`` into docs/rules.md.
- Locations (:mod:`preflight.report.locations`): a file of an image root in the repository is
  ``uri`` = repository path (image root + file) with ``uriBaseId`` ``%SRCROOT%`` (the repository
  top, in ``originalUriBaseIds``); a live host's file is ``file://HOST/PATH``. A finding without
  a file points at its host (the image root directory, or ``file://HOST/``), never at nothing:
  GitHub refuses a whole upload when one result has no physical location. Every location also
  has a logical location: host role + subject (guest, disk, daemon).
- ``partialFingerprints``: a hash of rule, host role, subject and host file: stable across runs,
  line moves and message wording, different for the same finding on the other host.
- The gate policy: a waived finding keeps its result with ``suppressions`` (inSource for an inline
  comment, external for a config or baseline waiver; the reason as justification); expired or
  unused waivers are ``toolConfigurationNotifications``; rules left out (--ignore, --select, the
  config) are ``ruleConfigurationOverrides`` with ``enabled: false`` and why; ``--fail-on`` and the
  config file are run properties.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any
from urllib.parse import quote

from preflight import __version__
from preflight.engine import Report
from preflight.model.facts import HostSnapshot
from preflight.model.findings import Finding, Scope, Severity, Status
from preflight.report import locations, ruledocs, safe
from preflight.report.words import human
from preflight.rulekit import Rule

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
TOOL_NAME = "migration-preflight"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "preflightFinding/v1"

LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
CATEGORIES = {"INS": "inspection", "NET": "network", "TLS": "tls", "OS": "os-release", "VER": "versions",
              "DMN": "daemon", "GST": "guests", "STO": "storage", "LIM": "limits", "SSH": "ssh", "SEC": "security"}


def _descriptor(rule: Rule) -> dict[str, Any]:
    doc = ruledocs.plain_doc(human(rule.docs or rule.NAME))
    markdown = ruledocs.rule_markdown(rule).split("\n", 2)[2]  # without the "### ID slug" heading
    props: dict[str, Any] = {"severities": [s.value for s in rule.SEVERITIES], "fix": rule.FIX.value,
                             "needs": list(rule.NEEDS)}
    category = CATEGORIES.get(rule.ID.rstrip("0123456789"))
    tags = ["live-migration", *([category] if category else []), *rule.TAGS]  # code scanning filters by them
    props["tags"] = list(dict.fromkeys(tags))  # a set: the schema's uniqueItems
    return {
        "id": rule.ID,
        "name": rule.NAME,
        "shortDescription": {"text": ruledocs.summary(rule)},
        "fullDescription": {"text": doc},
        "help": {"text": doc, "markdown": markdown},
        "helpUri": ruledocs.help_uri(rule),
        "defaultConfiguration": {"level": LEVEL[rule.SEVERITY], "enabled": True},
        "properties": props,
    }


def _rules() -> list[Rule]:
    from preflight.rules import ALL_RULES

    return list(ALL_RULES)


def fingerprint(f: Finding, occurrence: int = 1) -> str:
    """Stable identity of a finding: rule, host role, subject, file (not the line, not the message);
    ``occurrence`` > 1 for a repeat of the same four in one report (in the rules' stable order)."""
    parts = [f.rule, f.host.value, f.subject or "", f.file or ""] + ([str(occurrence)] if occurrence > 1 else [])
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:32]


def _dir_uri(path: str) -> str:
    return "file://" + quote(path.rstrip("/") + "/", errors="surrogateescape")


def _occurrences(findings: list[Finding]) -> list[int]:
    seen: dict[tuple[str, str, str, str], int] = {}
    out = []
    for f in findings:
        key = (f.rule, f.host.value, f.subject or "", f.file or "")
        seen[key] = seen.get(key, 0) + 1
        out.append(seen[key])
    return out


def artifact(snapshot: HostSnapshot | None, path: str | None, root: str | None = None) -> dict[str, Any]:
    """Where ``path`` on the host is (the host itself when None), as a SARIF artifactLocation."""
    rel = locations.repo_path(snapshot, path, root)
    if rel is not None:
        uri = quote(rel, errors="surrogateescape") + ("/" if path is None and rel else "")
        return {"uri": uri or "./", "uriBaseId": SRCROOT}
    return {"uri": locations.file_uri(snapshot, path)}


def _logical(role: str, subject: str | None) -> list[dict[str, Any]]:
    name = f"{role}/{subject}" if subject else role
    return [{"name": name, "fullyQualifiedName": name, "kind": "host" if role != Scope.PAIR.value else "migration"}]


def _locations(f: Finding, report: Report, root: str) -> list[dict[str, Any]]:
    """The file (with its line) on the finding's host; without a file, the host itself (both hosts
    for a finding about the pair, the source first)."""
    if f.file:
        phys: dict[str, Any] = {"artifactLocation": artifact(report.snapshots.get(f.host.value), f.file, root)}
        if f.line:
            phys["region"] = {"startLine": f.line}
        return [{"physicalLocation": phys, "logicalLocations": _logical(f.host.value, f.subject)}]
    roles = [f.host.value] if f.host is not Scope.PAIR else [Scope.SOURCE.value, Scope.DESTINATION.value]
    return [{"physicalLocation": {"artifactLocation": artifact(report.snapshots.get(role), None, root)},
             "logicalLocations": _logical(role if f.host is not Scope.PAIR else Scope.PAIR.value, f.subject)}
            for role in roles]


def _result(f: Finding, report: Report, index: dict[str, int], root: str, occurrence: int,
            blocking: bool) -> dict[str, Any]:
    text = f"[{f.host.value}] {f.message}" + (f" Fix: {f.remediation}" if f.remediation else "")
    res: dict[str, Any] = {"ruleId": f.rule}
    if f.rule in index:
        res["ruleIndex"] = index[f.rule]
    if f.status is Status.FAIL:
        res["kind"] = "fail"
        res["level"] = LEVEL[f.severity]
    else:  # UNKNOWN: not seen, never clean
        res["kind"] = "open"
        res["level"] = "none"
        gate = " (blocks the gate)" if blocking else ""
        text = f"Could not tell{gate}: {text}"
    res["message"] = {"text": text}
    res["locations"] = _locations(f, report, root)
    res["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint(f, occurrence)}
    res["properties"] = {"host": f.host.value, "status": f.status.value, "severity": f.severity.value,
                         **({"subject": f.subject} if f.subject else {})}
    if f.waived is not None:  # SARIF's own form; GitHub shows it still (its dismiss-alerts action reads it)
        w = f.waived
        res["suppressions"] = [{"kind": "inSource" if w.kind == "inline" else "external", "status": "accepted",
                                "justification": w.reason,
                                "properties": {"waiver": w.kind, "origin": w.origin,
                                               **({"expires": w.expires} if w.expires else {})}}]
    return res


def _invocation(report: Report, index: dict[str, int]) -> dict[str, Any]:
    notes = []
    for role, s in report.snapshots.items():
        if s.reachable:
            continue
        why = safe.opt_line(s.unreachable_reason) or "unreachable"
        notes.append({"level": "error",
                      "message": {"text": f"could not inspect the {role} ({safe.line(s.spec)}): {why}"},
                      "associatedRule": {"id": "INS001", "index": index.get("INS001", 0)},
                      "properties": {"host": role}})
    inv: dict[str, Any] = {"executionSuccessful": not notes, "exitCode": int(report.exit_code),
                           # lets GitHub tell the checkout from a live host's absolute file:// URIs
                           "workingDirectory": {"uri": _dir_uri(os.getcwd())}}
    if notes:
        inv["toolExecutionNotifications"] = notes
    # the policy: expired / unused waivers, suppressions without a reason; rules left out and why
    config = [{"level": n.level if n.level in ("none", "note", "warning", "error") else "warning",
               "message": {"text": safe.line(n.message)},
               "properties": {"kind": n.kind, "where": safe.line(n.where)}} for n in report.notes]
    if config:
        inv["toolConfigurationNotifications"] = config
    overrides = [{"descriptor": {"id": d["rule"], **({"index": index[d["rule"]]} if d["rule"] in index else {})},
                  "configuration": {"enabled": False, "properties": {"why": safe.line(d.get("why", ""))}}}
                 for d in report.not_selected if d.get("rule")]
    if overrides:
        inv["ruleConfigurationOverrides"] = overrides
    return inv


def to_sarif(report: Report) -> str:
    rules = _rules()
    index = {r.ID: i for i, r in enumerate(rules)}
    root = locations.source_root()
    shown = [f for f in report.findings if f.status in (Status.FAIL, Status.UNKNOWN)]
    findings = [safe.finding(f) for f in shown]
    gate = {id(f) for f in report.blocking_unknowns}
    blocking = [id(f) in gate for f in shown]
    run: dict[str, Any] = {
        "tool": {"driver": {"name": TOOL_NAME, "version": __version__, "semanticVersion": __version__,
                            "informationUri": ruledocs.docs_url(),
                            "rules": [_descriptor(r) for r in rules]}},
        "invocations": [_invocation(report, index)],
        "originalUriBaseIds": {SRCROOT: {"uri": _dir_uri(root)}},
        "results": [_result(f, report, index, root, n, b)
                    for f, n, b in zip(findings, _occurrences(findings), blocking, strict=True)],
        "properties": {"verdict": report.verdict, "failOn": report.fail_on,
                       **({"config": safe.line(report.config)} if report.config else {})},
    }
    doc = {"version": "2.1.0", "$schema": SCHEMA_URI, "runs": [run]}
    return json.dumps(doc, indent=2) + "\n"
