"""`preflight fix`: compute, show, save or write the fixes (the typer command in cli.py stays thin).

Output: a text report (reasoning, per-host diffs, how to apply), ``--diff`` (only a
unified diff on stdout, for ``patch -p1 -d ROOT``; the prose goes to stderr) or
``--format json``. Everything shown to a person goes through textsafe.escape_control:
host data (paths, names, file contents, undecodable bytes) never reaches the
terminal raw; a diff piped to another program keeps its bytes, so patch applies it.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TextIO

from preflight.engine import ExitCode, Report
from preflight.fix import render, steps
from preflight.fix.apply import (
    Target,
    WriteError,
    check_unchanged,
    git_work_tree,
    output_path,
    state_backup_dir,
    to_output_dir,
    write_all,
)
from preflight.fix.model import FileChange, FixPlan
from preflight.fix.planner import plan_fixes, predict
from preflight.fix.validate import sshd_validator_note, validate
from preflight.fsutil import UnsafePath
from preflight.rulekit import Rule
from preflight.textsafe import escape_control, escape_deep

ROLES = ("source", "destination")


class SafeOut:
    """A text stream that escapes control characters and undecodable bytes on the way out."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def write(self, text: str) -> None:
        self._out.write(escape_control(text))

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)


@dataclass
class FixOptions:
    diff: bool | None = None  # None: text report with diffs; True: only the diff on stdout; False: no diffs
    fmt: str = "text"
    verbose: bool = False
    host: str | None = None  # only this host's changes
    output_dir: str | None = None
    write: bool = False
    policy: str | None = None
    backup_dir: str | None = None
    dest_address: str | None = None
    rules: list[Rule] | None = None  # the rules judged before and after (None: all)
    # the gate policy (config waivers, baseline, inline suppressions) applied to the check after the fix
    # too, so a waived finding counts there as it does in `check`
    apply_policy: Callable[[Report], None] | None = None


@dataclass
class _Outcome:
    saved: list[str] | None = None  # files under --output-dir; None: not asked or refused
    refused_output: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    written_changes: list[FileChange] = field(default_factory=list)
    not_written: list[str] = field(default_factory=list)
    backups: str | None = None  # where backups went, when not beside the files
    pending: list[FileChange] = field(default_factory=list)


def target_for(role: str, spec: str, from_facts: bool) -> Target:
    """local / image root are writable; ssh:// and snapshots read from a file never are."""
    if from_facts:
        return Target(role, "facts", spec)
    if spec == "local":
        return Target(role, "local", spec)
    if spec.startswith("ssh://"):
        return Target(role, "ssh", spec)
    return Target(role, "image", spec, root=spec)


