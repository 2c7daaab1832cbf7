"""Checks a fixed file must pass before it is written: the project's parsers, the daemon's own rules
(DMN002, re-run on the fixed facts) and, for sshd, `sshd -t` on a copy whose Include paths point
into the copy (sshd resolves them on the machine that runs it, not in an image root).

The copy lives in a private temporary directory; the host's paths are hostile,
so each is confined there (fsutil.confined_join): a path or Include pattern
holding ``..`` fails the validation instead of reaching this machine's files."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Collection

from preflight import fsutil
from preflight.engine import Report
from preflight.fix import sshd as sshd_fix
from preflight.fix.apply import no_nul
from preflight.fix.libvirt import DMN002
from preflight.fix.model import FileChange, FixPlan
from preflight.fix.planner import patched
from preflight.model import probes as P
from preflight.model.findings import Status
from preflight.parsers.commands import parse_sshd_version
from preflight.parsers.hosts import parse_hosts
from preflight.parsers.libvirtconf import parse_libvirt_conf
from preflight.parsers.sshd import parse_openssh_version
from preflight.parsers.sshd_tokens import NoArgument, argv_split, split_line
from preflight.view import HostView
from preflight.view.daemons import daemon_for_path, judged_by

SSHD = "/usr/sbin/sshd"
SSHD_PACKAGES = ("openssh-server", "openssh")  # dpkg / rpm names


@functools.lru_cache(maxsize=1)
def local_sshd_version() -> str | None:
    """This machine's OpenSSH release, from `sshd -V` (older sshd print it in their usage text) or `ssh -V`."""
    for argv in ([SSHD, "-V"], [shutil.which("ssh") or "/usr/bin/ssh", "-V"]):
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=10,
                                  env={"PATH": "/usr/sbin:/usr/bin:/bin"})
        except (OSError, subprocess.SubprocessError):
            continue
        found = parse_sshd_version(done.stderr + done.stdout)
        if found:
            return found
    return None


def host_sshd_version(view: HostView) -> tuple[str | None, str]:
    """The host's OpenSSH release and where it came from (sshd -V, else its package), or None and why."""
    got = view.sshd_version
    if got.ok:
        return got.get(), "sshd -V"
    packages = view.packages.value or {}
    for name in SSHD_PACKAGES:
        found = parse_sshd_version("OpenSSH_" + re.sub(r"^\d+:", "", packages.get(name, "")))
        if found:
            return found, f"package {name}"
    if view.snap.mode == "image":
        return None, "an image root runs no sshd -V, and its package database is not read"
    why = (got.reason or "not gathered").replace(f"{P.SSHD_VERSION}: ", "")  # no internal keys in messages
    return None, f"sshd -V: {why}"


def _release(version: str) -> tuple[int, int]:
    return parse_openssh_version(version) or (0, 0)


def sshd_validator_note(report: Report, role: str) -> tuple[str, bool]:
    """Which sshd validates this host's sshd files, and (True) a warning when it is not the host's release.

    The check is `sshd -t` of this machine; another release may know other keywords. Not refused: the sshd
    fix only changes MaxStartups (known to every release) and PerSourceMaxStartups lines the host already
    has, placed by preflight's reading of the host's own release; an older sshd here that rejects the
    host's config refuses the write anyway (it rejects the original too)."""
    here = local_sshd_version()
    used = f"this machine's sshd -t (OpenSSH {here})" if here else f"this machine's {SSHD} -t (version unknown)"
    view = HostView(report.snapshots[role])
    theirs, source = host_sshd_version(view)
    if theirs is None:
        what = "image's" if report.snapshots[role].mode == "image" else f"{role}'s"
        return f"validated with {used}; the {what} OpenSSH version is unknown ({source})", True
    if here is None or _release(here) == _release(theirs):
        return f"validated with {used}; the {role} runs OpenSSH {theirs} ({source})", here is None
    older = "older" if _release(here) < _release(theirs) else "newer"
    return (f"validated with {used}, which is {older} than the {role}'s OpenSSH {theirs} ({source}): keywords "
            "the two releases treat differently may pass here and fail there, or the reverse", True)


def validate(report: Report, plan: FixPlan, predicted: Report,
             hosts: Collection[str] = ("source", "destination")) -> dict[int, str]:
    """id(change) -> why it must not be written, for every change on ``hosts`` that fails a check."""
    errors: dict[int, str] = {}
    sshd_checked: dict[str, str | None] = {}
    for change in plan.effective:
        if change.host not in hosts:
            continue
        why: str | None
        if daemon_for_path(change.path) is not None:
            why = _libvirt(change, predicted)
        elif change.path == "/etc/hosts":
            why = _hosts(change)
        elif change.path.startswith("/etc/ssh/"):
            if change.host not in sshd_checked:
                sshd_checked[change.host] = _sshd(report, plan, change.host)
            why = sshd_checked[change.host]
        else:
            why = None
        if why:
            errors[id(change)] = why
    return errors


