"""`preflight fix`: compute, show, save or write the fixes (the typer command in cli.py stays thin)."""

from __future__ import annotations

import sys
from typing import TextIO

from preflight.engine import ExitCode, Report
from preflight.fix import render
from preflight.fix.apply import Target, WriteError, check_unchanged, output_path, to_output_dir, write_all
from preflight.fix.model import FileChange, FixPlan
from preflight.fix.planner import plan_fixes, predict
from preflight.fix.validate import validate


def target_for(role: str, spec: str, from_facts: bool) -> Target:
    """local / image root are writable; ssh:// and snapshots read from a file never are."""
    if from_facts:
        return Target(role, "facts", spec)
    if spec == "local":
        return Target(role, "local", spec)
    if spec.startswith("ssh://"):
        return Target(role, "ssh", spec)
    return Target(role, "image", spec, root=spec)


def run(report: Report, targets: dict[str, Target], *, show_diff: bool = True, output_dir: str | None = None,
        write: bool = False, policy: str | None = None, out: TextIO = sys.stdout) -> int:
    """Print the fix; return the exit code: 0 nothing left to change, 1 changes remain, 3 a host unseen."""
    plan = plan_fixes(report, policy)
    predicted = predict(report, plan)
    out.write(render.summary(report, plan, predicted))
    changes = plan.effective
    if show_diff and changes:
        out.write("\n" + render.diffs(plan))
    if output_dir and changes:
        out.write("\nFixed files written under " + output_dir + ":\n")
        out.writelines(f"  {p}\n" for p in to_output_dir(output_dir, changes))
    pending = list(changes)
    if write and changes:
        pending = _write(report, plan, predicted, targets, changes, out)
    _remote_steps([c for c in pending if not targets[c.host].writable or not write], targets, output_dir, out)
    if report.unreachable:
        return int(ExitCode.COULD_NOT_INSPECT)
    return int(ExitCode.NOT_READY) if pending else int(ExitCode.READY)


def _write(report: Report, plan: FixPlan, predicted: Report, targets: dict[str, Target],
           changes: list[FileChange], out: TextIO) -> list[FileChange]:
    """Validate every local/image change, then write them all or none; returns what is still pending."""
    mine = [c for c in changes if targets[c.host].writable]
    errors = validate(report, plan, predicted)
    problems = [f"{c.host}:{c.path}: {errors[id(c)]}" for c in mine if id(c) in errors]
    problems += [f"{c.host}:{c.path}: {why}" for c in mine if (why := check_unchanged(targets[c.host], c))]
    out.write("\n")
    if problems:
        out.write("Not written (every file is checked before any is written; nothing was changed):\n")
        out.writelines(f"  {p}\n" for p in problems)
        return changes
    try:
        lines = write_all([(targets[c.host], c) for c in mine])
    except WriteError as exc:
        out.write(f"Not written: {exc}\n")
        return changes
    out.writelines(f"{line}\n" for line in lines)
    for c in mine:
        steps = render.apply_steps(c, None)[1:]
        if steps and targets[c.host].kind == "local":
            out.write(f"  to apply {c.path}: " + "; ".join(s.strip() for s in steps) + "\n")
    return [c for c in changes if c not in mine]


def _remote_steps(changes: list[FileChange], targets: dict[str, Target], output_dir: str | None,
                  out: TextIO) -> None:
    for role in ("source", "destination"):
        mine = [c for c in changes if c.host == role]
        if not mine:
            continue
        t = targets[role]
        why = {"ssh": "remote hosts are never written", "facts": "judged from a facts file"}.get(
            t.kind, "not written (pass --write)")
        out.write(f"\nTo apply on the {role} ({t.label}; {why}):\n")
        for c in mine:
            src = output_path(output_dir, c) if output_dir else None
            out.writelines(f"  {s}\n" for s in render.apply_steps(c, src))
