"""Image mode: a directory holding a host's root. Files only; no command can run there."""

from __future__ import annotations

import errno
import functools
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from preflight.fsutil import MAX_FILE_BYTES, UnsafePath, read_bounded, resolve_in_root
from preflight.gather.script import FIXED_COMMAND_KEYS
from preflight.model import probes as pk
from preflight.model.facts import Availability, Probe
from preflight.parsers.sshd import NOTE

NOT_AVAILABLE = "not available in image mode"
DAEMONS = ("libvirtd", "virtqemud", "virtproxyd")
READ_TIMEOUT = 10.0  # seconds per file when the caller gives none (the CLI's --timeout default)
T = TypeVar("T")


# The old name, for modules that still import it: one resolver for every inspected path.
path_in_root = resolve_in_root


def _why(exc: OSError) -> str:
    """``exc`` as one line that names the file: "/etc/hosts: is a directory"."""
    if isinstance(exc, UnsafePath):
        return exc.why
    if exc.errno == errno.ELOOP:
        return "too many levels of symbolic links"
    if exc.errno == errno.ENXIO:  # open() of a UNIX socket, or a device without its driver
        return "is not a regular file (a socket or a device)"
    return exc.strerror or str(exc)


def read_file_probe(root: str, path: str) -> Probe:
    """One host file under ``root``: confined (resolve_in_root), regular files only, size-capped.

    Undecodable bytes are kept as surrogates (``surrogateescape``), so what is
    read can be written back byte for byte. A file that cannot be read is an
    ERROR probe whose error names the file and why; an absent one is MISSING.
    """
    key, how = pk.file_key(path), f"read {path} under image root {root}"
    try:
        data = read_bounded(resolve_in_root(root, path), MAX_FILE_BYTES, follow=False)
    except FileNotFoundError:
        return Probe(key, how, Availability.MISSING, rc=1, error=f"{path}: No such file or directory")
    except OSError as exc:
        return Probe(key, how, Availability.ERROR, error=f"{path}: {_why(exc)}")
    return Probe(key, how, Availability.OK, text=data.decode("utf-8", errors="surrogateescape"), rc=0)


def sshd_include_files(root: str, path: str) -> list[str]:
    """What ``path`` Includes under ``root``, then notes ("!PATTERN<TAB>REASON") for what
    could not be expanded: preflight.parsers.sshd.walk_includes (the one place that knows
    Include) over this root's files. Each file once, at most 256, sshd's depth 16."""
    from preflight.parsers.sshd import walk_includes  # the parser owns Include resolution

    def read(host_path: str) -> str:
        data = read_bounded(resolve_in_root(root, host_path), MAX_FILE_BYTES, follow=False)
        return data.decode("utf-8", errors="surrogateescape")

    def listdir(host_dir: str) -> list[str] | None:
        real = resolve_in_root(root, host_dir)
        if not os.path.isdir(real):
            return None
        names: list[str] = []
        with os.scandir(real) as entries:  # PermissionError: reported as a note, never skipped
            for entry in entries:
                names.append(entry.name)
                if len(names) > _MAX_DIR_ENTRIES:
                    raise OSError(f"more than {_MAX_DIR_ENTRIES} entries")
        return names

    def kind(host_path: str) -> str | None:
        try:
            real = resolve_in_root(root, host_path)
        except OSError:
            return "other"  # a symlink loop: there, but not a file sshd can read
        if os.path.isfile(real):
            return "file"
        if os.path.isdir(real):
            return "dir"
        return "other" if os.path.lexists(real) else None

    return walk_includes(path, read, listdir, kind)


_MAX_DIR_ENTRIES = 10_000  # an Include directory listing is bounded too


class _Job(threading.Thread, Generic[T]):
    """``fn()`` in a daemon thread: a read stuck in a hung filesystem cannot be killed, only left behind."""

    def __init__(self, fn: Callable[[], T]) -> None:
        super().__init__(daemon=True, name="preflight-image-read")
        self._fn = fn
        self.result: T | None = None
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            self.result = self._fn()
        except BaseException as exc:  # handed to the caller's thread by outcome()
            self.error = exc

    def outcome(self, deadline: float) -> T | None:
        """The result, None if still running at ``deadline``; the job's own exception is re-raised."""
        self.join(max(0.0, deadline - time.monotonic()))
        if self.is_alive():
            return None
        if self.error is not None:
            raise self.error
        return self.result


