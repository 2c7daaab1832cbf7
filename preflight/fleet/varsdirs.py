"""``group_vars/`` and ``host_vars/`` beside the inventory, as Ansible's host_group_vars plugin reads them.

For a group or host NAME: the file ``NAME``, ``NAME.yml``, ``NAME.yaml`` or ``NAME.json``, or a directory
``NAME/`` whose files (those names' extensions or none, hidden ones skipped) are read in sorted order,
recursively; each holds a YAML mapping of variables. Only names the inventory defines are looked up.
"""

from __future__ import annotations

import os

from preflight.fleet.inventory import Inventory, InventoryError, Where, read_text

EXTENSIONS = ("", ".yml", ".yaml", ".json")
MAX_FILES = 10_000  # files read under one group_vars/NAME directory


def _files(base: str, name: str) -> list[str]:
    out: list[str] = []
    for ext in EXTENSIONS:
        path = os.path.join(base, name + ext)
        if os.path.isdir(path) and not ext:
            out += _walk(path)
        elif os.path.isfile(path):
            out.append(path)
    return out


def _walk(directory: str) -> list[str]:
    out: list[str] = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for f in sorted(files):
            if not f.startswith(".") and os.path.splitext(f)[1] in EXTENSIONS:
                out.append(os.path.join(root, f))
                if len(out) > MAX_FILES:
                    raise InventoryError(f"{directory}: more than {MAX_FILES} vars files")
    return out


def _read(path: str) -> list[tuple[str, object, Where]]:
    from preflight.fleet.yamlinv import parse_vars

    return parse_vars(read_text(path, "a vars file"), path)


def load_vars_dirs(inv: Inventory) -> None:
    for kind in ("group_vars", "host_vars"):
        base = os.path.join(inv.directory, kind)
        if not os.path.isdir(base):
            continue
        entities = inv.groups if kind == "group_vars" else inv.hosts
        for name, entity in entities.items():
            if "/" in name or name in (".", ".."):
                continue  # never a path out of group_vars/
            for path in _files(base, name):
                for key, value, where in _read(path):
                    entity.file_vars[key] = value
                    entity.file_where[key] = where
