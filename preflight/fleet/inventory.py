"""An Ansible inventory as Ansible's own model holds it: hosts, groups, children, vars with their file:line.

Parsing is in preflight.fleet.ini and preflight.fleet.yamlinv; :func:`load` picks the format
as Ansible's plugins do (``.yml``/``.yaml``/``.json`` is YAML, anything else INI).
Variables resolve as Ansible's ``get_vars`` does: the host's groups sorted by (depth, name),
``all`` first, each overriding the one before, then the host's own vars. So host > child
group > parent group > all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

ALL, UNGROUPED = "all", "ungrouped"
MAX_BYTES = 16 * 1024 * 1024  # an inventory file larger than this is refused, never read whole
YAML_SUFFIXES = (".yml", ".yaml", ".json")


class InventoryError(ValueError):
    """The inventory cannot be read as Ansible would; the message starts with file:line."""


@dataclass(frozen=True)
class Where:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class Host:
    name: str
    defined: Where
    vars: dict[str, object] = field(default_factory=dict)
    where: dict[str, Where] = field(default_factory=dict)
    groups: list[str] = field(default_factory=list)  # direct groups, in the order they listed the host
    file_vars: dict[str, object] = field(default_factory=dict)  # host_vars/NAME (beats the inventory's)
    file_where: dict[str, Where] = field(default_factory=dict)


@dataclass
class Group:
    name: str
    defined: Where | None = None  # None: only referenced so far (a [x:children] line, a YAML child)
    hosts: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    vars: dict[str, object] = field(default_factory=dict)
    where: dict[str, Where] = field(default_factory=dict)
    file_vars: dict[str, object] = field(default_factory=dict)  # group_vars/NAME
    file_where: dict[str, Where] = field(default_factory=dict)


@dataclass(frozen=True)
class Var:
    value: object
    where: Where | None  # None: not set anywhere (a default)
    scope: str  # "host" or "group NAME"


class Inventory:
    def __init__(self, path: str) -> None:
        self.path = path
        self.directory = os.path.dirname(os.path.abspath(path))
        self.hosts: dict[str, Host] = {}
        self.groups: dict[str, Group] = {ALL: Group(ALL), UNGROUPED: Group(UNGROUPED)}
        self.groups[ALL].children.append(UNGROUPED)
        self.groups[UNGROUPED].parents.append(ALL)

    # --- building -------------------------------------------------------------------------
    def group(self, name: str, where: Where | None = None) -> Group:
        grp = self.groups.get(name)
        if grp is None:
            grp = self.groups[name] = Group(name)
        if where is not None and grp.defined is None:
            grp.defined = where
        return grp

    def add_host(self, name: str, group: str | None, where: Where) -> Host:
        host = self.hosts.get(name)
        if host is None:
            host = self.hosts[name] = Host(name, where)
        if group is not None and group != ALL:
            grp = self.group(group)
            if name not in grp.hosts:
                grp.hosts.append(name)
            if group not in host.groups:
                host.groups.append(group)
        return host

    def add_child(self, parent: str, child: str, where: Where) -> None:
        if child == ALL:
            raise InventoryError(f"{where}: group {ALL!r} cannot be a child of {parent!r}")
        if parent == child or parent in self.descendants(child):
            raise InventoryError(f"{where}: adding group {child!r} to {parent!r} makes a loop of groups")
        grp, kid = self.group(parent), self.group(child)
        if child not in grp.children:
            grp.children.append(child)
        if parent not in kid.parents:
            kid.parents.append(parent)

    def finish(self) -> Inventory:
        """Groups without a parent hang under ``all``; hosts in no group are ``ungrouped`` (as Ansible)."""
        top = self.groups[ALL]
        for name, grp in self.groups.items():
            if name != ALL and not grp.parents:
                grp.parents.append(ALL)
                top.children.append(name)
        ungrouped = self.groups[UNGROUPED]
        for name, host in self.hosts.items():
            real = [g for g in host.groups if g != UNGROUPED]
            if real and name in ungrouped.hosts:
                ungrouped.hosts.remove(name)
                host.groups.remove(UNGROUPED)
            elif not host.groups:
                ungrouped.hosts.append(name)
                host.groups.append(UNGROUPED)
        return self

    # --- reading --------------------------------------------------------------------------
    def descendants(self, name: str) -> list[str]:
        seen: dict[str, None] = {}
        todo = list(self.groups[name].children) if name in self.groups else []
        while todo:
            child = todo.pop(0)
            if child not in seen:
                seen[child] = None
                todo.extend(self.groups[child].children)
        return list(seen)

    def group_hosts(self, name: str) -> list[str]:
        """Every host of ``name`` and of its descendants, in inventory order."""
        if name == ALL:
            return list(self.hosts)
        members = {h for g in [name, *self.descendants(name)] for h in self.groups[g].hosts}
        return [h for h in self.hosts if h in members]

    def ancestors(self, group: str) -> list[str]:
        seen: dict[str, None] = {}
        todo = list(self.groups[group].parents)
        while todo:
            parent = todo.pop(0)
            if parent not in seen:
                seen[parent] = None
                todo.extend(self.groups[parent].parents)
        return list(seen)

    def host_groups(self, host: str) -> list[str]:
        """Every group ``host`` belongs to, directly or through a child group, ``all`` included."""
        out: dict[str, None] = {}
        for g in self.hosts[host].groups:
            out[g] = None
            for a in self.ancestors(g):
                out[a] = None
        out[ALL] = None
        return list(out)

    def depth(self, group: str) -> int:
        """Ansible's Group.depth: the longest path from ``all``."""
        parents = self.groups[group].parents
        return 0 if group == ALL or not parents else 1 + max(self.depth(p) for p in parents)

    def var(self, host: str, key: str) -> Var:
        """``key`` for ``host`` as Ansible's VariableManager resolves it (its default precedence), strongest
        first: host_vars/ files, the inventory's host vars, group_vars/ files of the host's groups (deepest,
        then last by name, first), group_vars/all, the inventory's vars of those groups, then of ``all``."""
        h = self.hosts[host]
        if key in h.file_vars:
            return Var(h.file_vars[key], h.file_where.get(key), "host")
        if key in h.vars:
            return Var(h.vars[key], h.where.get(key), "host")
        ordered = sorted((g for g in self.host_groups(host) if g != ALL), key=lambda g: (self.depth(g), g),
                         reverse=True)
        for files in (True, False):
            for g in [*ordered, ALL]:
                grp = self.groups[g]
                found, where = (grp.file_vars, grp.file_where) if files else (grp.vars, grp.where)
                if key in found:
                    return Var(found[key], where.get(key), f"group {g}")
        return Var(None, None, "")


def read_text(path: str, what: str = "the inventory") -> str:
    """A regular file's text, bounded (MAX_BYTES), UTF-8; InventoryError naming the file otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError as exc:
        raise InventoryError(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    try:
        import stat

        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InventoryError(f"{path}: not a regular file (an inventory directory or script is not supported)")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(MAX_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_BYTES:
        raise InventoryError(f"{path}: larger than {MAX_BYTES // (1024 * 1024)} MiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InventoryError(f"{path}:{line}: not UTF-8") from None


def load(path: str) -> Inventory:
    """Parse the inventory at ``path`` (INI, or YAML for .yml/.yaml/.json), then the group_vars/ and
    host_vars/ beside it; InventoryError when it cannot be."""
    text = read_text(path)
    if path.lower().endswith(YAML_SUFFIXES):
        from preflight.fleet.yamlinv import parse_yaml

        inv = parse_yaml(text, path)
    else:
        from preflight.fleet.ini import parse_ini

        inv = parse_ini(text, path)
    from preflight.fleet.varsdirs import load_vars_dirs

    load_vars_dirs(inv)
    return inv
