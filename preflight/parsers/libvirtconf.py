"""libvirt daemon configuration files (libvirtd.conf, virtqemud.conf, qemu.conf ...), read as virconf.c reads them.

A port of the rules of libvirt's src/util/virconf.c (virConfParse*), one pass, linear in the size
of the text (checked against the real libvirtd by tests/parsers/test_libvirtconf_differential.py):

- statements ``name = value`` separated by a newline, a CR or ``;``; blanks are space and tab only;
- a name is an ASCII letter then letters, digits and ``_``; keys are case-sensitive; any key is taken;
- values: a number (optional sign, ASCII digits; accumulated in 64 bits and wrapping as the C code
  does, so ``18446744073709551617`` is 1), a string in ``'...'`` or ``"..."`` (ends at the line's
  end) or ``\"\"\"...\"\"\"`` (may span lines), or a list ``[ v, v, ]`` of any values, nested lists too,
  over several lines; a ``#`` comment after a value or on its own line;
- the first syntax error refuses the whole file (``errors``: its line and libvirt's message first);
  a text that is nothing but blank lines is refused too ("expecting a name");
- when a key repeats, the FIRST occurrence wins (virConfGetValue walks the list from the head).

The daemon then reads each setting with a typed getter (virConfGetValueUInt ...): a string where a
number belongs, ``-0`` for an unsigned setting or a value out of range makes it refuse to start; the
first such refusal is in ``invalid`` (see :mod:`preflight.parsers.libvirt_daemon`).

>>> conf = parse_libvirt_conf('#max_clients = 5000\\nmax_clients = 50\\nmax_clients = 9\\n', "libvirtd.conf")
>>> conf.get("max_clients").value, conf.get("max_clients").line
(50, 2)
>>> conf.commented_defaults, conf.duplicates
({'max_clients': 1}, [('max_clients', 2, 3)])
>>> print(parse_libvirt_conf('max_clients = "50"\\n', "/etc/libvirt/libvirtd.conf").invalid[0])
/etc/libvirt/libvirtd.conf:1: expected an unsigned integer for 'max_clients' parameter (it is the string "50"): \
libvirtd refuses to start
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Union

from preflight.model.findings import ParseError

LENS = "Preflight_Libvirtconf.lns"  # preflight.fix.libvirt edits through Augeas with it

Value = Union[int, str, list["Value"]]

# virconf's value types: a number written with '-' is a signed "long", any other number "ulong"
LONG, ULONG, STRING, LIST = "long", "ulong", "string", "list"

_WRAP = 1 << 64
_BLANKS = re.compile(r"[ \t]*")
_BLANKS_EOL = re.compile(r"[ \t\r\n]*")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_DIGITS = re.compile(r"[0-9]+")
_TO_EOL = re.compile(r"[^\r\n]*")
_SINGLE = re.compile(r"[^'\r\n]*")
_DOUBLE = re.compile(r"[^\"\r\n]*")
_COMMENTED = re.compile(r"[ \t]*([A-Za-z][A-Za-z0-9_]*)[ \t]*=")
_NUMBER_CHARS = set("0123456789+-")


class SettingError(ParseError):
    """A setting the daemon's typed read refuses: it does not start. ``key`` names the setting."""

    def __init__(self, file: str, line: int | None, message: str, key: str, daemon: str) -> None:
        super().__init__(file, line, message)
        self.key = key
        self.daemon = daemon


@dataclass
class ConfEntry:
    key: str
    value: Value  # ulong: 0 .. 2**64-1 as the unsigned getters see it; long: the signed value
    line: int
    kind: str = ULONG  # LONG, ULONG, STRING or LIST: what virconf stored


