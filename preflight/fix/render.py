"""What `preflight fix` prints: the reasoning per host and file, what stays manual, the diffs."""

from __future__ import annotations

import difflib

from preflight.engine import Report
from preflight.fix.apply import Target
from preflight.fix.model import FileChange, FixPlan
from preflight.fix.steps import real_target
from preflight.model.findings import Severity, Status

TITLES = {"source": "Source", "destination": "Destination"}
KINDS = {"local": "this machine", "image": "image root", "ssh": "remote, over ssh", "facts": "a facts file"}
VERDICTS = {"ready": "READY", "not-ready": "NOT READY", "unknown": "UNKNOWN"}


def summary(report: Report, plan: FixPlan, predicted: Report, targets: dict[str, Target] | None = None,
            roles: tuple[str, ...] = ("source", "destination")) -> str:
    p = report.plan
    lines = [f"preflight fix: {', '.join(p.guests) or 'all running guests'} -> {p.dest_uri} "
             f"({p.n_concurrent} concurrent)", ""]
    for role in roles:
        changes = [c for c in plan.changes if c.host == role]
        if not changes:
            continue
        target = targets.get(role) if targets else None
        kind = f" ({KINDS[target.kind]})" if target is not None else ""
        lines.append(f"{TITLES[role]} — {report.snapshots[role].spec}{kind}")
        for c in changes:
            state = "new file" if c.old is None else ("changed" if c.changed else "no change needed")
            real = real_target(target, c) if target is not None and target.kind == "image" else c.path
            lines.append(f"  {c.path} ({', '.join(c.rules)}): {state}" + (f" (file: {real})" if real != c.path else ""))
            lines += [f"    - {r}" for r in c.reasons]
        lines.append("")
    if plan.not_fixed or report.blocking_unknowns:
        lines.append("Not fixed mechanically:")
        for item in plan.not_fixed:
            f = item.finding
            lines.append(f"  {f.severity.value.upper():<7} {f.rule} [{f.host.value}] {f.message}")
            lines.append(f"          {item.why}")
        for f in report.blocking_unknowns:
            lines.append(f"  UNKNOWN {f.rule} [{f.host.value}] {f.message}")
        lines.append("")
    for note in plan.notes:
        lines += [note.rstrip("\n"), ""]
    remaining = [f for f in predicted.findings if f.status is Status.FAIL and f.severity is not Severity.INFO]
    verdict = VERDICTS[predicted.verdict]
    tail = f" (still failing: {', '.join(sorted({f.rule for f in remaining}))})" if remaining else ""
    if not plan.effective:
        lines.append(f"Nothing to change. The check says: {VERDICTS[report.verdict]}{tail}")
    else:
        lines.append(f"Once these changes are applied, `preflight check` would say: {verdict}{tail}")
    return "\n".join(lines) + "\n"


def diff(change: FileChange, path: str | None = None) -> str:
    """A unified diff ``a/PATH`` -> ``b/PATH`` (PATH relative to the host's root, for ``patch -p1 -d ROOT``;
    default: the host path without its leading /), marking a missing final newline as diff(1) does."""
    rel = path if path is not None else change.path.lstrip("/")
    old = _lines(change.old or "")
    new = _lines(change.new)
    src = "/dev/null" if change.old is None else f"a/{rel}"
    return "".join(difflib.unified_diff(old, new, src, f"b/{rel}"))


def _lines(text: str) -> list[str]:
    """Lines as the programs see them: split at LF only (a form feed or U+2028 is not a line break)."""
    if not text:
        return []
    lines = [line + "\n" for line in text.split("\n")]
    if text.endswith("\n"):
        lines.pop()
    else:
        lines[-1] = lines[-1][:-1] + "\n\\ No newline at end of file\n"
    return lines
