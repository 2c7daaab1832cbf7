"""Fixtures of the two-host lab: `lab_session` (built once per session, always torn down) and `lab`
(the same lab, reset to baseline before every test but the first)."""

from __future__ import annotations

import atexit
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.skips import skip_or_fail

from .lab import Lab, missing_prerequisites

TEST_DIR = Path(os.environ.get("PREFLIGHT_LAB_TEST_DIR", "/run/preflight-lab-test"))
TIMINGS: dict[str, list[float]] = {}


def require_lab() -> None:
    """Skip (or, with CI=true, fail) when this machine cannot build the lab."""
    why = missing_prerequisites()
    if why:
        msg = "the two-host lab cannot be built here: " + "; ".join(why)
        skip_or_fail(msg + " (the lab must run in CI)")


def note(name: str, seconds: float) -> None:
    TIMINGS.setdefault(name, []).append(seconds)


@pytest.fixture(scope="session")
def lab_session(request: pytest.FixtureRequest) -> Lab:
    require_lab()
    # One pytest session at a time per lab directory: a second one (another checkout, CI beside a
    # developer) waits here instead of tearing the first one's hosts down under it.
    TEST_DIR.parent.mkdir(parents=True, exist_ok=True)
    lock = open(f"{TEST_DIR}.lock", "w")  # noqa: SIM115 - held for the whole session
    fcntl.flock(lock, fcntl.LOCK_EX)
    request.addfinalizer(lock.close)
    lab = Lab(TEST_DIR)
    lab.install_safety_net()  # atexit + SIGTERM/SIGHUP

    def teardown() -> None:
        lab.down()
        # the safety net's atexit would run down() again after the lock is released, and remove the
        # lab directory of the next session (another pytest run) under it
        atexit.unregister(lab.down)
        note("down", lab.timings["down"])

    request.addfinalizer(teardown)
    if not lab.up():  # a lab left behind by a killed session (state.json in TEST_DIR): clean it
        lab.reset()
    note("up", lab.timings["up"])
    return lab


@pytest.fixture
def lab(lab_session: Lab) -> Iterator[Lab]:
    if lab_session.dirty:
        lab_session.reset()
        note("reset", lab_session.timings["reset"])
    lab_session.dirty = True
    yield lab_session


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from . import agreement

    if agreement.ROWS:
        path = agreement.write()
        terminalreporter.section(f"agreement: preflight check vs real migrations (also in {path})")
        terminalreporter.write(agreement.table())
    if TIMINGS:
        terminalreporter.section("lab timings (s)")
        for name, values in TIMINGS.items():
            vals = sorted(values)
            terminalreporter.write_line(f"{name:>10}: n={len(vals)} min={vals[0]:.2f} "
                                        f"median={vals[len(vals) // 2]:.2f} max={vals[-1]:.2f}")
