"""The built wheel installed in a fresh venv, outside the checkout.

.ci/run builds it once (the commands a user types) and passes it here through
PREFLIGHT_WHEEL and PREFLIGHT_WHEEL_VENV; run alone, these tests build their own:
`pip wheel --no-build-isolation` (setuptools from constraints.txt, nothing fetched), a
venv from the same interpreter, the wheel installed with its `pytest` extra pinned by
constraints.txt (pip's cache holds the libvirt-python / python-augeas builds: ~5 s).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class WheelVenv:
    wheel: Path
    venv: Path
    workdir: Path  # outside the checkout: the cwd of every command

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def run(self, *args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        return subprocess.run([str(a) for a in args], cwd=cwd or self.workdir, env=env, capture_output=True,
                              text=True, timeout=300)


def _pip(*args: str | Path, python: str | Path = sys.executable) -> None:
    subprocess.run([str(python), "-m", "pip", "-q", "--disable-pip-version-check", *map(str, args)],
                   check=True, cwd=REPO, timeout=600)


def build_wheel_venv(where: Path) -> WheelVenv:
    dist = where / "dist"
    # setuptools builds in ./build and keeps what an earlier build left there (a package
    # since dropped from pyproject.toml would still ship): start clean.
    shutil.rmtree(REPO / "build", ignore_errors=True)
    _pip("wheel", "--no-deps", "--no-build-isolation", "-w", dist, REPO)
    wheel = next(dist.glob("migration_preflight-*.whl"))
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    _pip("install", "-c", REPO / "constraints.txt", f"{wheel}[pytest]", python=venv / "bin" / "python")
    return WheelVenv(wheel, venv, where)


@pytest.fixture(scope="session")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> WheelVenv:
    given, venv = os.environ.get("PREFLIGHT_WHEEL"), os.environ.get("PREFLIGHT_WHEEL_VENV")
    if given and venv:
        return WheelVenv(Path(given), Path(venv), tmp_path_factory.mktemp("wheel-work"))
    return build_wheel_venv(tmp_path_factory.mktemp("wheel"))
