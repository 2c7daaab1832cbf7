"""Under CI=true every skip is a failure, everywhere.

A test that cannot run here (no root, no sshd binary, no augparse) may skip on a
developer's machine; in CI it proves nothing, so it fails with the same reason.
Skip sites call :func:`skip_or_fail` (or use :func:`requires` instead of
``pytest.mark.skipif``); :func:`pytest_runtest_makereport`, imported by
tests/conftest.py, turns any other skip (a plugin's, a future ``importorskip``)
into a failure too.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any, NoReturn

import pytest

CI_NOTE = "(CI=true: every skip is a failure)"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def skip_or_fail(reason: str) -> NoReturn:
    """Skip with ``reason``, or fail with it under CI=true."""
    if in_ci():
        pytest.fail(f"{reason} {CI_NOTE}", pytrace=False)
    pytest.skip(reason)


def requires(condition: bool, reason: str) -> pytest.MarkDecorator:
    """``pytest.mark.skipif(not condition)`` that fails instead under CI=true (the hook below does it)."""
    return pytest.mark.skipif(not condition, reason=reason)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    """Any skip (skipif marks, pytest.skip in a fixture, importorskip) is a failure under CI=true."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and in_ci() and not hasattr(report, "wasxfail"):
        why = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        why = why.removeprefix("Skipped: ")
        report.outcome = "failed"
        report.longrepr = f"{item.nodeid}: {why} {CI_NOTE}"
