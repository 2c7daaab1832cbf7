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
_WORD_OR_REST = re.compile(r"""(?:[^ \t"']|"[^"]*"|'[^']*')+|[ \t]+|["']""")
_UNQUOTE = re.compile(r""""([^"]*)"|'([^']*)'""")
_PIECES = re.compile(r"""[^ \t"'\\#]+|[ \t]+|\\['"\\ ]?|["'#]""")
# strdelim's split when the keyword ends at a blank or '=': blanks, then at most one '=' and blanks
_SIMPLE = re.compile(r'([^ \t\r\n"=#][^ \t\r\n"=]*)(?:[ \t\r\n]+(?:=[ \t\r\n]*)?|=[ \t\r\n]*)(.*)', re.DOTALL)


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
    simple = _SIMPLE.match(line)  # the usual line, without quotes around or before the keyword
    if simple is not None and simple.group(2):
        return simple.group(1), simple.group(2)
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
    if "\\" not in s:
        return _argv_split_quotes(s)
    return _argv_split_slow(s)


def _argv_split_quotes(s: str) -> list[str] | None:
    """argv_split for a string with quotes but no backslash: whole words at a time."""
    argv: list[str] = []
    for found in _WORD_OR_REST.finditer(s):
        word = found.group()
        if word[0] in " \t":
            continue
        if word[0] == "#":
            break
        if word[0] in "\"'" and len(word) == 1:
            return None  # a quote never closed
        argv.append(_UNQUOTE.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), word))
    return argv


def _argv_split_slow(s: str) -> list[str] | None:
    """argv_split's character loop, taken a run of ordinary characters at a time."""
    argv: list[str] = []
    arg: list[str] | None = None  # None: between words
    quote = ""
    for found in _PIECES.finditer(s):
        piece = found.group()
        c = piece[0]
        if arg is None:
            if c in " \t":
                continue
            if c == "#":  # a word starting with '#' ends the line
                break
            arg = []
        if c == "\\":
            nxt = piece[1:]
            if nxt and (nxt != " " or not quote):
                arg.append(nxt)  # \\ \" \' and, outside quotes, "\ "
            else:
                arg.append(piece)  # unrecognised: the backslash stays (and a quoted blank after it)
        elif c in " \t":
            if quote:
                arg.append(piece)
            else:
                argv.append("".join(arg))
                arg = None
        elif c in "\"'":
            if not quote:
                quote = c
            elif c == quote:
                quote = ""
            else:
                arg.append(c)
        else:
            arg.append(piece)
    if arg is not None:
        if quote:
            return None
        argv.append("".join(arg))
    return argv
