"""Run Augeas lenses on text held in memory (files gathered from other hosts).

One Augeas handle per process: creating it is cheap, but each lens module is
compiled on first use, so reusing the handle keeps later parses fast.
"""

from __future__ import annotations

import bisect
import itertools
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import augeas

from preflight.model.findings import ParseError

LENS_DIR = Path(__file__).with_name("lenses")

_lock = threading.RLock()  # edit callbacks may parse again
_handle: augeas.Augeas | None = None
_ids = itertools.count(1)


class LensError(ParseError):
    """The lens rejected the text; ``message`` is Augeas's, ``line`` where it stopped."""


@dataclass
class Node:
    """One node of an Augeas tree, with the 1-based line its span starts on."""

    label: str
    value: str | None
    line: int | None
    children: list[Node] = field(default_factory=list)

    def first(self, label: str) -> Node | None:
        for child in self.children:
            if child.label == label:
                return child
        return None


class LineIndex:
    """Byte offset (Augeas spans count bytes) -> 1-based line number."""

    def __init__(self, text: str) -> None:
        data = text.encode("utf-8", "surrogateescape")
        self._starts = [0] + [i + 1 for i, b in enumerate(data) if b == 0x0A]

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self._starts, offset)


def _aug() -> augeas.Augeas:
    global _handle
    if _handle is None:
        flags = augeas.Augeas.NO_LOAD | augeas.Augeas.NO_MODL_AUTOLOAD | augeas.Augeas.ENABLE_SPAN
        # The root is never read: nothing is loaded from or saved to disk.
        _handle = augeas.Augeas(root="/nonexistent", loadpath=str(LENS_DIR), flags=flags)
    return _handle


def parse_text(lens: str, text: str, path: str) -> list[Node]:
    """Parse ``text`` with ``lens`` (e.g. "Hosts.lns"); return the top-level nodes.

    Raises LensError (a ParseError: path, line, Augeas's message) when the
    lens rejects the text, ParseError when the text holds a NUL byte.
    """
    nul = text.find("\x00")
    if nul >= 0:
        raise ParseError(path, text.count("\n", 0, nul) + 1, "contains a NUL byte")
    if text and not text.endswith("\n"):
        text += "\n"  # the programs read a last line without newline; the lenses want one
    index = LineIndex(text)
    ident = f"t{next(_ids)}"
    src, dst = f"/text/{ident}", f"/parsed/{ident}"
    with _lock:
        aug = _aug()
        try:
            aug.set(src, text)
            try:
                aug.text_store(lens, src, dst)
            except (ValueError, OSError) as exc:  # AugeasValueError subclasses ValueError
                raise _error(aug, dst, path, str(exc)) from None
            return [_read(aug, p, index) for p in aug.match(f"{dst}/*")]
        finally:
            aug.remove(src)
            aug.remove(dst)
            aug.remove(f"/augeas/text{dst}")


def _error(aug: augeas.Augeas, dst: str, path: str, fallback: str) -> LensError:
    base = f"/augeas/text{dst}/error"
    message = aug.get(f"{base}/message") or aug.get(base) or fallback
    line = aug.get(f"{base}/line")
    return LensError(path, int(line) if line and line.isdigit() else None, message)


def _read(aug: augeas.Augeas, apath: str, index: LineIndex) -> Node:
    line: int | None
    try:
        line = index.line(aug.span(apath)[5])
    except ValueError:  # nodes without a span (none expected from text_store)
        line = None
    label = aug.label(apath) or ""
    children = [_read(aug, p, index) for p in aug.match(f"{apath}/*")]
    return Node(label, aug.get(apath), line, children)


