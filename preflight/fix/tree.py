"""Small helpers for Augeas edits: find a tree node by the line it starts on."""

from __future__ import annotations

import augeas

from preflight.parsers.augeas_util import LineIndex


def node_at_line(aug: augeas.Augeas, pattern: str, text: str, line: int) -> str | None:
    """The first node matching ``pattern`` whose span starts on ``line`` of ``text`` (1-based)."""
    index = LineIndex(text if text.endswith("\n") else text + "\n")
    for path in aug.match(pattern):
        try:
            if index.line(aug.span(path)[5]) == line:
                return path
        except ValueError:  # a node added by the edit has no span yet
            continue
    return None


def quoted(value: str) -> str:
    """A literal for an Augeas path expression (regexp('...'))."""
    return value.replace("\\", "\\\\").replace("'", "\\'")