@dataclass
class LibvirtConf:
    path: str
    entries: list[ConfEntry] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)  # a syntax error: the whole file is refused
    # key -> line of its first commented-out "#key = value" line
    commented_defaults: dict[str, int] = field(default_factory=dict)
    # (key, line of the occurrence that wins, line of a later one that is ignored)
    duplicates: list[tuple[str, int, int]] = field(default_factory=list)
    # the first setting the daemon's typed read refuses (it does not start); empty for files no
    # daemon schema is known for (qemu.conf)
    invalid: list[SettingError] = field(default_factory=list)
    _first: dict[str, ConfEntry] = field(default_factory=dict, repr=False, compare=False)
    _indexed: int = field(default=-1, repr=False, compare=False)

    def get(self, key: str) -> ConfEntry | None:
        """The entry libvirt uses: the first one with this key (see module doc)."""
        if self._indexed != len(self.entries):  # a dict, rebuilt when entries were added
            self._first = {}
            for entry in self.entries:
                self._first.setdefault(entry.key, entry)
            self._indexed = len(self.entries)
        return self._first.get(key)


class _Refused(Exception):
    def __init__(self, pos: int, message: str) -> None:
        super().__init__(message)
        self.pos = pos
        self.message = message


def parse_libvirt_conf(text: str, path: str) -> LibvirtConf:
    result = LibvirtConf(path)
    try:
        _Parser(text, result).run()
    except _Refused as exc:
        line = text.count("\n", 0, exc.pos) + 1
        result.entries, result.duplicates = [], []
        result.errors.append(ParseError(path, line, exc.message))
    if not result.errors:
        from preflight.parsers.libvirt_daemon import refusal  # the typed reads: a module of its own

        refused = refusal(result)
        if refused is not None:
            result.invalid.append(refused)
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


