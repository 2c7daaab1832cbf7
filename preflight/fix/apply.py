"""Putting fixed files in place: an output tree, or the host's own files (local, image root).

Paths come from the inspected host (Include lines, file names) and are hostile:
under an output directory every file goes through ``fsutil.confined_join``
(no ``..``, no planted symlinks), under an image root through
``fsutil.resolve_in_root`` (symlinks followed as the host would, never out of
the root). In place, every file is replaced atomically (an O_EXCL mkstemp
temporary in the same directory, then os.replace: a symlink at the name is
replaced, never written through) after a backup (a hard link to the old inode,
or a copy across file systems: FILE.preflight-YYYYmmddHHMMSS beside the file, or
BACKUP_DIR/HOST/PATH.preflight-YYYYmmddHHMMSS when the target names a backup
directory), with the old file's owner, mode and extended
attributes (SELinux label, ACLs, user.*). All files are checked before the
first one is written; if a write fails, the ones already replaced are put back
and the backups made so far are removed.
"""

from __future__ import annotations

import errno
import os
import stat
import time
from dataclasses import dataclass

from preflight import fsutil
from preflight.fix.model import FileChange
from preflight.fsutil import UnsafePath

# Integrity hashes/signatures of the old bytes: copied onto new bytes they would make IMA/EVM refuse the file.
CONTENT_BOUND = ("security.ima", "security.evm")
BACKUP_MODE = 0o600  # a copied backup may hold secrets: owner only until its attributes are copied


@dataclass(frozen=True)
class Target:
    """Where a host's files are: kind local | image (writable), ssh | facts (never written)."""

    role: str
    kind: str
    label: str
    root: str | None = None
    backup_dir: str | None = None  # None: each backup beside its file

    @property
    def writable(self) -> bool:
        return self.kind in ("local", "image")

    def under_root(self, real: str) -> str:
        """``real`` (a real_path result) relative to the image root, whether the root was named through a
        symlink or not."""
        root = self.root or "/"
        return _under(real, os.path.abspath(root)) or _under(real, os.path.realpath(root)) or real.lstrip("/")

    def real_path(self, path: str) -> str:
        """The file to read or replace; under an image root it never leaves the root (UnsafePath)."""
        no_nul(path)
        if self.kind != "image" or not self.root:
            return path
        real = fsutil.resolve_in_root(self.root, path)
        root = os.path.realpath(self.root)
        parent = os.path.realpath(os.path.dirname(real))
        if os.path.commonpath([root, parent]) != root or real == os.path.abspath(self.root):
            raise UnsafePath(path, f"resolves outside the image root {self.root}")
        if os.path.lexists(os.path.join(self.root, path.lstrip("/"))) and not os.path.exists(real):
            # a dangling symlink (hosts -> /etc/shadow): writing would create the file it names
            raise UnsafePath(path, "is a symbolic link to a file that does not exist; refusing to create its target")
        return real


def git_work_tree(path: str) -> str | None:
    """The top of the git work tree holding ``path`` (a ``.git`` found walking up), or None.

    Symlinks resolved first (where a backup would really land); see fsutil.git_top."""
    return fsutil.git_top(os.path.realpath(path))


def state_backup_dir(stamp: str) -> str:
    """$XDG_STATE_HOME/preflight/backups/STAMP (default ~/.local/state/...): outside any image root."""
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(os.path.abspath(state), "preflight", "backups", stamp)


def _under(path: str, root: str) -> str | None:
    rel = os.path.relpath(path, root)
    return None if rel == ".." or rel.startswith("../") else rel


def no_nul(path: str) -> str:
    """``path``, or UnsafePath when it holds a NUL (from a crafted snapshot: no file can be named so)."""
    if "\x00" in path:
        raise UnsafePath(path.replace("\x00", "\\x00"), "holds a NUL byte: no file can have this name")
    return path


class WriteError(Exception):
    """Nothing (or, when it says so, not everything) was written; the message names every file."""


def _encode(change: FileChange, name: str) -> bytes:
    try:
        return change.new.encode("utf-8", "surrogateescape")  # undecodable bytes go back as they came
    except UnicodeEncodeError as exc:
        raise WriteError(f"{name}: the fixed text holds U+{ord(change.new[exc.start]):04X}, which stands for "
                         "no byte; not written") from None


def output_path(directory: str, change: FileChange) -> str:
    """DIR/HOST/PATH, confined to DIR: raises UnsafePath for ``..`` or a symlink on the way."""
    return fsutil.confined_join(directory, f"{change.host}/{no_nul(change.path)}")


