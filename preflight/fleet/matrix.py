"""Fleet reports: a text matrix per pairing group (rows send to columns) and JSON.

Every string that came from the inventory or a host goes through preflight.report.safe
(control characters shown as \\xNN), in both formats.
"""

from __future__ import annotations

import json
from typing import Any

from preflight import __version__
from preflight.engine import Report, Verdict
from preflight.fleet.judge import FleetResult, PairVerdict
from preflight.fleet.pairs import running_guests
from preflight.model.findings import Finding, Status
from preflight.report import safe

SCHEMA_VERSION = 1
MAX_MATRIX = 16  # hosts per matrix; a larger group is listed pair by pair
NAME_WIDTH = 24
WORD = {Verdict.READY: "READY", Verdict.NOT_READY: "NOT READY", Verdict.UNKNOWN: "UNKNOWN"}


def _short(name: str, width: int = NAME_WIDTH) -> str:
    text = safe.line(name)
    return text if len(text) <= width else text[:width - 1] + "…"


def cell(p: PairVerdict) -> str:
    if p.verdict == Verdict.READY:
        return "ready"
    if p.verdict == Verdict.NOT_READY:
        rules = p.failing
        return ",".join(rules[:2]) + (f" +{len(rules) - 2}" if len(rules) > 2 else "")
    return "unknown"


def _host_lines(res: FleetResult) -> list[str]:
    out = ["Hosts:"]
    width = min(NAME_WIDTH, max((len(safe.line(h)) for h in res.hosts), default=4))
    for name, fh in res.hosts.items():
        status, why = res.host_status(name)
        snap = res.snapshots.get(name)
        if status == "gathered" and snap is not None:
            guests = running_guests(snap)
            count = "guests unknown" if guests is None else f"{len(guests)} running guest(s)"
            what = f"gathered in {snap.gather_seconds:.1f} s, {count}"
            lint = res.lints.get(name)
            if lint is not None:
                what += f"; alone: {WORD[lint.report.verdict]}"
                failing = _ids(lint.report.blocking_failures) or _ids(lint.report.blocking_unknowns)
                what += f" ({','.join(failing)})" if failing and lint.report.verdict != Verdict.READY else ""
        else:
            what = f"{status.upper()}: {safe.line(why)}"
        out.append(f"  {_short(name, width):<{width}}  {safe.line(str(fh.spec)):<28}  {what}")
    return out


def _matrix(res: FleetResult, group: str, members: list[str], pairs: dict[tuple[str, str], PairVerdict]) -> list[str]:
    out = [f"Group {safe.line(group)} (rows migrate to columns):"]
    if len(members) > MAX_MATRIX:
        return out + [f"  {len(members)} hosts: too many for a matrix, see the pairs below"]
    width = max(9, *(len(_short(m, 14)) for m in members))
    first = max(len(_short(m)) for m in members)
    out.append("  " + " " * first + "  " + "  ".join(f"{_short(m, 14):<{width}}" for m in members).rstrip())
    for s in members:
        cells = [("-" if s == d else cell(pairs[(s, d)]) if (s, d) in pairs else "") for d in members]
        out.append(f"  {_short(s):<{first}}  " + "  ".join(f"{c:<{width}}" for c in cells).rstrip())
    return out


def _ids(findings: list[Finding]) -> list[str]:
    return list(dict.fromkeys(f.rule for f in findings))


def _report_lines(head: str, report: Report, verdict: str) -> list[str]:
    """NOT READY: one line per failing rule (what to fix); UNKNOWN: one line (why it could not be judged)."""
    if verdict == Verdict.NOT_READY:
        found = report.blocking_failures
        return [f"{head}: {rule} {safe.line(next(f for f in found if f.rule == rule).message)}"
                for rule in _ids(found)]
    if report.unreachable:
        down = report.unreachable[0]
        return [f"{head}: could not inspect {safe.line(down.spec)}: {safe.line(down.unreachable_reason or '')}"]
    found = report.blocking_unknowns
    rules = _ids(found)
    first = f" (first: {safe.line(found[0].message)})" if found else ""
    return [f"{head}: could not judge {', '.join(rules) or 'the pair'}{first}"]


def _pair_lines(res: FleetResult) -> list[str]:
    out: list[str] = []
    for title, verdict in (("Not ready", Verdict.NOT_READY), ("Unknown", Verdict.UNKNOWN)):
        lines: list[str] = []
        for name, lint in res.lints.items():
            if lint.report.verdict == verdict:
                lines += _report_lines(f"  {safe.line(name)} (alone)", lint.report, verdict)
        for p in (p for p in res.pairs if p.verdict == verdict):
            head = f"  {safe.line(p.source)} -> {safe.line(p.dest)}"
            lines += [f"{head}: {safe.line(p.reason)}"] if p.report is None else _report_lines(head, p.report, verdict)
        if lines:
            out += ["", f"{title}:", *lines]
    return out


