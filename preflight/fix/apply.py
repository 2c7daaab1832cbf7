"""Putting fixed files in place: an output tree, or the host's own files (local, image root).

In place, every file is replaced atomically (a temporary file in the same
directory, then os.replace) after a backup (a hard link to the old inode,
FILE.preflight-YYYYmmddHHMMSS), with the old file's owner, mode and SELinux
label. All files are checked before the first one is written; if a write
fails, the ones already replaced are put back.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
import time
from dataclasses import dataclass

from preflight.fix.model import FileChange
from preflight.gather.image import path_in_root

SELINUX = "security.selinux"


@dataclass(frozen=True)
class Target:
    """Where a host's files are: kind local | image (writable), ssh | facts (never written)."""

    role: str
    kind: str
    label: str
    root: str | None = None

    @property
    def writable(self) -> bool:
        return self.kind in ("local", "image")

    def real_path(self, path: str) -> str:
        return path_in_root(self.root, path) if self.kind == "image" and self.root else path


class WriteError(Exception):
    pass


def output_path(directory: str, change: FileChange) -> str:
    return os.path.join(directory, change.host, change.path.lstrip("/"))


def to_output_dir(directory: str, changes: list[FileChange]) -> list[str]:
    written = []
    for change in changes:
        dest = output_path(directory, change)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        _atomic_write(dest, change.new, reference=None)
        written.append(dest)
    return written


def check_unchanged(target: Target, change: FileChange) -> str | None:
    """Why the file on disk is not the one the fix was computed from (None when it is)."""
    real = target.real_path(change.path)
    try:
        with open(real, "rb") as fh:
            current: str | None = fh.read().decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        current = None
    except OSError as exc:
        return f"{real}: {exc.strerror or exc}"
    if current != change.old:
        return f"{real} changed since it was inspected (or is not valid UTF-8); run fix again"
    return None


def write_all(items: list[tuple[Target, FileChange]], stamp: str | None = None) -> list[str]:
    """Replace every file, or (on an error) none: returns one line per file written, with its backup."""
    stamp = stamp or time.strftime("%Y%m%d%H%M%S")
    done: list[tuple[str, str | None]] = []
    report = []
    try:
        for target, change in items:
            real = target.real_path(change.path)
            backup = _backup(real, stamp) if change.old is not None else None
            done.append((real, backup))
            _atomic_write(real, change.new, reference=real if change.old is not None else None)
            report.append(f"wrote {real}" + (f" (backup: {backup})" if backup else " (new file)"))
    except OSError as exc:
        _roll_back(done)
        hint = " (a mount point, e.g. a bind-mounted /etc/hosts: copy the fixed file over it by hand)" \
            if exc.errno == errno.EBUSY else ""
        raise WriteError(f"{exc.filename or ''}: {exc.strerror or exc}{hint}; nothing was changed") from exc
    return report


def _backup(real: str, stamp: str) -> str:
    base = f"{real}.preflight-{stamp}"
    name, n = base, 0
    while os.path.lexists(name):
        n += 1
        name = f"{base}.{n}"
    try:
        os.link(real, name)  # the old inode itself: content, owner, mode, label kept
    except OSError:
        shutil.copy2(real, name)
        st = os.stat(real)
        os.chown(name, st.st_uid, st.st_gid)
    return name


def _roll_back(done: list[tuple[str, str | None]]) -> None:
    for real, backup in reversed(done):
        try:
            if backup is None:
                if os.path.exists(real):
                    os.unlink(real)
            elif os.path.exists(backup):
                os.replace(backup, real)
        except OSError:
            pass


def _atomic_write(path: str, text: str, reference: str | None) -> None:
    """Write via a temporary file in the same directory; owner, mode, label from ``reference``."""
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o755)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".preflight-tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8", "surrogateescape"))
            fh.flush()
            os.fsync(fh.fileno())
        _copy_attributes(reference or directory, tmp, new=reference is None)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _copy_attributes(reference: str, tmp: str, new: bool) -> None:
    st = os.stat(reference)
    os.chmod(tmp, 0o644 if new else st.st_mode & 0o7777)  # a new file: config-file mode, not the dir's
    if os.geteuid() == 0:
        os.chown(tmp, st.st_uid, st.st_gid)
    try:
        label = os.getxattr(reference, SELINUX)
    except OSError as exc:
        if exc.errno in (errno.ENODATA, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
            return
        raise
    if not new:
        os.setxattr(tmp, SELINUX, label)