def to_output_dir(directory: str, changes: list[FileChange]) -> list[str]:
    """Write every fixed file under ``directory``, or none: raises WriteError naming each refused file."""
    try:
        os.makedirs(directory, exist_ok=True)  # the directory the user named, as named
    except FileExistsError:
        raise WriteError(f"{directory}: exists and is not a directory") from None
    except OSError as exc:
        raise WriteError(f"{directory}: {exc.strerror or exc}") from None
    refused: list[str] = []
    planned: list[tuple[str, bytes]] = []
    for change in changes:
        name = f"{change.host}:{change.path}"
        try:
            planned.append((output_path(directory, change), _encode(change, name)))
        except UnsafePath as exc:
            refused.append(f"{name}: " + (f"{exc.path}: " if exc.path.startswith("/") else "") + exc.why)
        except WriteError as exc:
            refused.append(str(exc))
        except OSError as exc:
            refused.append(f"{name}: {exc.strerror or exc}")
    if refused:
        raise WriteError("\n".join(refused))
    written: list[str] = []
    for dest, data in planned:
        try:
            fsutil.make_dirs(os.path.dirname(dest), base=directory)
            fsutil.confined_join(directory, os.path.relpath(dest, directory))  # nothing planted meanwhile
            fsutil.atomic_write(dest, data, 0o644)
        except OSError as exc:
            done = f" (already written: {', '.join(written)})" if written else ""
            raise WriteError(f"{exc.filename or dest}: {exc.strerror or exc}{done}") from None
        written.append(dest)
    return written


def check_unchanged(target: Target, change: FileChange) -> str | None:
    """Why the file on disk is not the one the fix was computed from (None when it is)."""
    try:
        real = target.real_path(change.path)
    except UnsafePath as exc:
        return str(exc)
    try:
        data: bytes | None = fsutil.read_bounded(real)
    except FileNotFoundError:
        data = None
    except UnsafePath as exc:
        return str(exc)
    except OSError as exc:
        return f"{real}: {exc.strerror or exc}"
    current = data.decode("utf-8", "surrogateescape") if data is not None else None
    if current == change.old:
        return None
    if data is not None and change.old is not None and "\ufffd" in change.old and _not_utf8(data):
        return (f"{real} holds bytes that are not valid UTF-8 and they were read as U+FFFD: writing the fix would "
                "replace them, so it is not written (fix the file by hand, or save it as UTF-8 and run fix again)")
    return f"{real} changed since it was inspected; run fix again"


def _not_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


@dataclass
class _Step:
    real: str
    backup: str | None = None
    replaced: bool = False


def write_all(items: list[tuple[Target, FileChange]], stamp: str | None = None) -> list[str]:
    """Replace every file, or (on an error) none: returns one line per file written, with its backup,
    and one per attribute that could not be kept."""
    stamp = stamp or time.strftime("%Y%m%d%H%M%S")
    planned: list[tuple[str, FileChange, bytes, str | None, str | None]] = []
    for target, change in items:
        try:
            real = target.real_path(change.path)
            backup = _backup_name(target, real, stamp) if change.old is not None else None
        except UnsafePath as exc:
            raise WriteError(f"{exc}; nothing was changed") from None
        except OSError as exc:
            raise WriteError(f"{exc.filename or target.backup_dir}: {exc.strerror or exc} (backup directory); "
                             "nothing was changed") from None
        root = target.root if target.kind == "image" else None
        planned.append((real, change, _encode(change, real), root, backup))
    steps: list[_Step] = []
    report: list[str] = []
    try:
        for real, change, data, root, backup in planned:
            step = _Step(real)
            steps.append(step)
            if change.old is not None:
                step.backup = _backup(real, stamp, backup)
            notes = _replace(real, data, real if change.old is not None else None, root)
            step.replaced = True
            report.append(f"wrote {real}" + (f" (backup: {step.backup})" if step.backup else " (new file)"))
            report += [f"  warning: {note}" for note in notes]
    except OSError as exc:
        left = _roll_back(steps)
        hint = " (a mount point, e.g. a bind-mounted /etc/hosts: copy the fixed file over it by hand)" \
            if exc.errno == errno.EBUSY else ""
        outcome = "nothing was changed" if not left else "rolled back, except: " + "; ".join(left)
        raise WriteError(f"{steps[-1].real}: {exc.strerror or exc}{hint}; {outcome}") from None
    return report


