"""The wheel works on its own: installed in a fresh venv, run from outside the checkout.

Issue 13's "Done when": `pip install dist/*.whl` runs `check`, `fix --policy cis` and the pytest
plugin. Results are compared with the checkout's own (in process), not written down here.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import sys
import zipfile
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from typer.testing import CliRunner

from preflight.cli import app
from tests.packaging.conftest import REPO, WheelVenv

URI = "qemu+ssh://host2.example.com/system"


def names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        return zf.namelist()


def metadata(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as zf:
        return next(zf.read(n).decode() for n in zf.namelist() if n.endswith(".dist-info/METADATA"))


@pytest.fixture
def example(wheel_venv: WheelVenv, tmp_path: Path) -> Path:
    root = tmp_path / "example"
    shutil.copytree(REPO / "examples", root, symlinks=True)
    return root


def plan_args(root: Path) -> list[str]:
    """examples/run.sh's command line, on a copy of the example."""
    return ["--live", "guest1-rhel6-64", URI, "--concurrency", "12",
            "--source", str(root / "host1"), "--source-libvirt", f"test://{root / 'host1.xml'}",
            "--dest", str(root / "host2"), "--dest-libvirt", f"test://{root / 'host2.xml'}"]


def test_wheel_ships_templates_lenses_and_gather_script(wheel_venv: WheelVenv) -> None:
    shipped = set(names(wheel_venv.wheel))
    wanted = {f"preflight/templates/{p.name}" for p in (REPO / "templates").glob("*.j2")}
    wanted |= {f"preflight/parsers/lenses/{p.name}" for p in (REPO / "preflight/parsers/lenses").glob("*.aug")}
    wanted |= {"preflight/gather/gather.sh", "preflight/py.typed"}
    assert len(wanted) > 4 and wanted <= shipped, sorted(wanted - shipped)


def test_wheel_holds_every_module_of_the_checkout(wheel_venv: WheelVenv) -> None:
    # pyproject.toml lists the packages by hand (package-dir maps rules/ and templates/):
    # a new subpackage that is not listed is missing from the wheel.
    shipped = set(names(wheel_venv.wheel))
    wanted = {str(p.relative_to(REPO)) for p in (REPO / "preflight").rglob("*.py")}
    wanted |= {f"preflight/rules/{p.relative_to(REPO / 'rules')}" for p in (REPO / "rules").rglob("*.py")}
    assert not wanted - shipped, f"add to pyproject.toml [tool.setuptools] packages: {sorted(wanted - shipped)}"


def _third_party_imports(paths: list[Path]) -> set[str]:
    found = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"preflight", "rules", "__future__"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_runtime_dependencies_are_what_runtime_imports(wheel_venv: WheelVenv) -> None:
    sources = [p for p in [*(REPO / "preflight").rglob("*.py"), *(REPO / "rules").rglob("*.py")]
               if p.name != "pytest_plugin.py"]  # loaded by pytest only: the `pytest` extra
    dists = packages_distributions()
    imported = {_norm(d) for module in _third_party_imports(sources) for d in dists[module]}
    required = {_norm(re.split(r"[<>=!~; \[]", line.split(":", 1)[1].strip())[0])
                for line in metadata(wheel_venv.wheel).splitlines()
                if line.startswith("Requires-Dist:") and "extra ==" not in line}
    assert imported == required
    assert not required & {"pytest", "pytest-testinfra"}


def test_wheel_installs_nothing_but_preflight(wheel_venv: WheelVenv) -> None:
    # A top-level `rules` package would collide with the PyPI distribution `rules`.
    top = {n.split("/")[0] for n in names(wheel_venv.wheel) if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"preflight"}


def test_installed_package_is_the_wheel_not_the_checkout(wheel_venv: WheelVenv) -> None:
    out = wheel_venv.run(wheel_venv.bin / "python", "-c",
                         "import preflight.fix.templates as t, sys; print(t.__file__); print(sys.path)")
    assert out.returncode == 0, out.stderr
    path, syspath = out.stdout.splitlines()
    assert Path(path).is_relative_to(wheel_venv.venv) and str(REPO) not in syspath


def test_check_runs_the_example_from_the_wheel(wheel_venv: WheelVenv, example: Path) -> None:
    out = wheel_venv.run("preflight", "check", *plan_args(example), "--format", "json")
    here = CliRunner().invoke(app, ["check", *plan_args(example), "--format", "json"])
    assert out.returncode == here.exit_code == 1, out.stderr
    mine, theirs = json.loads(out.stdout), json.loads(here.stdout)
    assert mine["findings"] == theirs["findings"] and mine["verdict"] == theirs["verdict"]


def test_fix_policy_cis_renders_templates_from_the_wheel(wheel_venv: WheelVenv, example: Path) -> None:
    # Before templates were package data: "internal error: TemplateNotFound", exit 4.
    out = wheel_venv.run("preflight", "fix", *plan_args(example), "--policy", "cis")
    here = CliRunner().invoke(app, ["fix", *plan_args(example), "--policy", "cis"])
    assert out.returncode == here.exit_code == 1, out.stderr
    assert out.stdout == here.stdout
    instance = (REPO / "templates/sshd-migration-instance.conf.j2").read_text().splitlines()[0]
    assert instance in out.stdout  # the rendered template is part of the advice


def test_pytest_plugin_from_the_wheel(wheel_venv: WheelVenv, example: Path, tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_hosts.py").write_text(f'''
import sys
import preflight.pytest_plugin

def test_plugin_is_the_installed_one():
    assert preflight.pytest_plugin.__file__.startswith(sys.prefix)

def test_pair(preflight_pair):
    report = preflight_pair({str(example / "host1")!r}, {str(example / "host2")!r},
                            guests=["guest1-rhel6-64"], dest_uri={URI!r}, concurrency=12,
                            source_libvirt={f"test://{example / 'host1.xml'}"!r},
                            dest_libvirt={f"test://{example / 'host2.xml'}"!r})
    assert report.verdict == "ready", sorted(f.rule for f in report.blocking_failures)

def test_host(preflight_host):
    assert preflight_host({str(example / "host2")!r}).image_mode
''')
    out = wheel_venv.run(wheel_venv.bin / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                         "--preflight-facts", tmp_path / "facts", cwd=suite)
    here = CliRunner().invoke(app, ["check", *plan_args(example), "--format", "json"])
    failed = sorted(f["rule"] for f in json.loads(here.stdout)["findings"]
                    if f["status"] == "fail" and f["severity"] == "error")
    assert "2 passed, 1 failed" in out.stdout or "1 failed, 2 passed" in out.stdout, out.stdout + out.stderr
    assert f"AssertionError: {failed}" in out.stdout  # the example is NOT READY, for the same reasons
    assert len(list((tmp_path / "facts").glob("*.json"))) == 2  # preflight_host reused host2's


def test_one_python_floor_everywhere(wheel_venv: WheelVenv) -> None:
    # requires-python, the version mypy checks the stdlib against and ruff's target must agree
    # (read with a regex: tomllib is 3.11+, and the floor is 3.10).
    conf = (REPO / "pyproject.toml").read_text()
    floor = re.search(r'^requires-python = ">=3\.(\d+)"', conf, re.M)
    assert floor is not None
    minor = floor.group(1)
    assert re.search(rf'^python_version = "3\.{minor}"$', conf, re.M)
    assert re.search(rf'^target-version = "py3{minor}"$', conf, re.M)
    assert f"Requires-Python: >=3.{minor}" in metadata(wheel_venv.wheel).splitlines()