def describe(entry: ConfEntry) -> str:
    """The value as the user wrote it, roughly: for messages."""
    if entry.kind == STRING:
        return f"the string {_quoted(str(entry.value))}"
    if entry.kind == LIST:
        return "a list"
    return f"the number {entry.value}"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _Parser:
    """virConfParse: statement, separator, statement ... until the end of the text."""

    def __init__(self, text: str, out: LibvirtConf) -> None:
        self.text = text
        self.end = len(text)
        self.pos = 0
        self.out = out
        self.first_line: dict[str, int] = {}
        self.line = 1  # of self.pos, kept up to date where newlines are skipped
        self.counted = 0  # self.line counts the newlines before this offset

    def cur(self) -> str:
        """CUR: the text is NUL-terminated in C, so at the end the character is NUL."""
        return self.text[self.pos] if self.pos < self.end else "\0"

    def line_at(self, pos: int) -> int:
        self.line += self.text.count("\n", self.counted, pos)
        self.counted = pos
        return self.line

    def skip(self, blanks: re.Pattern[str]) -> None:
        self.pos = blanks.match(self.text, self.pos).end()  # type: ignore[union-attr]

    def run(self) -> None:
        while self.pos < self.end:
            self.statement()
            self.separator()

    def statement(self) -> None:
        self.skip(_BLANKS_EOL)
        if self.cur() == "#":
            start = self.pos + 1
            self.pos = _TO_EOL.match(self.text, start).end()  # type: ignore[union-attr]
            found = _COMMENTED.match(self.text, start, self.pos)
            if found:
                self.out.commented_defaults.setdefault(found.group(1), self.line_at(start))
            return
        self.skip(_BLANKS)
        name = _NAME.match(self.text, self.pos)
        if name is None:
            raise _Refused(self.pos, "expecting a name" + self.around())
        key, line = name.group(), self.line_at(self.pos)
        self.pos = name.end()
        self.skip(_BLANKS)
        if self.cur() != "=":
            raise _Refused(self.pos, f"expecting an assignment: '=' after {key!r}" + self.around())
        self.pos += 1
        kind, value = self.value(key)
        self.skip(_BLANKS)
        if self.cur() == "#":
            self.pos = _TO_EOL.match(self.text, self.pos).end()  # type: ignore[union-attr]
        self.out.entries.append(ConfEntry(key, value, line, kind))
        if key in self.first_line:
            self.out.duplicates.append((key, self.first_line[key], line))
        else:
            self.first_line[key] = line

    def separator(self) -> None:
        self.skip(_BLANKS)
        if self.pos >= self.end:
            return
        ch = self.cur()
        if ch in "\r\n":
            self.skip(_BLANKS_EOL)
        elif ch == ";":
            self.pos += 1
            self.skip(_BLANKS_EOL)
        else:
            raise _Refused(self.pos, "expecting a separator: a new line or ';' after the value" + self.around())

    def around(self) -> str:
        return f" (found {self.here()})"

    def here(self) -> str:
        """What stands at the error, for the message."""
        if self.pos >= self.end:
            return "the end of the file"
        if self.text[self.pos] == "\0":
            return "a NUL byte"
        found = _TO_EOL.match(self.text, self.pos, min(self.end, self.pos + 40))
        shown = found.group() if found else ""  # always matches
        return repr(shown) if shown else "the end of the line"

    def value(self, key: str) -> tuple[str, Value]:
        """virConfParseValue, with nested lists on an explicit stack (no recursion limit)."""
        stack: list[list[Value]] = []
        opened: list[int] = []
        while True:
            self.skip(_BLANKS)
            if self.pos >= self.end:
                raise _Refused(self.pos, f"expecting a value for {key!r}" + self.around())
            ch = self.text[self.pos]
            item: Value
            if ch == "[":
                start = self.pos
                self.pos += 1
                self.skip(_BLANKS_EOL)
                if self.pos < self.end and self.cur() != "]":
                    stack.append([])
                    opened.append(start)
                    continue  # parse the first element
                kind: str = LIST
                item = []
                self.close_list(key, start)
            elif ch in "'\"":
                kind, item = STRING, self.string(key)
            elif ch in _NUMBER_CHARS:
                kind, item = self.number(key)
            else:
                raise _Refused(self.pos, f"expecting a value for {key!r}: {self.here()} is neither a number, "
                               "a quoted string nor a list")
            # an element is complete: climb out of every list it completes
            while stack:
                stack[-1].append(item)
                self.skip(_BLANKS_EOL)
                if self.pos < self.end and self.cur() != "]":
                    if self.cur() != ",":
                        raise _Refused(self.pos, f"expecting a separator in list: ',' between the elements of "
                                       f"{key!r}" + self.around())
                    self.pos += 1
                    self.skip(_BLANKS_EOL)
                    if self.cur() != "]":
                        break  # another element follows
                kind, item = LIST, stack.pop()
                self.close_list(key, opened.pop())
            else:
                return kind, item

    def close_list(self, key: str, start: int) -> None:
        if self.cur() != "]":
            raise _Refused(self.pos, f"list is not closed with ]: the list of {key!r} opened on line "
                           f"{self.text.count(chr(10), 0, start) + 1}" + self.around())
        self.pos += 1

    def string(self, key: str) -> str:
        text, pos = self.text, self.pos
        if text[pos] == '"' and pos + 6 < self.end and text.startswith('"""', pos):
            stop = text.find('"""', pos + 3)
            if stop < 0:
                self.pos = max(pos + 3, self.end - 2)
                raise _Refused(self.pos, f"unterminated string: the \"\"\" string of {key!r} never ends")
            self.pos = stop + 3
            return text[pos + 3:stop].split("\0", 1)[0]  # g_strndup stops at a NUL
        body = (_SINGLE if text[pos] == "'" else _DOUBLE).match(text, pos + 1)
        assert body is not None  # the patterns match the empty string
        if body.end() >= self.end or text[body.end()] != text[pos]:
            self.pos = body.end()
            raise _Refused(self.pos, f"unterminated string: the value of {key!r} has no closing {text[pos]} on "
                           "its line")
        self.pos = body.end() + 1
        return body.group().split("\0", 1)[0]

    def number(self, key: str) -> tuple[str, int]:
        """virConfParseLong: a sign, then digits accumulated in a wrapping 64-bit integer."""
        sign = self.text[self.pos]
        kind = LONG if sign == "-" else ULONG
        if sign in "+-":
            self.pos += 1
        digits = _DIGITS.match(self.text, self.pos)
        if digits is None:
            raise _Refused(self.pos, f"unterminated number: no digit after {sign!r} in {key!r}")
        self.pos = digits.end()
        value = 0
        run = digits.group()
        for i in range(0, len(run), 18):  # chunks: int() refuses very long digit strings
            chunk = run[i:i + 18]
            value = (value * 10 ** len(chunk) + int(chunk)) % _WRAP
        if sign == "-":
            value = (-value) % _WRAP
        if kind == LONG and value >= 1 << 63:
            value -= _WRAP  # the signed view
        return kind, value
