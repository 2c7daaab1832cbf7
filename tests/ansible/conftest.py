"""The two-host lab for the collection's lab tests, sharing the lab's lock with tests/lab.

tests/lab's `lab_session` holds the lab (and its file lock) until the pytest session ends, so a
second session-wide lab here would wait on that lock forever in a run of the whole suite. Instead:
if this process already holds the lock (tests/lab's lab is up), use that lab (reset first); else
build one for this module only, under the same lock (another process's lab is waited for), and
tear it down after this module, before tests/lab (collected after tests/ansible) takes the lock.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator

import pytest

from tests.lab.conftest import TEST_DIR, require_lab
from tests.lab.lab import Lab

LOCK = f"{TEST_DIR}.lock"


def _lock_held_by_this_process() -> bool:
    """Whether this process holds the lab's lock (tests/lab's session lab is up in it): /proc/locks
    names each flock's holder pid and the file's device:inode."""
    try:
        inode = os.stat(LOCK).st_ino
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
def lab_module() -> Iterator[Lab]:
    require_lab()
    if _lock_held_by_this_process():
        theirs = Lab(TEST_DIR)  # a second handle on tests/lab's running lab (its state is in TEST_DIR)
        theirs.dirty = True  # reset before our first test: theirs may have changed anything
        yield theirs  # torn down by tests/lab's session fixture, which owns it
        return
    TEST_DIR.parent.mkdir(parents=True, exist_ok=True)
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        lab = Lab(TEST_DIR)
        lab.install_safety_net()
        try:
            if not lab.up():  # a lab left behind by a killed session: clean it
                lab.reset()
            yield lab
        finally:
            lab.down()


@pytest.fixture
def lab(lab_module: Lab) -> Iterator[Lab]:
    if lab_module.dirty:
        lab_module.reset()
    lab_module.dirty = True
    yield lab_module
