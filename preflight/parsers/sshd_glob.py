"""glob(3) as sshd calls it for Include (glibc, flags 0, C locale), over any directory lister.

One path component at a time: '*' '?' '[...]' never match '/', a leading '.'
only matches a literal '.', backslash escapes, '[!...]' and '[^...]' negate,
'[:alpha:]' classes are ASCII; the matches are sorted byte-wise. Components
without wildcards are taken as written. ``listdir(dir)`` returns the names in
a directory, or None when it is not one; it may raise OSError (the image
gatherer does, so that a directory it cannot list is reported, not skipped).

>>> names = {"/etc/ssh": ["d"], "/etc/ssh/d": ["b.conf", ".h.conf", "a.conf", "x"]}
>>> glob("/etc/ssh/d/*.conf", names.get, lambda p: True)
['/etc/ssh/d/a.conf', '/etc/ssh/d/b.conf']
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

Lister = Callable[[str], "list[str] | None"]

_CLASSES = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "blank": " \\t", "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9", "graph": "!-~", "lower": "a-z", "print": " -~", "punct": "!-/:-@\\[-`{-~",
    "space": " \\t\\n\\r\\f\\v", "upper": "A-Z", "xdigit": "0-9A-Fa-f",
}  # fmt: skip


def glob(pattern: str, listdir: Lister, exists: Callable[[str], bool]) -> list[str]:
    """The sorted paths ``pattern`` (absolute) matches; ``exists`` checks a literal last part."""
    parts = pattern.split("/")
    compiled = [_translate(p) for p in parts[1:]]
    if not any(magic for _, magic, _ in compiled):
        literal = "/".join([""] + [lit for _, _, lit in compiled])
        return [literal] if exists(literal) else []
    paths = [""]
    for index, (regex, magic, literal) in enumerate(compiled):
        if not magic:
            paths = [f"{p}/{literal}" for p in paths]
            if index == len(compiled) - 1:
                paths = [p for p in paths if exists(p)]
            continue
        found = []
        for prefix in paths:
            names = listdir(prefix or "/")
            for name in names or ():
                if regex.fullmatch(name) and (name[:1] != "." or literal[:1] == "."):
                    found.append(f"{prefix}/{name}")
        paths = found
        if not paths:
            break
    return sorted(paths, key=_bytes)


def has_magic(pattern: str) -> bool:
    return any(magic for _, magic, _ in map(_translate, pattern.split("/")))


def _bytes(path: str) -> bytes:
    return path.encode("utf-8", "surrogateescape")


@lru_cache(maxsize=512)
def _translate(component: str) -> tuple[re.Pattern[str], bool, str]:
    """(regex, has wildcards, the component unescaped). ``literal[:1] == "."`` tells
    whether the pattern starts with a literal period (FNM_PERIOD)."""
    out: list[str] = []
    literal: list[str] = []
    magic = False
    i, n = 0, len(component)
    while i < n:
        c = component[i]
        if c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(component[i]))
            literal.append(component[i])
        elif c in "*?":
            magic = True
            out.append(".*" if c == "*" else ".")
            literal.append("\0")  # never a literal period
        elif c == "[":
            bracket, end = _bracket(component, i)
            if bracket is None:
                out.append(re.escape(c))
                literal.append(c)
            else:
                magic = True
                out.append(bracket)
                literal.append("\0")
                i = end
        else:
            out.append(re.escape(c))
            literal.append(c)
        i += 1
    text = "".join(literal)
    return re.compile("".join(out), re.DOTALL), magic, text if not magic else text[:1]


def _bracket(s: str, start: int) -> tuple[str | None, int]:
    """A bracket expression at ``s[start] == '['``: (regex class, index of its ']'), or (None, start)."""
    i, n = start + 1, len(s)
    negate = i < n and s[i] in "!^"
    if negate:
        i += 1
    members: list[str] = []
    first = True
    while i < n:
        c = s[i]
        if c == "]" and not first:
            body = "".join(members)
            if not body:
                return None, start
            return (f"[^{body}]" if negate else f"[{body}]"), i
        first = False
        if c == "[" and s.startswith("[:", i):
            close = s.find(":]", i + 2)
            name = s[i + 2 : close] if close > 0 else ""
            if name in _CLASSES:
                members.append(_CLASSES[name])
                i = close + 2
                continue
        if c == "\\" and i + 1 < n:
            i += 1
            c = s[i]
        if i + 2 < n and s[i + 1] == "-" and s[i + 2] != "]":
            low, high = c, s[i + 2]
            if high == "\\" and i + 3 < n:
                high = s[i + 3]
                i += 1
            if low <= high:
                members.append(f"{re.escape(low)}-{re.escape(high)}")
            i += 3
            continue
        members.append(re.escape(c))
        i += 1
    return None, start
