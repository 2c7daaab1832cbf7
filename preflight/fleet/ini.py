"""Ansible's INI inventory format, read as ansible's ini inventory plugin reads it.

``[group]`` host lines (``name[:port] key=value ...``, shell-quoted, ``#`` comments), ``[group:vars]``
``key=value`` lines, ``[group:children]`` group names; lines before any section are ``ungrouped``;
``#`` and ``;`` start comment lines. Values are Python literals when they parse as one (``2222`` is an
int, ``"x"`` a string), else the text, as the plugin's ``_parse_value``. A section that names a
group no section defines is an error, as in Ansible.
"""

from __future__ import annotations

import ast
import re
import shlex
import warnings

from preflight.fleet.inventory import ALL, UNGROUPED, Inventory, InventoryError, Where
from preflight.fleet.ranges import RangeError, expand, has_range

_SECTION = re.compile(r"^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:[#;].*)?$")
MAX_LITERAL = 1000  # ast.literal_eval on a long hostile value is slow (and can recurse deep)


def parse_value(text: str) -> object:
    """A value as the plugin's ``_parse_value``: a Python literal, else the text itself."""
    if len(text) <= MAX_LITERAL:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            pass
    return text


def split_host_pattern(pattern: str, where: Where) -> tuple[list[str], int | None]:
    """``name``, ``name:port``, ``[v6]:port``, a bare IPv6 address, ranges: (names, port)."""
    port: int | None = None
    bracketed = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\](?::(\d+))?", pattern)
    if bracketed and bracketed.group(1).count(":") >= 2:
        name, digits = bracketed.group(1), bracketed.group(2)
    elif pattern.count(":") >= 2 and "[" not in pattern:
        name, digits = pattern, None  # a bare IPv6 address: no port
    else:
        name, digits = pattern, None
        cut = _port_colon(pattern)
        if cut >= 0:
            name, digits = pattern[:cut], pattern[cut + 1:]
    if digits is not None:
        if not (digits.isascii() and digits.isdigit() and len(digits) <= 5):
            raise InventoryError(f"{where}: {pattern!r}: expected NAME or NAME:PORT")
        port = int(digits)
    try:
        return (expand(name) if has_range(name) else [name]), port
    except RangeError as exc:
        raise InventoryError(f"{where}: {exc}") from None


def _port_colon(pattern: str) -> int:
    """The index of the ':' before a port, outside range brackets; -1 when there is none."""
    depth = 0
    for i, ch in enumerate(pattern):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == ":" and depth == 0:
            return i
    return -1


def parse_ini(text: str, path: str) -> Inventory:
    inv = Inventory(path)
    group, state = UNGROUPED, "hosts"
    defined = {ALL, UNGROUPED}  # groups a [x] or [x:children] section declares
    referenced: list[tuple[str, Where, str]] = []  # (group, where, how) that must be declared somewhere
    for number, raw in enumerate(text.splitlines(), 1):
        where = Where(path, number)
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = _SECTION.match(line)
            if section is None:
                raise InventoryError(f"{where}: invalid section header {line[:80]!r}")
            group, state = section.group(1), section.group(2) or "hosts"
            if state not in ("hosts", "vars", "children"):
                raise InventoryError(f"{where}: section [{group}:{state}] has an unknown type {state!r}")
            inv.group(group, where if state != "vars" else None)
            if state == "vars":
                referenced.append((group, where, f"section [{group}:vars] is for a group"))
            else:
                defined.add(group)
            continue
        if state == "hosts":
            _host_line(inv, line, group, where)
        elif state == "children":
            child = line.split("#", 1)[0].split(";", 1)[0].strip()
            if not child or any(c.isspace() for c in child):
                raise InventoryError(f"{where}: [{group}:children] lists one group name per line")
            inv.add_child(group, child, where)
            referenced.append((child, where, f"[{group}:children] names {child!r},"))
        else:
            key, eq, value = line.partition("=")
            if not eq or not key.strip():
                raise InventoryError(f"{where}: expected key=value in [{group}:vars]")
            grp = inv.group(group)
            grp.vars[key.strip()] = parse_value(value.strip())
            grp.where[key.strip()] = where
    for name, where, how in referenced:
        if name not in defined:
            raise InventoryError(f"{where}: {how} which no [{name}] or [{name}:children] section defines")
    return inv.finish()


def _host_line(inv: Inventory, line: str, group: str, where: Where) -> None:
    try:
        tokens = shlex.split(line, comments=True)
    except ValueError as exc:
        raise InventoryError(f"{where}: {exc}") from None
    if not tokens:
        return
    names, port = split_host_pattern(tokens[0], where)
    variables: dict[str, object] = {}
    for token in tokens[1:]:
        key, eq, text = token.partition("=")
        if not eq or not key:
            raise InventoryError(f"{where}: expected key=value host variable, got {token[:80]!r}")
        variables[key] = parse_value(text)
    if port is not None:
        variables["ansible_port"] = port
    for name in names:
        host = inv.add_host(name, group, where)
        for key, value in variables.items():
            host.vars[key] = value
            host.where[key] = where
