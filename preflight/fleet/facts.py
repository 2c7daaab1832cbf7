"""A fleet's snapshots saved (``--save-facts DIR``) and judged again without touching a host (``--facts DIR``).

One file per inventory host, ``DIR/NAME.json``; a name that is not a plain file name (an inventory is
hostile: ``../x``, a control character) is stored as ``host-SHA.json`` instead, never as a path.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from preflight.model.facts import HostSnapshot

_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,200}")


class FactsError(ValueError):
    """A saved snapshot that cannot be used: a usage error (exit 2), as for check --source-facts."""


def file_name(host: str) -> str:
    if _PLAIN.fullmatch(host):
        return f"{host}.json"
    return f"host-{hashlib.sha256(host.encode('utf-8', 'surrogatepass')).hexdigest()[:16]}.json"


def save(directory: Path, snapshots: dict[str, HostSnapshot]) -> None:
    """Each snapshot written atomically (a temporary beside it, renamed); OSError names the file."""
    for name, snap in snapshots.items():
        path = directory / file_name(name)
        try:
            snap.save(path)
        except OSError as exc:
            raise OSError(f"--save-facts: cannot write {path}: {exc.strerror or exc}") from None


def load(directory: Path, hosts: list[str]) -> dict[str, HostSnapshot]:
    """Every host's saved snapshot; FactsError for one missing or unusable (checked field by field)."""
    if not directory.is_dir():
        raise FactsError(f"--facts {directory}: not a directory")
    out: dict[str, HostSnapshot] = {}
    for name in hosts:
        path = directory / file_name(name)
        if not os.path.lexists(path):
            raise FactsError(f"--facts: no snapshot of host {name!r} ({path}); gather with --save-facts first")
        try:
            out[name] = HostSnapshot.load(path)
        except (OSError, ValueError) as exc:
            raise FactsError(f"{path}: not a usable facts snapshot ({exc})") from None
    return out
