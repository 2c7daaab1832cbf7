"""Where reports and snapshots are written: checked before any gathering, written atomically.

``-o FILE`` names a file: a directory, a name ending in '/', or a file in a
missing directory is a usage error before any host is contacted. A regular
file (or none) is replaced through an O_EXCL temporary beside it
(:func:`preflight.fsutil.atomic_write`), so a planted ``FILE.tmp`` symlink is
never followed and nothing is left behind on failure, and a symlink at FILE is
replaced, not followed (a planted one in a shared directory cannot redirect the
write). Except: an existing character device, FIFO or socket (``-o /dev/null``,
``-o /dev/stdout`` on a pipe or terminal) and our own stdout/stderr
(``-o /dev/stdout`` redirected to a file) are written to as they are, and
nothing is ever created or replaced directly in /dev or /proc: replacing
``/dev/stdout`` would replace the system's symlink.

``--save-facts DIR``: DIR is created if missing and refused if it is a symbolic
link; its ``source.json`` and ``destination.json`` are always replaced, never
written through (a planted symlink there is replaced by the file).
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from preflight.fsutil import atomic_write
from preflight.textsafe import escape_control


class OutputError(ValueError):
    """An output path that cannot be written as asked (a usage error, exit 2)."""


def _shown(path: str) -> str:
    return escape_control(path, keep_newlines=False)


def _default_mode() -> int:
    """0666 minus the umask, as a plain open() would create the file."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_SYSTEM_DIRS = ("/dev", "/proc")


def _own_fd(path: str) -> int | None:
    """1 or 2 when ``path`` (after symlinks) is our own stdout or stderr (``-o /dev/stdout``)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    for fd in (1, 2):
        try:
            own = os.fstat(fd)
        except OSError:
            continue
        if (own.st_dev, own.st_ino) == (st.st_dev, st.st_ino):
            return fd
    return None


def _is_stream(path: str) -> bool:
    """A device, FIFO or socket, or our own stdout/stderr (after symlinks): written to, never replaced."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    special = stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode) or stat.S_ISSOCK(st.st_mode)
    return special or _own_fd(path) is not None


def _in_system_dir(path: str) -> bool:
    real = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    return any(real == d or real.startswith(d + "/") for d in _SYSTEM_DIRS) and not real.startswith("/dev/shm")


def output_file(raw: str, option: str = "--output") -> Path:
    """The checked ``-o`` path: a file name in an existing directory, not a directory."""
    if not raw:
        raise OutputError(f"{option}: empty file name")
    if raw.endswith("/"):
        raise OutputError(f"{option} {_shown(raw)}: names a directory (ends with '/'); give a file name")
    if os.path.isdir(raw):
        raise OutputError(f"{option} {_shown(raw)}: is a directory; give a file name")
    parent = os.path.dirname(os.path.abspath(raw))
    if not os.path.isdir(parent):
        why = "is not a directory" if os.path.lexists(parent) else "does not exist"
        raise OutputError(f"{option} {_shown(raw)}: {_shown(parent)} {why}")
    if _is_stream(raw):
        return Path(raw)
    if _in_system_dir(raw):
        raise OutputError(f"{option} {_shown(raw)}: refusing to create or replace a file in /dev or /proc")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {_shown(raw)}: directory {_shown(parent)} is not writable")
    if os.path.lexists(raw) and not os.path.islink(raw) and not os.path.isfile(raw):
        raise OutputError(f"{option} {_shown(raw)}: exists and is not a regular file")
    return Path(raw)


def write_file(path: Path, text: str, option: str = "--output") -> None:
    """``text`` into ``path`` (checked by :func:`output_file`); OutputError on failure, nothing left behind."""
    data = text.encode("utf-8", "surrogateescape")
    try:
        own = _own_fd(str(path))
        if own is not None:  # at its current offset, so `>>` still appends
            (sys.stdout if own == 1 else sys.stderr).flush()
            _write_all(own, data)
        elif _is_stream(str(path)):
            fd = os.open(path, os.O_WRONLY | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
            try:
                _write_all(fd, data)
            finally:
                os.close(fd)
        elif _in_system_dir(str(path)):  # checked by output_file; again, as it may have changed since
            raise OutputError(f"{option} {_shown(str(path))}: refusing to create or replace a file in /dev or /proc")
        else:
            atomic_write(str(path), data, mode=_default_mode())
    except OSError as exc:
        raise OutputError(f"{option} {_shown(str(path))}: cannot write: {exc.strerror or exc}") from None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def facts_directory(raw: str, create: bool) -> Path:
    """The ``--save-facts`` directory: never a symlink; made (with parents) when ``create``."""
    option = "--save-facts"
    if not raw:
        raise OutputError(f"{option}: empty directory name")
    path = raw.rstrip("/") or "/"
    if os.path.islink(path):
        raise OutputError(f"{option} {_shown(raw)}: is a symbolic link; refusing to write through it "
                          "(name the directory it points to)")
    if os.path.lexists(path) and not os.path.isdir(path):
        raise OutputError(f"{option} {_shown(raw)}: exists and is not a directory")
    if create and not os.path.lexists(path):
        try:
            os.makedirs(path)
        except OSError as exc:
            raise OutputError(f"{option} {_shown(raw)}: cannot create it: {exc.strerror or exc}") from None
    elif not os.path.lexists(path):
        parent = os.path.dirname(os.path.abspath(path))
        while not os.path.lexists(parent):
            parent = os.path.dirname(parent)
        if not os.path.isdir(parent) or not os.access(parent, os.W_OK | os.X_OK):
            raise OutputError(f"{option} {_shown(raw)}: cannot be created under {_shown(parent)}")
    return Path(path)
