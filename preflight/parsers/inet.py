"""Text <-> address conversions with glibc's exact rules (resolv/inet_pton_length.c, resolv/inet_ntop.c).

glibc's /etc/hosts reader uses ``inet_pton``, which is stricter than
``inet_aton`` and than Python's :mod:`ipaddress` in places that decide whether
a line counts: ``127.1``, ``010.0.0.1`` and ``fe80::1%eth0`` are not
addresses for it. Only ASCII digits and hex letters count (``str.isdigit``
would accept other scripts' digits).

>>> pton4("10.0.0.1"), pton4("127.1"), pton4("01.2.3.4")
(b'\\n\\x00\\x00\\x01', None, None)
>>> ntop(pton6("0:0:0:0:0:FFFF:10.0.0.1") or b"")
'::ffff:10.0.0.1'
>>> pton6("fe80::1%eth0") is None
True
"""

from __future__ import annotations

import re

_HEX = {c: int(c, 16) for c in "0123456789abcdefABCDEF"}


_QUAD = re.compile(r"(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})")


def pton4(text: str) -> bytes | None:
    """Dotted quad: exactly four decimal parts 0-255, no leading zeros, nothing else."""
    found = _QUAD.fullmatch(text)  # [0-9]: ASCII digits only, as the C code compares with '0' and '9'
    if found is None:
        return None
    octets = [int(part) for part in found.groups()]
    return bytes(octets) if max(octets) <= 255 else None


def pton6(text: str) -> bytes | None:
    """RFC 4291 text form: hex groups of at most 4 digits, one ``::``, an optional dotted quad at the end."""
    if not text:
        return None
    pos = 0
    if text[0] == ":":
        if len(text) < 2 or text[1] != ":":
            return None
        pos = 1
    out = bytearray()
    gap: int | None = None  # where "::" stands, as an offset in out
    token_start = pos
    value, digits = 0, 0
    end = len(text)
    while pos < end:
        ch = text[pos]
        pos += 1
        digit = _HEX.get(ch)
        if digit is not None:
            if digits == 4:
                return None
            value = (value << 4) | digit
            digits += 1
            continue
        if ch == ":":
            token_start = pos
            if not digits:
                if gap is not None:
                    return None
                gap = len(out)
                continue
            if pos == end or len(out) + 2 > 16:
                return None
            out += bytes((value >> 8, value & 0xFF))
            value, digits = 0, 0
            continue
        if ch == "." and len(out) + 4 <= 16:
            quad = pton4(text[token_start:])
            if quad is None:
                return None
            out += quad
            digits = 0
            break
        return None
    if digits:
        if len(out) + 2 > 16:
            return None
        out += bytes((value >> 8, value & 0xFF))
    if gap is not None:
        if len(out) == 16:
            return None  # "::" must stand for at least one group
        out[gap:gap] = bytes(16 - len(out))
    if len(out) != 16:
        return None
    return bytes(out)


def ntop(packed: bytes) -> str:
    """glibc's inet_ntop: dotted quad, or IPv6 with the first longest zero run (>= 2 groups) as ``::``."""
    if len(packed) == 4:
        return ".".join(str(b) for b in packed)
    words = [(packed[i] << 8) | packed[i + 1] for i in range(0, 16, 2)]
    best_base, best_len, cur_base, cur_len = -1, 0, -1, 0
    for i, word in enumerate(words + [1]):  # the sentinel closes a trailing run
        if word == 0:
            cur_base, cur_len = (i, 1) if cur_base < 0 else (cur_base, cur_len + 1)
        elif cur_base >= 0:
            if best_base < 0 or cur_len > best_len:
                best_base, best_len = cur_base, cur_len
            cur_base = -1
    if best_len < 2:
        best_base = -1
    parts: list[str] = []
    i = 0
    while i < 8:
        if best_base >= 0 and best_base <= i < best_base + best_len:
            if i == best_base:
                parts.append(":")
            i += 1
            continue
        if i:
            parts.append(":")
        if i == 6 and best_base == 0 and (best_len == 6 or (best_len == 5 and words[5] == 0xFFFF)):
            parts.append(ntop(packed[12:]))
            break
        parts.append(f"{words[i]:x}")
        i += 1
    if best_base >= 0 and best_base + best_len == 8:
        parts.append(":")
    return "".join(parts)
