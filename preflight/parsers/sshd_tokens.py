"""sshd's own tokenizer, ported: how one sshd_config line becomes a keyword and arguments.

Follows OpenSSH 9.2 (servconf.c load_server_config and
process_server_config_line_depth, misc.c strdelim and argv_split):

- lines end at "\\n" only (a CR is trailing whitespace, never a line break);
  leading " \\t\\r" and trailing " \\t\\r\\n\\f" are stripped;
- the keyword ends at whitespace, '"' or one '=' ("Keyword=value"); a quoted
  keyword loses its quotes; a keyword starting with '#' is a comment;
- arguments are split by argv_split: blanks separate, double or single quotes
  group, backslash escapes \\\\ \\" \\' and (unquoted) a space, a word starting
  with '#' ends the line (OpenSSH 8.7+); an unclosed quote is an error.

>>> split_line('MaxStartups=10:30:100 # note')
('MaxStartups', '10:30:100 # note')
>>> argv_split('"/etc/ssh/my dir/*.conf" b\\\\ c #x')
['/etc/ssh/my dir/*.conf', 'b c']
"""

from __future__ import annotations

import re
from collections.abc import Iterator

WHITESPACE = " \t\r\n"
_KEY_END = re.compile(r'[ \t\r\n"=]')
_QUOTED = re.compile(r"""["'\\]""")
_BLANKS = re.compile(r"[ \t]+")


class NoArgument(Exception):
    """A keyword with nothing after it: sshd's 'no argument after keyword'."""


def lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) for each line that is not blank or a comment, as sshd numbers them."""
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.lstrip(" \t\r")
        if line and line[0] != "#":
            yield number, line


def strdelim(s: str | None) -> tuple[str | None, str | None]:
    """misc.c strdelim: the next token of ``s`` and the rest (None: no more)."""
    if s is None:
        return None, None
    found = _KEY_END.search(s)
    if found is None:
        return s, None
    i = found.start()
    if s[i] == '"':
        s = s[:i] + s[i + 1 :]
        close = s.find('"', i)
        if close < 0:
            return None, None  # no matching quote
        return s[:close], s[close + 1 :].lstrip(WHITESPACE)
    rest = s[i + 1 :].lstrip(WHITESPACE)
    if s[i] != "=" and rest[:1] == "=":  # one '=' may follow the blanks
        rest = rest[1:].lstrip(WHITESPACE)
    return s[:i], rest


def split_line(line: str) -> tuple[str, str] | None:
    """(keyword, rest of the line) as sshd splits them; None when sshd ignores the line.

    Raises NoArgument when the keyword has nothing after it.
    """
    # trailing whitespace, never the first character (servconf.c loops down to index 1)
    line = line[:1] + line[1:].rstrip(WHITESPACE + "\f")
    keyword, rest = strdelim(line)
    if keyword == "":
        keyword, rest = strdelim(rest)
    if not keyword or keyword[0] == "#":
        return None
    if not rest:
        raise NoArgument(keyword)
    return keyword, rest


def argv_split(s: str) -> list[str] | None:
    """misc.c argv_split(s, terminate_on_comment=1); None for an unclosed quote."""
    if _QUOTED.search(s) is None:  # the usual line: blanks only
        words = []
        for word in _BLANKS.split(s):
            if word:
                if word[0] == "#":
                    break
                words.append(word)
        return words
    return _argv_split_slow(s)


def _argv_split_slow(s: str) -> list[str] | None:
    argv: list[str] = []
    i, n = 0, len(s)
    while i < n:
        if s[i] in " \t":
            i += 1
            continue
        if s[i] == "#":
            break
        quote = ""
        arg: list[str] = []
        while i < n:
            c = s[i]
            if c == "\\":
                nxt = s[i + 1] if i + 1 < n else ""
                if nxt in ("'", '"', "\\") or (not quote and nxt == " "):
                    i += 1
                    arg.append(nxt)
                else:
                    arg.append(c)  # unrecognised escape: kept
            elif not quote and c in " \t":
                break
            elif not quote and c in "\"'":
                quote = c
            elif quote and c == quote:
                quote = ""
            else:
                arg.append(c)
            i += 1
        argv.append("".join(arg))
        if i >= n:
            if quote:
                return None
            break
        i += 1
    return argv
