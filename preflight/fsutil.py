"""Every file the tool reads from an inspected tree, or writes for the user, goes through here.

Inspected trees (image roots, remote hosts' paths, snapshots) are hostile: a path
in them may hold ``..``, symlinks out of the root, FIFOs, devices, or be huge.
Output directories may hold planted symlinks. So:

- :func:`resolve_in_root` maps a host path into its root, following symlinks
  the way the imaged host would, and refuses anything that leaves the root;
- :func:`confined_join` puts a host path under an output/temp directory and
  refuses ``..`` and symlinked components;
- :func:`read_bounded` opens regular files only, never blocks on a FIFO, never
  follows the last component's symlink when asked not to, and caps the size;
- :func:`atomic_write` writes through an ``O_EXCL`` temporary (``mkstemp``) in
  the target's own directory and renames it, never following a symlink.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable

MAX_FILE_BYTES = 4 * 1024 * 1024  # config files are kilobytes; a 100k-line /etc/hosts is ~3 MB
MAX_SYMLINKS = 40  # the kernel's own limit (ELOOP)


class UnsafePath(OSError):
    """A path that would leave the directory it belongs to, or is not a regular file."""

    def __init__(self, path: str, why: str) -> None:
        super().__init__(errno.EPERM, why, path)
        self.path = path
        self.why = why

    def __str__(self) -> str:
        return f"{self.path}: {self.why}"


def _parts(path: str) -> list[str]:
    return [p for p in path.split("/") if p and p != "."]


def resolve_in_root(root: str, path: str) -> str:
    """Where ``path`` (absolute, as the imaged host sees it) lies under ``root``.

    Symlinks are followed as the host would follow them (an absolute target is
    relative to ``root``). ``..`` at the root stays at the root, as the kernel
    does for ``/..``, so nothing outside ``root`` is ever named. Raises
    UnsafePath for a symlink loop.
    """
    root = os.path.abspath(root)
    done: list[str] = []
    todo = _parts(path)
    links = 0
    while todo:
        part = todo.pop(0)
        if part == "..":
            if done:
                done.pop()
            continue
        candidate = os.path.join(root, *done, part)
        if os.path.islink(candidate):
            links += 1
            if links > MAX_SYMLINKS:
                raise UnsafePath(path, "too many levels of symbolic links")
            target = os.readlink(candidate)
            if target.startswith("/"):
                done = []
            todo = _parts(target) + todo
            continue
        done.append(part)
    return os.path.join(root, *done)


def confined_join(directory: str, path: str) -> str:
    """``directory``/``path`` for writing, refusing ``..`` and any symlink on the way.

    ``path`` is a host path (``/etc/ssh/sshd_config``) or a relative one; the
    result always lies inside ``directory``. Components that exist must be real
    directories (the last one may be absent or a regular file).
    """
    parts = _parts(path)
    if not parts or ".." in parts:
        raise UnsafePath(path, "refusing a path with '..' (or no name) under the output directory")
    base = os.path.abspath(directory)
    current = base
    for i, part in enumerate(parts):
        current = os.path.join(current, part)
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(st.st_mode):
            raise UnsafePath(current, "is a symbolic link; refusing to write through it")
        last = i == len(parts) - 1
        if not last and not stat.S_ISDIR(st.st_mode):
            raise UnsafePath(current, "is not a directory")
        if last and not stat.S_ISREG(st.st_mode):
            raise UnsafePath(current, "exists and is not a regular file")
    return current


def make_dirs(directory: str, base: str | None = None, mode: int = 0o755) -> None:
    """mkdir -p that refuses symlinked components (below ``base`` when given)."""
    start = os.path.abspath(base) if base else "/"
    target = os.path.abspath(directory)
    rel = os.path.relpath(target, start)
    if rel.startswith(".."):
        raise UnsafePath(directory, f"is outside {start}")
    current = start
    for part in _parts(rel):
        current = os.path.join(current, part)
        try:
            os.mkdir(current, mode)
        except FileExistsError:
            st = os.lstat(current)
            if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
                raise UnsafePath(current, "is not a real directory (a symlink or a file)") from None


def read_bounded(path: str, limit: int = MAX_FILE_BYTES, follow: bool = True) -> bytes:
    """The bytes of the regular file ``path``: never blocks on a FIFO, never reads past ``limit``.

    Raises UnsafePath for a non-regular file or one over ``limit``, OSError as the
    system reports it (FileNotFoundError, PermissionError, ELOOP ...).
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    if not follow:
        flags |= os.O_NOFOLLOW
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
            raise UnsafePath(path, f"is {kind}")
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise UnsafePath(path, f"is larger than {limit} bytes; refusing to read it")
        return b"".join(chunks)
    finally:
        os.close(fd)


def atomic_write(
    path: str, data: bytes, mode: int = 0o644, *, prepare: Callable[[str], None] | None = None, suffix: str = ".tmp"
) -> None:
    """Replace ``path`` with ``data``: O_EXCL temp file in the same directory, fsync, rename.

    The temporary is created by mkstemp (never a predictable name), so a planted
    symlink is never followed; ``path`` itself, if it is a symlink, is replaced,
    not written through. On any error the temporary is removed. ``prepare(tmp)``, when
    given, sets the temporary's attributes (owner, mode, xattrs) instead of ``mode``.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=suffix, dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if prepare is None:
            os.chmod(tmp, mode)
        else:
            prepare(tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def git_top(start: str) -> str | None:
    """The nearest directory at or above ``start`` holding ``.git`` (a directory or a worktree's file), or
    None. Walked, never asked of git: ``git -C DIR`` would read DIR's own .git/config, and a hostile one
    (an image root's) can name programs git runs."""
    here = start
    while True:
        if os.path.lexists(os.path.join(here, ".git")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent
