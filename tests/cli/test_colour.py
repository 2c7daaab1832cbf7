"""Colour only on a terminal, and never when NO_COLOR is set."""

from __future__ import annotations

import io

import pytest

from preflight.report.text import use_colour


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_on_a_tty_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_colour(Tty()) is True
    assert use_colour(io.StringIO()) is False


def test_no_color_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_colour(Tty()) is False
