"""Image mode: a directory holding a host's root. Files only; no command can run there."""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterable

from preflight.gather.script import FIXED_COMMAND_KEYS
from preflight.model import probes as pk
from preflight.model.facts import Availability, Probe

NOT_AVAILABLE = "not available in image mode"
DAEMONS = ("libvirtd", "virtqemud", "virtproxyd")
_INCLUDE = re.compile(r"^\s*include[\s=]+(.*)$", re.IGNORECASE)
_MAX_DEPTH = 8  # same guard as gather.sh


def path_in_root(root: str, path: str) -> str:
    """Where ``path`` (as the imaged host sees it) lies under ``root``.

    Symlinks are followed as the host would follow them: an absolute target is
    relative to the image root, never to this machine's /.
    """
    done: list[str] = []
    todo = [p for p in path.split("/") if p]
    links = 0
    while todo:
        part = todo.pop(0)
        if part == ".":
            continue
        if part == "..":
            if done:
                done.pop()
            continue
        candidate = os.path.join(root, *done, part)
        if os.path.islink(candidate):
            links += 1
            if links > 40:  # the kernel's own limit for a loop
                raise OSError(f"{path}: too many levels of symbolic links")
            target = os.readlink(candidate)
            if target.startswith("/"):
                done = []
            todo = [p for p in target.split("/") if p] + todo
            continue
        done.append(part)
    return os.path.join(root, *done)


def read_file_probe(root: str, path: str) -> Probe:
    key, how = pk.file_key(path), f"read {path} under image root {root}"
    try:
        with open(path_in_root(root, path), "rb") as f:
            text = f.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return Probe(key, how, Availability.MISSING, rc=1, error=f"{path}: No such file or directory")
    except OSError as exc:
        return Probe(key, how, Availability.ERROR, error=f"{path}: {exc.strerror or exc}")
    return Probe(key, how, Availability.OK, text=text, rc=0)


def sshd_include_files(root: str, path: str, depth: int = 1) -> list[str]:
    """Files ``path`` Includes, depth-first, globs sorted, relative to /etc/ssh: sshd's order."""
    if depth > _MAX_DEPTH:
        return []
    try:
        with open(path_in_root(root, path), encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    found: list[str] = []
    for line in lines:
        m = _INCLUDE.match(line)
        if not m:
            continue
        for pattern in m.group(1).replace('"', "").split():
            if not pattern.startswith("/"):
                pattern = "/etc/ssh/" + pattern
            base = path_in_root(root, os.path.dirname(pattern))
            for hit in sorted(glob.glob(os.path.join(glob.escape(base), os.path.basename(pattern)))):
                if os.path.isfile(hit):
                    host_path = os.path.join(os.path.dirname(pattern), os.path.basename(hit))
                    found.append(host_path)
                    found += sshd_include_files(root, host_path, depth + 1)
    return found


def gather_image(root: str, names: Iterable[str] = (), paths: Iterable[str] = ()) -> dict[str, Probe]:
    """Every catalogue key for an image root: files read directly, commands NOT_AVAILABLE."""
    probes = {pk.file_key(p): read_file_probe(root, p) for p in pk.FILES}
    main = probes[pk.file_key(pk.SSHD_CONFIG)]
    if main.ok:
        included = sshd_include_files(root, pk.SSHD_CONFIG)
        index = Probe(
            pk.SSHD_FILES, f"{pk.SSHD_CONFIG} and its Include targets under {root}", Availability.OK
        )
        index.text = "".join(f"{p}\n" for p in [pk.SSHD_CONFIG, *included])
        index.rc = 0
        for p in included:
            probes[pk.file_key(p)] = read_file_probe(root, p)
    else:
        index = Probe(pk.SSHD_FILES, pk.SSHD_FILES, main.status, rc=main.rc, error=main.error)
    probes[pk.SSHD_FILES] = index
    keys = [k for k in FIXED_COMMAND_KEYS if k != pk.SSHD_FILES]
    keys += [pk.virt_admin_key(d) for d in DAEMONS]
    keys += [pk.getent_key(n) for n in names] + [pk.path_key(p) for p in paths]
    for key in keys:
        probes[key] = Probe(key, key, Availability.NOT_AVAILABLE, error=NOT_AVAILABLE)
    return probes