def summary(res: FleetResult) -> str:
    by = {v: sum(1 for p in res.pairs if p.verdict == v) for v in WORD}
    hosts = [res.host_status(h)[0] for h in res.hosts]
    failed, missing = hosts.count("failed"), hosts.count("interrupted")
    tail = f", {failed} failed" if failed else ""
    tail += f", {missing} not gathered" if missing else ""
    word = WORD[res.verdict] + (" (interrupted: partial results)" if res.interrupted else "")
    return (f"{word}: {len(res.pairs)} pair(s): {by[Verdict.READY]} ready, {by[Verdict.NOT_READY]} not ready, "
            f"{by[Verdict.UNKNOWN]} unknown; {len(hosts)} host(s): {hosts.count('gathered')} gathered{tail} "
            f"in {res.seconds:.1f} s")


def to_text(res: FleetResult) -> str:
    lines = [f"Fleet {safe.line(res.inventory)}" + (f" --limit {safe.line(res.limit)}" if res.limit else ""), ""]
    lines += _host_lines(res)
    by_pair = {(p.source, p.dest): p for p in res.pairs}
    paired: dict[str, set[str]] = {}
    for p in res.pairs:
        for g in p.groups:
            paired.setdefault(g, set()).update((p.source, p.dest))
    for group in res.groups:
        members = [h for h in res.hosts if h in paired.get(group, ())]
        if len(members) >= 2:
            lines += [""] + _matrix(res, group, members, by_pair)
    if not res.pairs:
        lines += ["", "No pair: no two selected hosts share a pairing group."]
    lines += _pair_lines(res)
    return "\n".join(lines + ["", summary(res)]) + "\n"


def _pair_dict(p: PairVerdict, verbose: bool) -> dict[str, Any]:
    findings = [] if p.report is None else [
        safe.finding_dict(f) for f in p.report.findings
        if verbose or f.status in (Status.FAIL, Status.UNKNOWN)]
    return {
        "source": safe.line(p.source),
        "destination": safe.line(p.dest),
        "groups": [safe.line(g) for g in p.groups],
        "verdict": p.verdict,
        "failing_rules": p.failing,
        "unknown_rules": p.unknown,
        "reason": safe.line(p.reason) or None,
        "plan": safe.plan_dict(p.report.plan) if p.report is not None else None,
        "findings": findings,
    }


def _lint_dict(res: FleetResult, name: str, verbose: bool) -> dict[str, Any] | None:
    lint = res.lints.get(name)
    if lint is None:
        return None
    rep = lint.report
    return {
        "verdict": rep.verdict,
        "failing_rules": _ids(rep.blocking_failures),
        "unknown_rules": _ids(rep.blocking_unknowns),
        "peers": [safe.line(p) for p in lint.peers_judged],
        "concurrency": lint.settings.concurrency,
        "findings": [safe.finding_dict(f) for f in rep.findings
                     if verbose or f.status in (Status.FAIL, Status.UNKNOWN)],
    }


def to_json(res: FleetResult, verbose: bool = False) -> str:
    hosts: dict[str, Any] = {}
    for name, fh in res.hosts.items():
        status, why = res.host_status(name)
        snap = res.snapshots.get(name)
        hosts[safe.line(name)] = {
            "spec": safe.line(str(fh.spec)),
            "dest_uri": safe.line(fh.dest_uri),
            "groups": [safe.line(g) for g in fh.groups],
            "status": status,
            "reason": safe.line(why) or None,
            "running_guests": None if snap is None or running_guests(snap) is None
            else [safe.line(g) for g in running_guests(snap) or []],
            "gather_seconds": round(snap.gather_seconds, 3) if snap is not None else None,
            "ssh_connections": snap.ssh_connections if snap is not None else 0,
            "remote_commands": snap.remote_commands if snap is not None else 0,
            "lint": _lint_dict(res, name, verbose),
        }
    by = {v: sum(1 for p in res.pairs if p.verdict == v) for v in WORD}
    states = [res.host_status(h)[0] for h in res.hosts]
    data = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "migration-preflight", "version": __version__},
        "kind": "fleet",
        "verdict": res.verdict,
        "exit_code": int(res.exit_code),
        "interrupted": res.interrupted,
        "inventory": safe.line(res.inventory),
        "limit": safe.opt_line(res.limit),
        "unmatched_patterns": [safe.line(p) for p in res.unmatched],
        "seconds": round(res.seconds, 3),
        "counts": {"pairs": by, "hosts": {s: states.count(s) for s in ("gathered", "failed", "interrupted")}},
        "notes": [{"level": "warning", "kind": "ignored-variable", "host": safe.line(name),
                   "variable": i.variable, "where": safe.line(i.where), "message": safe.line(i.message)}
                  for name, fh in res.hosts.items() for i in fh.ignored],
        "hosts": hosts,
        "pairs": [_pair_dict(p, verbose) for p in res.pairs],
    }
    return json.dumps(data, indent=2) + "\n"
