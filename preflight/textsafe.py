"""Host data printed back to a person or a parser: control characters made visible.

A hostile host can put terminal escapes (``ESC[32mREADY``) in its hostname or
files, and bytes that are not valid UTF-8 arrive as surrogate escapes; printed
raw they could forge a verdict, and they make XML invalid. Every string that
comes from an inspected host goes through :func:`escape_control` before output.
"""

from __future__ import annotations

import re

# C0 and C1 controls except TAB and LF, DEL, lone surrogates (undecodable bytes),
# and the Unicode line/paragraph separators and bidi overrides that reorder text.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    ch = match.group(0)
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape of one undecodable byte
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def escape_control(text: str, keep_newlines: bool = True) -> str:
    """``text`` with every control character shown as ``\\xNN`` (TAB kept; LF kept unless told)."""
    out = _UNSAFE.sub(_escape, text)
    if not keep_newlines:
        out = out.replace("\n", "\\n")
    return out


def escape_deep(value: object) -> object:
    """escape_control applied to every string inside dicts/lists (for JSON and SARIF)."""
    if isinstance(value, str):
        return escape_control(value)
    if isinstance(value, dict):
        return {escape_control(str(k)): escape_deep(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [escape_deep(v) for v in value]
    return value
