"""Issue 12: parse_hosts() fuzzed. It never raises, and it agrees with a literal transliteration of
glibc's loops (fgets, the memmove in __nss_readline, strpbrk, STRING_FIELD, parse_list) run over a
NUL-terminated character array, on any text and on structured hosts files.

CI runs PREFLIGHT_FUZZ_EXAMPLES (default 300) examples per test; the long run is
PREFLIGHT_FUZZ_EXAMPLES=100000 (figures in the report of issue 12).
"""

from __future__ import annotations

import os
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from preflight.parsers.hosts import parse_hosts
from preflight.parsers.inet import ntop, pton4, pton6

EXAMPLES = int(os.environ.get("PREFLIGHT_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SPACE = " \t\n\v\f\r"
SECONDS_PER_EXAMPLE = 1.0  # CPU time of this process (other load does not count); inputs of a few KB


def glibc_reference(text: str) -> list[tuple[int, str, list[str]]]:
    """(line, address, names) of every line glibc's files backend returns, char by char like the C code."""
    out = []
    pos, number = 0, 0
    while pos < len(text):
        newline = text.find("\n", pos)
        chunk = text[pos:newline + 1] if newline >= 0 else text[pos:]
        pos += len(chunk)
        number += 1
        buf = list(chunk) + ["\0"]
        p = 0
        while buf[p] in SPACE and buf[p] != "\0":
            p += 1
        if buf[p] == "\0" or buf[p] == "#":
            continue
        if p:
            n = 0
            while buf[p + n] != "\0":
                n += 1
            buf[0:n] = buf[p:p + n]  # memmove(buf, p, strlen(p)): the NUL is not moved
        i = 0
        while buf[i] != "\0" and buf[i] not in "#\n":
            i += 1
        buf[i] = "\0"
        fields: list[str] = []
        i = 0
        for _ in range(2):  # STRING_FIELD (addr, isspace, 1) then (h_name, isspace, 1)
            start = i
            while buf[i] != "\0" and buf[i] not in SPACE:
                i += 1
            fields.append("".join(buf[start:i]))
            if buf[i] != "\0":
                i += 1
                while buf[i] != "\0" and buf[i] in SPACE:
                    i += 1
        while buf[i] != "\0":  # parse_list: runs of isspace separate the aliases
            while buf[i] != "\0" and buf[i] in SPACE:
                i += 1
            start = i
            while buf[i] != "\0" and buf[i] not in SPACE:
                i += 1
            if i > start:
                fields.append("".join(buf[start:i]))
        packed = pton4(fields[0]) or pton6(fields[0])
        if packed is not None and fields[1]:
            out.append((number, ntop(packed), fields[1:]))
    return out


def check(text: str) -> None:
    started = time.process_time()
    hosts = parse_hosts(text, "/etc/hosts")
    assert time.process_time() - started < SECONDS_PER_EXAMPLE
    assert [(e.line, e.address, e.names) for e in hosts.entries] == glibc_reference(text)
    lines = text.count("\n") + 1
    assert all(1 <= e.line <= lines for e in hosts.entries + hosts.errors)  # type: ignore[operator]
    assert {e.line for e in hosts.entries}.isdisjoint({e.line for e in hosts.errors})
    for entry in hosts.entries:
        assert entry.names and all(n for n in entry.names)
        assert hosts.lookup(entry.names[-1].swapcase() if entry.names[-1].isascii() else entry.names[-1])


CHARS = st.characters(codec="utf-8") | st.sampled_from(list(SPACE + "#\0\x85\u00a0\u2028\x1c.:%")) | st.sampled_from(
    list("0123456789abcdefABCDEF"))


@FUZZ
@given(st.text(CHARS, max_size=400))
def test_any_text(text: str) -> None:
    check(text)


@FUZZ
@given(st.binary(max_size=400))
def test_any_bytes_as_gathered(data: bytes) -> None:
    check(data.decode("utf-8", "surrogateescape"))


ADDRESSES = ["10.0.0.1", "127.0.0.1", "::1", "fe80::1", "::ffff:1.2.3.4", "127.1", "1.2.3.04", "fe80::1%lo",
             "1::2::3", "FFFF::", "0.0.0.0", "::", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "x"]
NAMES = ["host", "HOST", "h2.example.com", "a-b", "x#y", "hôte", "k\u212a", "n"]
lines = st.builds(
    lambda lead, addr, parts, tail: lead + addr + "".join(sep + name for sep, name in parts) + tail,
    st.sampled_from(["", " ", "\t", "  \r", "#", "\v"]),
    st.sampled_from(ADDRESSES) | st.text(st.sampled_from("0123456789.:abcdef%"), max_size=12),
    st.lists(st.tuples(st.sampled_from([" ", "\t", "\r", "\v", "\f", "\u00a0", " \r "]), st.sampled_from(NAMES)),
             max_size=4),
    st.sampled_from(["", " ", "\r", "# c", "#", "\0junk"]),
)


@FUZZ
@given(st.lists(lines, max_size=15), st.sampled_from(["\n", "\r\n", "\n\n"]), st.booleans())
def test_structured_hosts_files(body: list[str], end: str, final: bool) -> None:
    text = end.join(body) + (end if final else "")
    check(text)


def test_reference_sees_the_memmove_quirk() -> None:
    """The oracle is not a copy of the parser: it finds the quirk by running the C steps."""
    assert glibc_reference("  10.0.0.1 host") == [(1, "10.0.0.1", ["hostst"])]
    assert glibc_reference("10.0.0.1 a\r\n::1 b#c d\n") == [(1, "10.0.0.1", ["a"]), (2, "::1", ["b"])]


def inet_pton4_reference(src: str) -> bytes | None:
    """resolv/inet_pton_length.c inet_pton4, statement by statement."""
    saw_digit, octets, tmp = False, 0, [0]
    for ch in src:
        if "0" <= ch <= "9":
            new = tmp[-1] * 10 + (ord(ch) - ord("0"))
            if saw_digit and tmp[-1] == 0:
                return None
            if new > 255:
                return None
            tmp[-1] = new
            if not saw_digit:
                octets += 1
                if octets > 4:
                    return None
                saw_digit = True
        elif ch == "." and saw_digit:
            if octets == 4:
                return None
            tmp.append(0)
            saw_digit = False
        else:
            return None
    return bytes(tmp) if octets >= 4 else None


@FUZZ
@given(st.text(st.sampled_from(list("0123456789.") + ["٣", "a", " "]), max_size=20))
def test_pton4_is_inet_pton4(text: str) -> None:
    assert pton4(text) == inet_pton4_reference(text)
