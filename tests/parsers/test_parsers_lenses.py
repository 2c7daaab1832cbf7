"""The project's own lenses, checked by augparse (type checks + the .aug tests)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from preflight.parsers.augeas_util import LENS_DIR
from tests.support.skips import requires

TESTS = sorted(Path(__file__).with_name("lenses").glob("test_*.aug"))


@requires(shutil.which("augparse") is not None, "augparse (augeas-tools) not installed")
@pytest.mark.parametrize("test_file", TESTS, ids=[t.name for t in TESTS])
def test_augparse(test_file: Path) -> None:
    run = subprocess.run(
        ["augparse", "-I", str(LENS_DIR), str(test_file)], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_every_lens_has_a_test() -> None:
    lenses = {p.stem for p in LENS_DIR.glob("*.aug")}
    assert {t.stem.removeprefix("test_") for t in TESTS} == lenses
