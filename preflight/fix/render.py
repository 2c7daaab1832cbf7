"""What `preflight fix` prints: the reasoning per host and file, what stays manual, the diffs."""

from __future__ import annotations

import difflib
import shlex

from preflight.engine import Report
from preflight.fix.model import FileChange, FixPlan
from preflight.model.findings import Severity, Status

TITLES = {"source": "Source", "destination": "Destination"}
VERDICTS = {"ready": "READY", "not-ready": "NOT READY", "unknown": "UNKNOWN"}


def summary(report: Report, plan: FixPlan, predicted: Report) -> str:
    p = report.plan
    lines = [f"preflight fix: {', '.join(p.guests) or 'all running guests'} -> {p.dest_uri} "
             f"({p.n_concurrent} concurrent)", ""]
    for role in ("source", "destination"):
        changes = [c for c in plan.changes if c.host == role]
        if not changes:
            continue
        lines.append(f"{TITLES[role]} — {report.snapshots[role].spec}")
        for c in changes:
            state = "new file" if c.old is None else ("changed" if c.changed else "no change needed")
            lines.append(f"  {c.path} ({', '.join(c.rules)}): {state}")
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


def diff(change: FileChange) -> str:
    """A unified diff, ``a/HOST/PATH`` -> ``b/HOST/PATH``, marking a missing final newline as diff(1) does."""
    old = _lines(change.old or "")
    new = _lines(change.new)
    src = "/dev/null" if change.old is None else f"a/{change.host}{change.path}"
    out = difflib.unified_diff(old, new, src, f"b/{change.host}{change.path}")
    return "".join(out)


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


def diffs(plan: FixPlan) -> str:
    return "".join(diff(c) for c in plan.effective)


def apply_steps(change: FileChange, copy_from: str | None) -> list[str]:
    """How to apply one change on a host preflight does not write (remote, or facts from a file)."""
    # quoted as a shell would need them: a host's file name may hold spaces or ';'
    path = shlex.quote(change.path)
    where = f"copy {shlex.quote(copy_from)} to {path}" if copy_from else f"apply the diff above to {path}"
    steps = [f"{where}"]
    if change.path.startswith("/etc/ssh/"):
        steps.append(f"check it: sshd -t, then: {change.service}")
    elif change.service:
        steps.append(f"then: {change.service}")
    if change.live_commands:
        steps.append("or apply the limits live, without a restart (they last until the daemon restarts):")
        steps += [f"  {cmd}" for cmd in change.live_commands]
    return steps
