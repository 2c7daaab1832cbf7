"""Where a fixed file really goes and how to put it there, per kind of host.

An image root is a directory on this machine: its files are ROOT/PATH, and the
host booted from it reads them at boot (restarting a daemon here would restart
this machine's daemon, not the image's). A remote host gets scp/ssh commands
naming it. A diff's paths are relative to the host's root, for
``patch -p1 -d ROOT`` (ROOT = the image root, or / on the host itself).
"""

from __future__ import annotations

import shlex

from preflight.access.spec import HostSpec, HostSpecError, parse_host_spec
from preflight.fix.apply import Target, no_nul
from preflight.fix.model import FileChange
from preflight.fsutil import UnsafePath


def origin(target: Target) -> HostSpec | None:
    """The host a target's files belong to (a facts file: the host its snapshot came from), or None."""
    try:
        return parse_host_spec(target.label)
    except HostSpecError:
        return None  # a facts file naming an image root that is not here, or a malformed spec


def patch_root(target: Target) -> str:
    """The ROOT of ``patch -p1 -d ROOT``: the image root, or / on the host itself."""
    return target.root if target.kind == "image" and target.root else "/"


def real_target(target: Target, change: FileChange) -> str:
    """The file the change replaces, as a path on this machine (image) or on the host (else)."""
    try:
        return target.real_path(change.path)
    except UnsafePath as exc:
        return f"{change.path} ({exc.why})"


def diff_path(target: Target, change: FileChange) -> str:
    """The change's path relative to patch_root: under an image root, the file its symlinks lead to."""
    if target.kind == "image" and target.root:
        try:
            real = target.real_path(change.path)
        except UnsafePath:
            return no_nul(change.path).lstrip("/")
        return target.under_root(real)
    return change.path.lstrip("/")


def diff_command(target: Target) -> str:
    """The command that applies this host's diff (the user's own fix command line goes in front)."""
    return f"preflight fix ... --diff --host {target.role} | patch -p1 -d {shlex.quote(patch_root(target))}"


def host_steps(target: Target, changes: list[FileChange], copies: list[str | None]) -> list[str]:
    """How to apply a host's changes that preflight did not write (``copies``: each one's --output-dir copy)."""
    if target.kind != "image":
        return [s for c, copy in zip(changes, copies) for s in apply_steps(target, c, copy)]
    fine = [(c, copy) for c, copy in zip(changes, copies) if _resolves(target, c)]
    out = []
    if fine and all(copy for _, copy in fine):
        out += [shlex.join(["cp", str(copy), target.real_path(c.path)]) for c, copy in fine]
    elif fine:
        out += ["files: " + ", ".join(shlex.quote(target.real_path(c.path)) for c, _ in fine),
                f"apply: {diff_command(target)}   (or run fix again with --write)"]
    out += [f"not applicable: {c.path} does not lie inside the image root (refused above)"
            for c in changes if not _resolves(target, c)]
    if any(c.service for c, _ in fine):
        out.append("the host booted from this image reads them when it starts (nothing to restart on this machine)")
    return out


def _resolves(target: Target, change: FileChange) -> bool:
    try:
        target.real_path(change.path)
    except UnsafePath:
        return False
    return True


def apply_steps(target: Target, change: FileChange, copy_from: str | None) -> list[str]:
    """How to apply one change that preflight did not write, naming the real target."""
    spec = origin(target) if target.kind in ("ssh", "facts") else None
    if spec is not None and spec.kind == "ssh":
        return _ssh_steps(spec, change, copy_from)
    if target.kind == "image":
        return host_steps(target, [change], [copy_from])
    path = shlex.quote(change.path)
    if target.kind == "local":
        where = (f"cp {shlex.quote(copy_from)} {path}" if copy_from
                 else f"apply the diff to {path} ({diff_command(target)}), or run fix again with --write")
    else:
        host = f"on the host this snapshot came from ({target.label}; there: patch -p1 -d /)"
        where = (f"copy {shlex.quote(copy_from)} to {path} {host}" if copy_from
                 else f"apply the diff to {path} {host}")
    steps = [where]
    if change.path.startswith("/etc/ssh/"):
        steps.append(f"check it: sshd -t, then: {change.service}")
    elif change.service:
        steps.append(f"then: {change.service}")
    if change.live_commands:
        steps.append("or apply the limits live, without a restart (they last until the daemon restarts):")
        steps += [f"  {cmd}" for cmd in change.live_commands]
    return steps


def _ssh_steps(spec: HostSpec, change: FileChange, copy_from: str | None) -> list[str]:
    login = (f"{spec.user}@" if spec.user else "") + (spec.host or "")
    scp_host = (f"{spec.user}@" if spec.user else "") + spec.url_host  # scp wants IPv6 in brackets
    ssh = ["ssh"] + (["-p", str(spec.port)] if spec.port else []) + [login]
    scp_port = ["-P", str(spec.port)] if spec.port else []
    local = copy_from or "FIXED_FILE"
    steps = [shlex.join(["scp", *scp_port, local, f"{scp_host}:{change.path}"])]
    if not copy_from:
        steps[0] += "   (FIXED_FILE: pass --output-dir DIR to have it written here)"
    remote: list[str] = []
    if change.path.startswith("/etc/ssh/") and change.service:
        remote = [f"sshd -t && {change.service}"]
    elif change.service:
        remote = [change.service]
    steps += [shlex.join([*ssh, cmd]) for cmd in remote]
    if change.live_commands:
        steps.append("or apply the limits live, without a restart (they last until the daemon restarts):")
        steps += ["  " + shlex.join([*ssh, cmd]) for cmd in change.live_commands]
    return steps