def _read_all(root: str, paths: Iterable[str]) -> dict[str, _Job[Probe]]:
    return {p: _Job(functools.partial(read_file_probe, root, p)) for p in dict.fromkeys(paths)}


def _collect(jobs: dict[str, _Job[Probe]], deadline: float, timeout: float) -> dict[str, Probe]:
    """Each file's probe; one still reading at the deadline is an ERROR of its own, the others stay."""
    out: dict[str, Probe] = {}
    for path, job in jobs.items():
        got = job.outcome(deadline)
        out[pk.file_key(path)] = got or Probe(
            pk.file_key(path), f"read {path} under image root", Availability.ERROR, rc=124,
            error=f"{path}: no answer within {timeout:g} s (a hung filesystem?); left unread",
        )
    return out


def _includes(root: str) -> list[str] | OSError:
    try:
        return sshd_include_files(root, pk.SSHD_CONFIG)
    except OSError as exc:  # e.g. a symlink loop on the way to an Include directory
        return exc
    except ValueError as exc:  # a file the walk could not take: the index says so, no traceback
        return OSError(f"{pk.SSHD_CONFIG} Include targets: {exc}")


def pki_keys_probe(root: str) -> Probe:
    """The TLS private keys' mode and owner under ``root`` (as gather.sh's cmd:pki-keys; never their content).

    Owner and group are numeric (the image's names are not looked up)."""
    lines = []
    for path in pk.PKI_KEY_FILES:
        try:
            st = os.stat(resolve_in_root(root, path))
            lines.append(f"{path}\t{st.st_mode & 0o7777:o} {st.st_uid} {st.st_gid}\n")
        except FileNotFoundError:
            lines.append(f"{path}\t-\n")
        except OSError:
            lines.append(f"{path}\t?\n")
    return Probe(pk.PKI_KEYS, f"stat of the TLS private keys under image root {root}", Availability.OK,
                 text="".join(lines), rc=0)


def gather_image(
    root: str, names: Iterable[str] = (), paths: Iterable[str] = (), timeout: float = READ_TIMEOUT
) -> dict[str, Probe]:
    """Every catalogue key for an image root: files read directly, commands NOT_AVAILABLE.

    Reads run at once in worker threads, each file given ``timeout`` seconds
    (``--timeout``): a file on a hung filesystem becomes an ERROR probe of its
    own and never holds up, or loses, the others.
    """
    timeout = timeout if 0 < timeout < float("inf") else READ_TIMEOUT
    deadline = time.monotonic() + timeout
    jobs = _read_all(root, pk.FILES)
    listing: _Job[list[str] | OSError] = _Job(lambda: _includes(root))
    probes = _collect(jobs, deadline, timeout)
    main = probes[pk.file_key(pk.SSHD_CONFIG)]
    how = f"{pk.SSHD_CONFIG} and its Include targets under {root}"
    included = listing.outcome(deadline) if main.ok else None
    if not main.ok:
        index = Probe(pk.SSHD_FILES, pk.SSHD_FILES, main.status, rc=main.rc, error=main.error)
    elif included is None:
        index = Probe(pk.SSHD_FILES, how, Availability.ERROR, rc=124,
                      error=f"listing the Include targets took over {timeout:g} s (a hung filesystem?)")
    elif isinstance(included, OSError):
        index = Probe(pk.SSHD_FILES, how, Availability.ERROR, error=str(included))
    else:
        index = Probe(pk.SSHD_FILES, how, Availability.OK, rc=0,
                      text="".join(f"{p}\n" for p in [pk.SSHD_CONFIG, *included]))
        files = [p for p in included if not p.startswith(NOTE)]  # notes are the index's, not files
        probes.update(_collect(_read_all(root, files), time.monotonic() + timeout, timeout))
    probes[pk.SSHD_FILES] = index
    probes[pk.PKI_KEYS] = pki_keys_probe(root)
    keys = [k for k in FIXED_COMMAND_KEYS if k not in (pk.SSHD_FILES, pk.PKI_KEYS)]
    keys += [pk.virt_admin_key(d) for d in DAEMONS]
    keys += [pk.getent_key(n) for n in names] + [pk.path_key(p) for p in paths]
    for key in keys:
        probes[key] = Probe(key, key, Availability.NOT_AVAILABLE, error=NOT_AVAILABLE)
    return probes
