"""Run gather.sh on a host through its HostAccess and turn the output into Probes."""

from __future__ import annotations

import math
import secrets
from collections.abc import Iterable
from importlib import resources

from preflight.access.base import HostAccess
from preflight.fsutil import MAX_FILE_BYTES
from preflight.gather.frames import parse_frames
from preflight.model import probes as pk
from preflight.model.facts import Availability, Probe

# Keys every run must produce (from the declared probes); per-daemon virt-admin keys appear only
# for running daemons.
FIXED_COMMAND_KEYS = pk.COMMAND_KEYS


def gather_script() -> str:
    return resources.files("preflight.gather").joinpath("gather.sh").read_text(encoding="utf-8")


def gather_args(
    token: str, command_timeout: float, names: Iterable[str], paths: Iterable[str], names_only: bool = False,
    only: Iterable[str] | None = None, emulators: Iterable[str] = (),
) -> list[str]:
    """The script's arguments; each becomes one quoted shell word, so any byte in a name is data.

    ``only``: the probe keys the selected rules need (None: every one); the script then runs
    only their sections (``s:`` words) and reads only those files.
    """
    seconds = round(command_timeout) if math.isfinite(command_timeout) else 10  # inf/nan: the default
    args = [token, f"t:{max(1, seconds)}", f"c:{MAX_FILE_BYTES}"]
    wanted = None if only is None else set(only)
    if names_only:
        args += ["x:names-only"]
    else:
        args += [f"f:{p}" for p in pk.FILES if wanted is None or pk.file_key(p) in wanted]
        if wanted is not None:
            # "files" is carried by the f: words; an empty selection still names one section
            args += [f"s:{s}" for s in pk.SECTIONS if s != "files" and s in pk.sections_of(wanted)] or ["s:none"]
    args += [f"n:{n}" for n in names]
    args += [f"p:{p}" for p in paths]
    args += [f"d:{d}" for d in disk_dirs(paths)]
    args += [f"e:{e}" for e in emulators]
    return args


def disk_dirs(paths: Iterable[str]) -> list[str]:
    """Each disk path's directory, once: free space there is what a --copy-storage-* copy needs."""
    return list(dict.fromkeys(pk.disk_dir(p) for p in paths if p.startswith("/")))


def expected_keys(names: Iterable[str], paths: Iterable[str], names_only: bool = False,
                  only: Iterable[str] | None = None, emulators: Iterable[str] = ()) -> list[str]:
    keys = [] if names_only else [k for k in pk.SCRIPT_KEYS if pk.gathered(k, only)]
    keys += [pk.getent_key(n) for n in names] + [pk.path_key(p) for p in paths]
    keys += [pk.space_key(d) for d in disk_dirs(paths)]
    keys += [pk.emulator_key(e) for e in emulators]
    return keys


def cap_files(found: dict[str, Probe], limit: int = MAX_FILE_BYTES) -> None:
    """A file the script read past the cap (it reads limit+1 bytes) is an error, never a cut text."""
    for key, probe in found.items():
        if key.startswith("file:") and probe.status is Availability.OK and probe.text is not None:
            if len(probe.text) > limit or len(probe.text.encode("utf-8", "surrogateescape")) > limit:
                found[key] = Probe(key, probe.how, Availability.ERROR, rc=1,
                                   error=f"{key[5:]}: larger than {limit} bytes; not read")


def run_gather(
    access: HostAccess,
    names: Iterable[str] = (),
    paths: Iterable[str] = (),
    command_timeout: float = 10.0,
    total_timeout: float = 60.0,
    names_only: bool = False,
    only: Iterable[str] | None = None,
    emulators: Iterable[str] = (),
) -> dict[str, Probe]:
    """One script run: every catalogue key, each OK or saying why not. Raises HostUnreachable.

    ``names_only`` is the follow-up run for names learned from the other host's answers.
    """
    names, paths = list(dict.fromkeys(names)), list(dict.fromkeys(paths))
    emulators = list(dict.fromkeys(emulators))
    token = secrets.token_hex(16)
    only = None if only is None else list(only)
    args = gather_args(token, command_timeout, names, paths, names_only, only, emulators)
    result = access.run_script(gather_script(), total_timeout, args)
    found, done = parse_frames(result.stdout, token)
    cap_files(found)
    if not done:
        last = [ln for ln in result.stderr.splitlines() if ln.strip()]
        why = last[-1].strip() if last else f"gather script exited {result.rc} before the end"
        for key in expected_keys(names, paths, names_only, only, emulators):
            if key not in found:
                # rc None: this probe never ran (the script's own exit code says nothing about it)
                found[key] = Probe(key, key, Availability.ERROR, rc=None, error=why)
    return found
