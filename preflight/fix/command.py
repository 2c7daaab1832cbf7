"""`preflight fix`: compute, show, save or write the fixes (the typer command in cli.py stays thin).

Everything printed goes through textsafe.escape_control: host data (paths, names,
file contents in the diffs, undecodable bytes) never reaches the terminal raw.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TextIO

from preflight.engine import ExitCode, Report
from preflight.fix import render
from preflight.fix.apply import Target, WriteError, check_unchanged, output_path, to_output_dir, write_all
from preflight.fix.model import FileChange, FixPlan
from preflight.fix.planner import plan_fixes, predict
from preflight.fix.validate import validate
from preflight.fsutil import UnsafePath
from preflight.textsafe import escape_control


class SafeOut:
    """A text stream that escapes control characters and undecodable bytes on the way out."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def write(self, text: str) -> None:
        self._out.write(escape_control(text))

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)


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
    """Print the fix; return the exit code: 0 nothing left to change, 1 changes remain, 2 the output
    directory could not hold the files, 3 a host unseen."""
    safe = SafeOut(out)
    plan = plan_fixes(report, policy)
    predicted = predict(report, plan)
    safe.write(render.summary(report, plan, predicted))
    changes = plan.effective
    if show_diff and changes:
        safe.write("\n" + render.diffs(plan))
    saved = False
    if output_dir and changes:
        try:
            written = to_output_dir(output_dir, changes)
        except WriteError as exc:
            safe.write(f"\nNot written under {output_dir} (nothing outside it is ever written):\n")
            safe.writelines(f"  {line}\n" for line in str(exc).split("\n"))
        else:
            saved = True
            safe.write("\nFixed files written under " + output_dir + ":\n")
            safe.writelines(f"  {p}\n" for p in written)
    pending = list(changes)
    if write and changes:
        pending = _write(report, plan, predicted, targets, changes, safe)
    _remote_steps([c for c in pending if not targets[c.host].writable or not write], targets,
                  output_dir if saved else None, safe)
    if output_dir and changes and not saved:
        return int(ExitCode.USAGE)
    if report.unreachable:
        return int(ExitCode.COULD_NOT_INSPECT)
    return int(ExitCode.NOT_READY) if pending else int(ExitCode.READY)


def _write(report: Report, plan: FixPlan, predicted: Report, targets: dict[str, Target],
           changes: list[FileChange], out: SafeOut) -> list[FileChange]:
    """Validate every local/image change, then write them all or none; returns what is still pending."""
    mine = [c for c in changes if targets[c.host].writable]
    if not mine:
        return changes
    errors = validate(report, plan, predicted, hosts={c.host for c in mine})
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
                  out: SafeOut) -> None:
    for role in ("source", "destination"):
        mine = [c for c in changes if c.host == role]
        if not mine:
            continue
        t = targets[role]
        why = {"ssh": "remote hosts are never written", "facts": "judged from a facts file"}.get(
            t.kind, "not written (pass --write)")
        out.write(f"\nTo apply on the {role} ({t.label}; {why}):\n")
        for c in mine:
            out.writelines(f"  {s}\n" for s in render.apply_steps(c, _saved_copy(output_dir, c)))


def _saved_copy(output_dir: str | None, change: FileChange) -> str | None:
    if not output_dir:
        return None
    try:
        return output_path(output_dir, change)
    except UnsafePath:
        return None