# Undecodable bytes arrive as surrogate escapes (U+DC80..U+DCFF), which Augeas (UTF-8 C strings)
# cannot take: for an edit they stand in as private-use characters absent from the text, and go back after.
_ESCAPES = 0xDC80
_N_ESCAPES = 0x80
_PRIVATE = re.compile("[\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd]")
_PRIVATE_RANGES = ((0xE000, 0xF900), (0xF0000, 0xFFFFE), (0x100000, 0x10FFFE))
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class ByteEscapes:
    """The surrogate escapes of one text <-> private-use stand-ins that do not occur in it."""

    base: int  # stand-in of U+DC80; the 128 code points from here are absent from the text

    @classmethod
    def for_text(cls, text: str, path: str) -> ByteEscapes:
        """Raises ParseError for a lone surrogate that is no escaped byte, or no free stand-ins."""
        bad = next((m for m in _SURROGATE.finditer(text) if not _ESCAPES <= ord(m.group()) < _ESCAPES + _N_ESCAPES),
                   None)
        if bad is not None:
            line = text.count("\n", 0, bad.start()) + 1
            raise ParseError(path, line, f"holds U+{ord(bad.group()):04X}, a lone surrogate that stands for no byte")
        taken = {ord(ch) // _N_ESCAPES for ch in _PRIVATE.findall(text)}  # blocks start at multiples of 128
        for low, high in _PRIVATE_RANGES:
            for base in range(low, high - _N_ESCAPES + 1, _N_ESCAPES):
                if base // _N_ESCAPES not in taken:
                    return cls(base)
        raise ParseError(path, None, "uses every private-use character: undecodable bytes cannot be edited")

    def hide(self, text: str) -> str:
        """Surrogate escapes -> stand-ins (valid UTF-8 for Augeas)."""
        return text.translate({_ESCAPES + i: self.base + i for i in range(_N_ESCAPES)})

    def restore(self, text: str) -> str:
        return text.translate({self.base + i: _ESCAPES + i for i in range(_N_ESCAPES)})

    def stand_ins(self, text: str) -> Counter[str]:
        return Counter(ch for ch in _PRIVATE.findall(text) if self.base <= ord(ch) < self.base + _N_ESCAPES)


def augeas_text(text: str, path: str = "(text)") -> str:
    """``text`` as edit_text hands it to Augeas: what an edit's spans (byte offsets) refer to."""
    return ByteEscapes.for_text(text, path).hide(text)


def edit_text(lens: str, text: str, path: str, edit: Callable[[augeas.Augeas, str], None]) -> str:
    """Parse ``text``, let ``edit(aug, tree_path)`` change the tree, and return the new text.

    Everything the edit does not touch (comments, spacing, undecodable bytes held
    as surrogate escapes) is kept as it was. The edit sees the tree of
    :func:`augeas_text` (undecodable bytes as private-use stand-ins) and must
    not add stand-ins of its own. Raises ParseError when the text cannot be
    parsed or the edited tree cannot be written back with the lens.
    """
    escapes = ByteEscapes.for_text(text, path)
    text = escapes.hide(text)
    parse_text(lens, text, path)  # a clean error with a line for bad input
    if text and not text.endswith("\n"):
        text += "\n"
    ident = f"e{next(_ids)}"
    src, dst, out = f"/text/{ident}", f"/parsed/{ident}", f"/text/{ident}-out"
    with _lock:
        aug = _aug()
        try:
            aug.set(src, text)
            aug.text_store(lens, src, dst)
            edit(aug, dst)
            try:
                aug.text_retrieve(lens, src, dst, out)
            except (ValueError, OSError) as exc:
                err = _error(aug, dst, path, str(exc))  # Augeas's message spans the whole tree: keep one line
                first = (err.message.strip().splitlines() or ["?"])[0].rstrip(":")
                raise LensError(path, err.line, f"the lens cannot write the edited file back ({first})") from None
            result = aug.get(out) or ""
        finally:
            for node in (src, out, dst, f"/augeas/text{dst}"):
                aug.remove(node)
    added = escapes.stand_ins(result) - escapes.stand_ins(text)
    if added:
        raise ParseError(path, None, "the edit added characters reserved for undecodable bytes; not edited")
    return escapes.restore(result)


def warm_up(lenses: tuple[str, ...]) -> None:
    """Compile the lenses now (Augeas loads a lens module on first use: ~15 ms for Sshd).

    Called from a background thread while gathering waits on the network, so the
    rules do not pay for it afterwards; cffi releases the GIL during the C calls.
    """
    for lens in lenses:
        try:
            parse_text(lens, "", "(warm-up)")
        except ParseError:
            pass
