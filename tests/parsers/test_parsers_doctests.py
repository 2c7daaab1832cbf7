"""The examples in the parser modules' docstrings run as tests."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["hosts", "libvirtconf", "osrelease", "sshd"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"preflight.parsers.{name}")
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
