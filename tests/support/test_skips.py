"""Issue 7 item 7: under CI=true every skip is a failure, everywhere (tests/support/skips.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

INNER = '''
import pytest
from tests.support.skips import requires, skip_or_fail

@pytest.fixture
def server():
    pytest.skip("needs a daemon")  # a fixture that skips regardless (as sshd_server.py did)

@requires(False, "needs a binary")
def test_marked():
    pass

@pytest.mark.skipif(True, reason="plain skipif")
def test_plain_skipif():
    pass

def test_fixture(server):
    pass

def test_importorskip():
    pytest.importorskip("no_such_module_for_preflight")

def test_helper():
    skip_or_fail("no ip")

@pytest.mark.xfail(reason="known", strict=True)
def test_xfail():
    assert False

def test_runs():
    pass
'''


def run(pytester: pytest.Pytester) -> pytest.RunResult:
    pytester.makeconftest("from tests.support.skips import pytest_runtest_makereport  # noqa: F401\n")
    pytester.makepyfile(test_inner=INNER)
    return pytester.runpytest("-p", "no:cacheprovider", "-rA")


def test_skips_are_skips_on_a_developer_machine(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    run(pytester).assert_outcomes(passed=1, skipped=5, xfailed=1)


def test_every_skip_fails_under_ci(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    result = run(pytester)
    # skips at setup (skipif marks, a fixture's skip) are errors, in the body failures; xfail is not a skip
    result.assert_outcomes(passed=1, failed=2, errors=3, xfailed=1)
    out = result.stdout.str()
    for why in ("needs a daemon", "needs a binary", "plain skipif", "no_such_module_for_preflight", "no ip"):
        assert re.search(re.escape(why) + r".*CI=true", out), why


SKIP_CALL = re.compile(r"pytest\.skip\(|pytest\.mark\.skipif\(|importorskip\(|pytest\.mark\.skip\b")


def test_skip_sites_use_the_helper() -> None:
    """Every skip in tests/ goes through tests.support.skips (its message says why it fails in CI)."""
    root = Path(__file__).parents[1]
    here = {Path(__file__).resolve(), (root / "support" / "skips.py").resolve()}
    bad = [f"{p.relative_to(root)}:{n}" for p in root.rglob("*.py") if p.resolve() not in here
           for n, line in enumerate(p.read_text().splitlines(), 1) if SKIP_CALL.search(line)]
    assert not bad, bad