def _backup_name(target: Target, real: str, stamp: str) -> str | None:
    """BACKUP_DIR/HOST/PATH.preflight-STAMP (PATH as under the image root), made ready; None: beside it."""
    if target.backup_dir is None:
        return None
    rel = target.under_root(real) if target.kind == "image" else real
    os.makedirs(target.backup_dir, mode=0o700, exist_ok=True)  # the directory the user named, as named
    name = fsutil.confined_join(target.backup_dir, f"{target.role}/{rel.lstrip('/')}.preflight-{stamp}")
    fsutil.make_dirs(os.path.dirname(name), base=target.backup_dir, mode=0o700)
    return name


def _backup(real: str, stamp: str, elsewhere: str | None = None) -> str:
    base = elsewhere or f"{real}.preflight-{stamp}"
    name, n = base, 0
    while os.path.lexists(name):
        n += 1
        name = f"{base}.{n}"
    try:
        os.link(real, name, follow_symlinks=False)  # the old inode itself: content, owner, mode, xattrs kept
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
        _copy_backup(real, name)  # e.g. a bind-mounted file (EXDEV), a file system without hard links
    return name


def _copy_backup(real: str, name: str) -> None:
    st = os.lstat(real)
    if stat.S_ISLNK(st.st_mode):
        os.symlink(os.readlink(real), name)
        return
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(name, flags, BACKUP_MODE)
    try:
        with open(real, "rb") as src, os.fdopen(fd, "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
        _copy_attributes(real, name, new=False)
    except BaseException:
        os.unlink(name)
        raise


def _roll_back(steps: list[_Step]) -> list[str]:
    """Undo ``steps`` (newest first); returns what could not be undone, by name (empty: all undone)."""
    left: list[str] = []
    for step in reversed(steps):
        try:
            if step.replaced and step.backup:
                _restore(step.backup, step.real)
            elif step.replaced:
                os.unlink(step.real)  # a new file
            elif step.backup:
                os.unlink(step.backup)  # never replaced: the old file is still in place
        except OSError as exc:
            if step.replaced and step.backup:
                left.append(f"{step.real} is the fixed file, its old content is in {step.backup} "
                            f"({exc.strerror or exc})")
            elif step.replaced:
                left.append(f"{step.real} was created and could not be removed ({exc.strerror or exc})")
            else:
                left.append(f"the backup {step.backup} could not be removed ({exc.strerror or exc})")
    return left


def _restore(backup: str, real: str) -> None:
    """The old file back in place; the backup name goes with it."""
    try:
        os.replace(backup, real)  # the old inode itself
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:  # a backup directory on another file system: copy it back
            raise
    with open(backup, "rb") as fh:
        data = fh.read()
    _replace(real, data, backup, None)
    os.unlink(backup)


def _replace(path: str, data: bytes, reference: str | None, root: str | None) -> list[str]:
    """Write via an O_EXCL temporary in the same directory, renamed over ``path`` (a symlink there is
    replaced, not followed); owner, mode and xattrs from ``reference``. Returns what was not kept.
    Missing directories are made (under an image ``root``: refusing symlinked ones)."""
    directory = os.path.dirname(path) or "."
    if root is not None:
        fsutil.make_dirs(directory, base=root)
    elif not os.path.isdir(directory):
        os.makedirs(directory, mode=0o755)
    notes: list[str] = []
    fsutil.atomic_write(path, data, suffix=".preflight-tmp",
                        prepare=lambda tmp: notes.extend(_copy_attributes(reference or directory, tmp,
                                                                          new=reference is None)))
    return [f"{path}: {note}" for note in notes]


def _copy_attributes(reference: str, tmp: str, new: bool) -> list[str]:
    """Mode and owner (a new file: config-file mode, the directory's owner); for a replaced file every
    extended attribute too (SELinux label, POSIX ACLs, user.*). Returns the attributes not kept."""
    st = os.stat(reference)
    os.chmod(tmp, 0o644 if new else st.st_mode & 0o7777)
    if os.geteuid() == 0:
        os.chown(tmp, st.st_uid, st.st_gid)
    if new:
        return []
    try:
        names = os.listxattr(reference)
    except OSError as exc:
        if exc.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
            return []
        return [f"extended attributes not kept: cannot list them ({exc.strerror or exc})"]
    notes = []
    for name in names:  # after chmod: an ACL carries the mode bits it needs
        if name in CONTENT_BOUND:
            notes.append(f"extended attribute {name} not kept: it vouches for the old content (sign the new one)")
            continue
        try:
            os.setxattr(tmp, name, os.getxattr(reference, name))
        except OSError as exc:
            notes.append(f"extended attribute {name} not kept ({exc.strerror or exc})")
    return notes
