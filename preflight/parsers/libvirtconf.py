"""libvirt daemon configuration files (libvirtd.conf, virtqemud.conf, qemu.conf ...).

Parsed with the project's own lens ``lenses/preflight_libvirtconf.aug``,
which accepts any key (the stock Libvirtd lens rejects keys it does not list).

Precedence, from libvirt's src/util/virconf.c: virConfAddEntry appends every
entry to a list in file order and virConfGetValue walks that list from the
head, returning the first entry whose name matches; so when a key repeats,
the FIRST occurrence wins. A syntax error anywhere makes virConfParse fail
and the daemon refuses the whole file.

>>> conf = parse_libvirt_conf('#max_clients = 5000\\nmax_clients = 50\\nmax_clients = 9\\n', "libvirtd.conf")
>>> conf.get("max_clients").value, conf.get("max_clients").line
(50, 2)
>>> conf.commented_defaults, conf.duplicates
({'max_clients': 1}, [('max_clients', 2, 3)])
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Union

from preflight.model.findings import ParseError
from preflight.parsers.augeas_util import LensError, Node, parse_text

LENS = "Preflight_Libvirtconf.lns"

Value = Union[int, str, list[str]]

_NAME = r"[A-Za-z][A-Za-z0-9_]*"
_COMMENTED = re.compile(rf"({_NAME})\s*=")
_STATEMENT = re.compile(rf"\s*({_NAME})?\s*(=)?\s*(.*)")


@dataclass
class ConfEntry:
    key: str
    value: Value
    line: int


@dataclass
class LibvirtConf:
    path: str
    entries: list[ConfEntry] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)
    # key -> line of its first commented-out "#key = value" line
    commented_defaults: dict[str, int] = field(default_factory=dict)
    # (key, line of the occurrence that wins, line of a later one that is ignored)
    duplicates: list[tuple[str, int, int]] = field(default_factory=list)

    def get(self, key: str) -> ConfEntry | None:
        """The entry libvirt uses: the first one with this key (see module doc)."""
        for entry in self.entries:
            if entry.key == key:
                return entry
        return None


def parse_libvirt_conf(text: str, path: str) -> LibvirtConf:
    result = LibvirtConf(path)
    # Stock configs are mostly comments (qemu.conf: ~2000 of them); Augeas reads each as a node at
    # a cost of several calls. Comment lines are blanked before parsing (line numbers unchanged) and
    # only scanned here for commented-out defaults.
    kept = text.split("\n")
    for number, raw in enumerate(kept, 1):
        stripped = raw.strip()
        if stripped.startswith("#"):
            commented = _COMMENTED.match(stripped[1:].strip())
            if commented:
                result.commented_defaults.setdefault(commented.group(1), number)
            kept[number - 1] = ""
    try:
        nodes = parse_text(LENS, "\n".join(kept), path)
    except ParseError as exc:
        result.errors.append(_explain(exc, text))
        return result
    first_line: dict[str, int] = {}
    for node in nodes:
        line = node.line or 0
        if node.label == "#comment":
            found = _COMMENTED.match(node.value or "")
            if found:
                result.commented_defaults.setdefault(found.group(1), line)
            continue
        result.entries.append(ConfEntry(node.label, _value(node), line))
        if node.label in first_line:
            result.duplicates.append((node.label, first_line[node.label], line))
        else:
            first_line[node.label] = line
    return result


def format_value(value: Value) -> str:
    """The lens tree's text for a value: ints bare, strings double-quoted, lists of those.

    >>> format_value(5), format_value("none")
    ('5', '"none"')
    """
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"not a scalar libvirt value: {value!r}")
    if isinstance(value, int):
        return str(value)
    if '"' not in value:
        return f'"{value}"'
    if "'" not in value:
        return f"'{value}'"
    raise ValueError(f"cannot quote {value!r} on one line")


def _value(node: Node) -> Value:
    if node.value is None:  # a list: children "1", "2", ... (and maybe a #comment)
        return [str(_scalar(c.value or "")) for c in node.children if c.label != "#comment"]
    return _scalar(node.value)


def _scalar(token: str) -> int | str:
    if token[:1] in ("'", '"'):
        return token[1:-1]
    return int(token)


def _explain(exc: ParseError, text: str) -> ParseError:
    """Replace the lens's message with what libvirt would complain about on that line."""
    lines = text.splitlines()
    if not isinstance(exc, LensError) or exc.line is None or not 1 <= exc.line <= len(lines):
        return exc
    return ParseError(exc.file, exc.line, _diagnose(lines[exc.line - 1]))


def _diagnose(line: str) -> str:
    name, equals, rest = _STATEMENT.fullmatch(line).groups()  # type: ignore[union-attr]
    rest = rest.strip()
    if name is None:
        return f"expecting a name: {line.strip()!r}"
    if equals is None:
        return f"expecting an assignment ('=') after {name!r}"
    if not rest:
        return f"expecting a value for {name!r}"
    if rest[0] in "\"'":
        if rest.find(rest[0], 1) < 0:
            return f"unterminated string in {name!r}"
    elif rest[0] == "[":
        return f"bad list for {name!r} (strings separated by ',', closed with ']')"
    elif not re.match(r"[-+]?[0-9]", rest):
        return f"expecting a value for {name!r}: {rest!r} is neither a number nor a quoted string"
    return f"expecting a separator (end of line) after the value of {name!r}"