def run(report: Report, targets: dict[str, Target], opts: FixOptions | None = None, *,
        out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Show (and save or write) the fix; return the exit code: 0 nothing left to change and the check
    after the fix would be READY, 1 changes remain (not written), fix needs an answer it will not guess
    (--dest-address), or findings fix cannot change still block the migration, 2 usage (output
    directory, --diff without --host for two hosts), 3 a host unseen."""
    # the streams are looked up per call, not bound at import (a test runner swaps sys.stdout)
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    opts = opts or FixOptions()
    if (problem := usage_problem(opts)) is not None:
        err.write(f"preflight: error: {problem}\n")
        return int(ExitCode.USAGE)
    roles = (opts.host,) if opts.host else ROLES
    plan = plan_fixes(report, opts.policy, opts.dest_address)
    plan.changes = [c for c in plan.changes if c.host in roles]
    plan.not_fixed = [n for n in plan.not_fixed if n.finding.host.value in roles or n.finding.host.value not in ROLES]
    predicted = predict(report, plan, opts.rules)
    if opts.apply_policy is not None:
        opts.apply_policy(predicted)
    changes = plan.effective
    if opts.diff and len({c.host for c in changes}) > 1:
        err.write("preflight: error: --diff: both hosts have changes and each diff applies to its own root: "
                  "pass --host source or --host destination\n")
        return int(ExitCode.USAGE)
    prose = SafeOut(err if opts.diff else out)
    done = _act(report, plan, predicted, targets, opts)
    if opts.fmt == "json":
        out.write(json.dumps(escape_deep(_json(report, plan, predicted, targets, opts, done)), indent=2) + "\n")
    elif opts.diff:
        _diff_only(plan, targets, out)
        _prose(report, plan, predicted, targets, opts, done, prose, brief=not opts.verbose)
    else:
        _prose(report, plan, predicted, targets, opts, done, prose, brief=False)
    return _exit_code(report, plan, opts, done, predicted)


def usage_problem(opts: FixOptions) -> str | None:
    """An option that would otherwise be silently ignored: refused, never dropped."""
    if opts.backup_dir and not opts.write:
        return "--backup-dir only applies with --write (nothing is replaced without it, so nothing is backed up)"
    return None


def _exit_code(report: Report, plan: FixPlan, opts: FixOptions, done: _Outcome, predicted: Report) -> int:
    if opts.output_dir and plan.effective and done.saved is None:
        return int(ExitCode.USAGE)
    if report.unreachable:
        return int(ExitCode.COULD_NOT_INSPECT)
    asks = any(n.needs for n in plan.not_fixed)
    # what fix cannot change (a stopped daemon, a guest shut off) still blocks: the check after it says so
    blocked = predicted.exit_code == ExitCode.NOT_READY
    return int(ExitCode.NOT_READY) if done.pending or asks or blocked else int(ExitCode.READY)


def _act(report: Report, plan: FixPlan, predicted: Report, targets: dict[str, Target], opts: FixOptions) -> _Outcome:
    """--output-dir and --write; returns what happened (the text report shows it after the diffs)."""
    done = _Outcome(pending=list(plan.effective))
    changes = plan.effective
    if opts.output_dir and changes:
        try:
            done.saved = to_output_dir(opts.output_dir, changes)
        except WriteError as exc:
            done.refused_output = str(exc).split("\n")
    if opts.write and changes:
        done.pending = _write(report, plan, predicted, targets, opts, done)
    return done


def backup_dirs(targets: dict[str, Target], backup_dir: str | None, stamp: str) -> tuple[dict[str, Target], str | None]:
    """Targets with their backup directory: --backup-dir, else beside each file, except under an image root
    inside a git work tree (backups there would be untracked files in the checkout): the state directory."""
    if backup_dir:
        return {r: _with_backup(t, backup_dir) for r, t in targets.items()}, f"backups under {backup_dir}"
    out, why = dict(targets), None
    for role, t in targets.items():
        top = git_work_tree(t.root) if t.kind == "image" and t.root else None
        if top is not None:
            out[role] = _with_backup(t, state_backup_dir(stamp))
            why = (f"backups under {state_backup_dir(stamp)}: the image root {t.root} is inside the git work "
                   f"tree {top}, where they would be untracked files (--backup-dir DIR puts them elsewhere)")
    return out, why


def _with_backup(t: Target, directory: str) -> Target:
    return Target(t.role, t.kind, t.label, t.root, directory) if t.writable else t


def _write(report: Report, plan: FixPlan, predicted: Report, targets: dict[str, Target], opts: FixOptions,
           done: _Outcome) -> list[FileChange]:
    """Validate every local/image change, then write them all or none; returns what is still pending."""
    changes = plan.effective
    mine = [c for c in changes if targets[c.host].writable]
    if not mine:
        return changes
    errors = validate(report, plan, predicted, hosts={c.host for c in mine})
    problems = [f"{c.host}:{c.path}: {errors[id(c)]}" for c in mine if id(c) in errors]
    problems += [f"{c.host}:{c.path}: {why}" for c in mine if (why := check_unchanged(targets[c.host], c))]
    if problems:
        done.not_written = ["every file is checked before any is written; nothing was changed", *problems]
        return changes
    stamp = time.strftime("%Y%m%d%H%M%S")
    with_backups, done.backups = backup_dirs(targets, opts.backup_dir, stamp)
    try:
        done.written = write_all([(with_backups[c.host], c) for c in mine], stamp=stamp)
    except WriteError as exc:
        done.not_written = [str(exc)]
        return changes
    done.written_changes = mine
    return [c for c in changes if c not in mine]


def _diff_only(plan: FixPlan, targets: dict[str, Target], out: TextIO) -> None:
    """Only the diff: escaped for a terminal, byte for byte for a pipe (patch needs the CRs and bytes)."""
    text = "".join(render.diff(c, steps.diff_path(targets[c.host], c)) for c in plan.effective)
    buffer = getattr(out, "buffer", None)
    if out.isatty() or buffer is None:
        out.write(escape_control(text))
        return
    out.flush()
    buffer.write(text.encode("utf-8", "surrogateescape"))
    buffer.flush()


def _prose(report: Report, plan: FixPlan, predicted: Report, targets: dict[str, Target], opts: FixOptions,
           done: _Outcome, out: SafeOut, brief: bool) -> None:
    roles = (opts.host,) if opts.host else ROLES
    changes = plan.effective
    if brief:  # --diff without -v: one line, and whatever fix would not decide
        hosts = sorted({c.host for c in changes})
        where = f" on the {hosts[0]} (patch -p1 -d {steps.patch_root(targets[hosts[0]])})" if hosts else ""
        out.write(f"preflight fix: {len(changes)} file(s) to change{where}; diff on stdout; "
                  f"-v (or no --diff) for the reasoning\n")
        for item in plan.not_fixed:
            if item.needs:
                out.write(f"not fixed: {item.finding.rule} [{item.finding.host.value}] {item.why}\n")
    else:
        out.write(render.summary(report, plan, predicted, targets, roles))
    if opts.verbose or (opts.write and changes):
        _validation(report, plan, predicted, roles, out, detailed=opts.verbose)
    if opts.diff is None and changes:
        for role in roles:
            mine = [c for c in changes if c.host == role]
            if mine:
                out.write(f"\nDiff for the {role} ({steps.diff_command(targets[role])}):\n")
                out.write("".join(render.diff(c, steps.diff_path(targets[role], c)) for c in mine))
    _results(opts, done, targets, out)
    if brief:
        return
    shown = done.pending if opts.write else changes
    _remote_steps([c for c in shown if not targets[c.host].writable or not opts.write], targets,
                  opts.output_dir if done.saved is not None else None, out)


def _validation(report: Report, plan: FixPlan, predicted: Report, roles: tuple[str, ...], out: SafeOut,
                detailed: bool) -> None:
    """Which sshd validates the sshd files (always before --write); with -v, every file's result."""
    lines = []
    errors = validate(report, plan, predicted, hosts=roles) if detailed else {}
    for role in roles:
        mine = [c for c in plan.effective if c.host == role]
        if any(c.path.startswith("/etc/ssh/") for c in mine):
            note, warn = sshd_validator_note(report, role)
            lines.append(f"{'warning: ' if warn else ''}{role} sshd files: {note}")
        if detailed:
            lines += [f"{role} {c.path}: " + (f"fails: {errors[id(c)]}" if id(c) in errors else "passes")
                      for c in mine]
    if lines:
        out.write("\nValidation:\n" + "".join(f"  {line}\n" for line in lines))


def _results(opts: FixOptions, done: _Outcome, targets: dict[str, Target], out: SafeOut) -> None:
    if done.refused_output:
        out.write(f"\nNot written under {opts.output_dir} (nothing outside it is ever written):\n")
        out.writelines(f"  {line}\n" for line in done.refused_output)
    elif done.saved is not None:
        out.write(f"\nFixed files written under {opts.output_dir} (DIR/source/PATH, DIR/destination/PATH):\n")
        out.writelines(f"  {p}\n" for p in done.saved)
    if done.not_written:
        out.write("\nNot written (" + done.not_written[0] + "):\n" if len(done.not_written) > 1
                  else f"\nNot written: {done.not_written[0]}\n")
        out.writelines(f"  {p}\n" for p in done.not_written[1:])
    if done.written:
        out.write("\n" + (f"{done.backups}\n" if done.backups else ""))
        out.writelines(f"{line}\n" for line in done.written)
        for role in ROLES:
            mine = [c for c in done.written_changes if c.host == role]
            t = targets[role]
            if mine and t.kind == "image":
                out.write(f"  the host booted from {t.root} reads the new files when it starts\n")
            for c in mine if t.kind == "local" else []:  # this machine: the daemon must re-read it
                later = steps.apply_steps(t, c, None)[1:]
                if later:
                    out.write(f"  to apply {c.path}: " + "; ".join(s.strip() for s in later) + "\n")


def _remote_steps(changes: list[FileChange], targets: dict[str, Target], output_dir: str | None,
                  out: SafeOut) -> None:
    for role in ROLES:
        mine = [c for c in changes if c.host == role]
        if not mine:
            continue
        t = targets[role]
        why = {"ssh": "remote, never written by preflight", "facts": "judged from a facts file",
               "image": "image root; not written"}.get(t.kind, "this machine; not written")
        out.write(f"\nTo apply on the {role} ({t.label}; {why}):\n")
        out.writelines(f"  {s}\n" for s in steps.host_steps(t, mine, [_saved_copy(output_dir, c) for c in mine]))


def _saved_copy(output_dir: str | None, change: FileChange) -> str | None:
    if not output_dir:
        return None
    try:
        return output_path(output_dir, change)
    except UnsafePath:
        return None


def _json(report: Report, plan: FixPlan, predicted: Report, targets: dict[str, Target], opts: FixOptions,
          done: _Outcome) -> dict[str, object]:
    roles = (opts.host,) if opts.host else ROLES
    errors = validate(report, plan, predicted, hosts=roles)
    hosts: dict[str, object] = {}
    for role in roles:
        t = targets[role]
        files = []
        note = None
        for c in (c for c in plan.changes if c.host == role):
            if c.path.startswith("/etc/ssh/") and c.changed and note is None:
                note = sshd_validator_note(report, role)
            state = "new file" if c.old is None else ("changed" if c.changed else "no change needed")
            files.append({
                "path": c.path, "real_path": steps.real_target(t, c), "rules": c.rules, "state": state,
                "reasons": c.reasons, "diff": render.diff(c, steps.diff_path(t, c)) if c.changed else "",
                "validation": {"ok": id(c) not in errors, "problem": errors.get(id(c)),
                               "sshd": ({"note": note[0], "warning": note[1]}
                                        if note and c.path.startswith("/etc/ssh/") else None)},
                "applicable": {"writable": t.writable, "written": any(c is w for w in done.written_changes),
                               "steps": steps.apply_steps(t, c, _saved_copy(opts.output_dir if done.saved is not None
                                                                            else None, c)) if c.changed else []},
            })
        hosts[role] = {"spec": report.snapshots[role].spec, "kind": t.kind, "patch_root": steps.patch_root(t),
                       "files": files}
    p = report.plan
    return {
        "plan": {"guests": p.guests, "dest_uri": p.dest_uri, "concurrent": p.n_concurrent},
        "verdict_now": report.verdict, "verdict_after": predicted.verdict,
        "hosts": hosts,
        "not_fixed": [{"rule": n.finding.rule, "host": n.finding.host.value, "severity": n.finding.severity.value,
                       "message": n.finding.message, "why": n.why, "needs": n.needs} for n in plan.not_fixed],
        "notes": plan.notes,
        "output_dir": {"written": done.saved, "refused": done.refused_output} if opts.output_dir else None,
        "write": {"written": done.written, "refused": done.not_written, "backups": done.backups}
        if opts.write else None,
        "exit_code": _exit_code(report, plan, opts, done, predicted),
    }
