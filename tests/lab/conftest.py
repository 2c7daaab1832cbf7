"""Fixtures of the two-host lab: `lab_session` (built once per session, always torn down) and `lab`
(the same lab, reset to baseline before every test but the first); of the three-host lab: `lab3_module`
(built for one test module, torn down after it, under the same lock) and `lab3` (reset between tests)."""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.skips import skip_or_fail

from .files import HOSTS3
from .lab import Lab, missing_prerequisites

TEST_DIR = Path(os.environ.get("PREFLIGHT_LAB_TEST_DIR", "/run/preflight-lab-test"))
TEST_DIR3 = Path(os.environ.get("PREFLIGHT_LAB3_TEST_DIR", "/run/preflight-lab3-test"))
TIMINGS: dict[str, list[float]] = {}


def require_lab(hosts: tuple[str, ...] | None = None) -> None:
    """Skip (or, with CI=true, fail) when this machine cannot build the lab."""
    why = missing_prerequisites(hosts) if hosts else missing_prerequisites()
    if why:
        msg = f"the {'three' if hosts == HOSTS3 else 'two'}-host lab cannot be built here: " + "; ".join(why)
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


def lock_held_by_this_process(lock: str) -> bool:
    """Whether this process holds the flock on `lock` (/proc/locks names each holder's pid and inode)."""
    try:
        inode = os.stat(lock).st_ino
        lines = open("/proc/locks").read().splitlines()  # noqa: SIM115 - a short read
    except OSError:
        return False
    for line in lines:
        parts = line.split()
        if "->" in parts or len(parts) < 6 or parts[1] != "FLOCK":
            continue  # "->": a waiter, not the holder
        if parts[4] == str(os.getpid()) and parts[5].rsplit(":", 1)[-1] == str(inode):
            return True
    return False


@pytest.fixture(scope="module")
def lab3_module() -> Iterator[Lab]:
    """The three-host lab, under the two-host lab's lock (one lab session at a time on a machine: both
    use the same names and addresses). Module-scoped, so the lock is free again for a session lab that a
    later module of this process takes; when this process already holds it (the session lab is up here),
    the lab is built beside that one (its own namespaces, nothing shared) without locking again."""
    require_lab(HOSTS3)
    lock_path = f"{TEST_DIR}.lock"
    TEST_DIR.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        if not lock_held_by_this_process(lock_path):
            lock = stack.enter_context(open(lock_path, "w"))  # noqa: SIM115 - held for the module
            fcntl.flock(lock, fcntl.LOCK_EX)
        lab = Lab(TEST_DIR3, hosts=HOSTS3)
        lab.install_safety_net()
        try:
            if not lab.up():  # a lab left behind by a killed session: clean it
                lab.reset()
            note("up (3 hosts)", lab.timings["up"])
            yield lab
        finally:
            lab.down()
            atexit.unregister(lab.down)  # else it would remove the next session's lab directory
            note("down (3 hosts)", lab.timings["down"])


@pytest.fixture
def lab3(lab3_module: Lab) -> Iterator[Lab]:
    if lab3_module.dirty:
        lab3_module.reset()
        note("reset (3 hosts)", lab3_module.timings["reset"])
    lab3_module.dirty = True
    yield lab3_module


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
