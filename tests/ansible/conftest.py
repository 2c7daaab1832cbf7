"""The two-host lab for the collection's lab tests, sharing the lab's lock with tests/lab.

tests/lab's `lab_session` holds the lab (and its file lock) until the pytest session ends, so a
second session-wide lab here would wait on that lock forever in a run of the whole suite. Instead:
if this process already holds the lock (tests/lab's lab is up), use that lab (reset first); else
build one for this module only, under the same lock (another process's lab is waited for), and
tear it down after this module, before tests/lab (collected after tests/ansible) takes the lock.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator

import pytest

from tests.lab.conftest import TEST_DIR, require_lab
from tests.lab.conftest import lock_held_by_this_process as lock_held
from tests.lab.lab import Lab

LOCK = f"{TEST_DIR}.lock"


@pytest.fixture(scope="module")
def lab_module() -> Iterator[Lab]:
    require_lab()
    if lock_held(LOCK):
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
