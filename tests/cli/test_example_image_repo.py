"""examples/image-repo: the image-repository layout README's "Use it as a CI gate" describes (images/,
preflight.toml with [[paths]] and a waiver, .github/workflows/preflight.yml), gated as its job gates it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from tests.cli.test_cli import preflight
from tests.cli.test_sarif import validate_for_github

REPO = Path(__file__).resolve().parents[2] / "examples" / "image-repo"


def test_lint_of_the_example_repo_follows_its_config() -> None:
    out = preflight("lint", "--format", "json", cwd=REPO)
    assert out.returncode == 1, out.stderr
    doc = json.loads(out.stdout)
    assert [h["spec"].rsplit("/", 1)[-1] for h in doc["hosts"]] == ["host1", "host2"]  # the [[paths]] roots
    failing = {(f["spec"].rsplit("/", 1)[-1], f["rule"]) for f in doc["findings"]
               if f["status"] == "fail" and not f.get("waived")}
    assert {("host1", "NET001"), ("host1", "SSH001"), ("host2", "NET001"), ("host2", "SSH001")} <= failing
    waived = [(f["spec"].rsplit("/", 1)[-1], f["rule"], f["waived"]["reason"]) for f in doc["findings"]
              if f.get("waived")]
    assert [(h, r) for h, r, _ in waived] == [("host2", "LIM001")] and "OPS-123" in waived[0][2]
    assert all(h["concurrency"] == 12 for h in doc["hosts"]), doc["hosts"]


def test_the_jobs_sarif_places_every_result_in_the_repo() -> None:
    out = preflight("lint", "--format", "sarif", cwd=REPO)
    sarif = json.loads(out.stdout)
    validate_for_github(sarif)
    top = Path(subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=REPO, capture_output=True, text=True,
                              check=True).stdout.strip())
    for res in sarif["runs"][0]["results"]:
        art = res["locations"][0]["physicalLocation"]["artifactLocation"]
        assert art.get("uriBaseId") == "%SRCROOT%", art
        assert (top / art["uri"]).exists(), art["uri"]


def test_the_workflow_runs_the_gate_readme_documents() -> None:
    flow = yaml.safe_load((REPO / ".github" / "workflows" / "preflight.yml").read_text())
    steps = flow["jobs"]["lint"]["steps"]
    runs = [s["run"] for s in steps if "run" in s]
    assert any(r.split()[1:3] == ["lint", "--format"] and "sarif:preflight.sarif" in r for r in runs), runs
    assert any(s.get("uses", "").startswith("github/codeql-action/upload-sarif") for s in steps)
    readme = (REPO.parents[1] / "README.md").read_text()
    assert "github/codeql-action/upload-sarif" in readme and "examples/image-repo" in readme