def _libvirt(change: FileChange, predicted: Report) -> str | None:
    conf = parse_libvirt_conf(change.new, change.path)
    if conf.errors:
        e = conf.errors[0]
        return f"the fixed file does not parse: {e.file}:{e.line}: {e.message}"
    daemon = daemon_for_path(change.path)
    for f in predicted.findings:
        if f.rule == DMN002.id and f.host.value == change.host and f.status is Status.FAIL \
                and judged_by(f.evidence) in (daemon, None):
            return f"libvirt would refuse it: {f.message}"
    return None


def _hosts(change: FileChange) -> str | None:
    before = len(parse_hosts(change.old or "").errors)
    after = parse_hosts(change.new).errors
    if len(after) > before:
        return f"the fixed file has a bad line: {after[-1].file}:{after[-1].line}: {after[-1].message}"
    return None


def _sshd(report: Report, plan: FixPlan, role: str) -> str | None:
    if not os.path.exists(SSHD):
        return f"{SSHD} is not installed here: cannot validate with sshd -t"
    new_files = sshd_fix.files_of(HostView(patched(report.snapshots[role], plan, role)))
    try:
        failed = sshd_test(new_files)
        if failed is None:
            return None
        old_failed = sshd_test(sshd_fix.files_of(HostView(report.snapshots[role])))
    except fsutil.UnsafePath as exc:
        return f"cannot validate with sshd -t: {exc}"
    except (OSError, subprocess.SubprocessError) as exc:  # ssh-keygen missing or failing, sshd hanging
        return f"cannot validate with sshd -t: {exc}"
    if old_failed is not None:
        return f"sshd -t on this machine rejects the original config too, so it cannot judge the fix: {old_failed}"
    return f"sshd -t rejects the fixed config: {failed}"


def sshd_test(files: dict[str, str], main: str = "/etc/ssh/sshd_config") -> str | None:
    """Run `sshd -t` on ``files`` (paths as on the host) copied under a temporary root; None when it passes.

    Raises fsutil.UnsafePath for a path or Include pattern that cannot be confined to the copy."""
    with tempfile.TemporaryDirectory(prefix="preflight-sshd-") as tmp:
        for path, text in files.items():
            dest = fsutil.confined_join(tmp, no_nul(path))
            fsutil.make_dirs(os.path.dirname(dest), base=tmp)
            data = "\n".join(_rewrite(line, tmp, path) for line in text.split("\n"))  # sshd splits at LF only
            fsutil.atomic_write(dest, data.encode("utf-8", "surrogateescape"), 0o600)
        key = os.path.join(tmp, "hostkey")
        keygen = shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen"
        subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", key], check=True, capture_output=True)
        done = subprocess.run([SSHD, "-t", "-f", tmp + main, "-h", key], capture_output=True, text=True,
                              timeout=30, env={"PATH": "/usr/sbin:/usr/bin:/bin"})
        if done.returncode == 0:
            return None
        return (done.stderr.strip() or f"exit status {done.returncode}").replace(tmp, "")


def _rewrite(line: str, tmp: str, path: str) -> str:
    """One line (no LF) as sshd reads it; an Include line gets its patterns (split with sshd's own
    tokenizer; relative ones are relative to /etc/ssh) moved under ``tmp``.

    Raises fsutil.UnsafePath for a pattern that could reach outside ``tmp`` (``..``) or that cannot be
    re-quoted; ``tmp`` holds only what sshd_test wrote, so no symlink can lead out of it."""
    indent = line[: len(line) - len(line.lstrip(" \t\r"))]
    try:
        split = split_line(line.lstrip(" \t\r"))
    except NoArgument:
        return line
    if split is None or split[0].lower() != "include":
        return line
    words = argv_split(split[1])
    if words is None:
        raise fsutil.UnsafePath(path, "an Include line has an unclosed quote")
    moved = []
    for word in words:
        pattern = word if word.startswith("/") else "/etc/ssh/" + word
        if ".." in pattern.split("/") or any(ch in pattern for ch in "\"'\\\x00"):
            raise fsutil.UnsafePath(pattern, f"Include pattern in {path} cannot be confined to the copy")
        moved.append('"' + os.path.join(tmp, pattern.lstrip("/")) + '"')
    return f"{indent}Include {' '.join(moved)}"
