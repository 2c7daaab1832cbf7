"""Gate flags (issue 9 items 4-6): --fail-on levels, an empty selection, what was left out recorded in the
report, several outputs in one run, shell completion, the pre-commit hook."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest
import yaml

from preflight.cli import selection
from preflight.config import Config
from preflight.engine import Report
from preflight.model.findings import Finding, Scope, Severity, Status, Waived
from preflight.model.plan import MigrationPlan
from tests.cli.test_cli import TOP, URI, example_args, preflight
from tests.cli.test_config import images

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


def finding(status: Status, severity: Severity, waived: bool = False) -> Finding:
    return Finding(rule="LIM001", name="client-slots", status=status, severity=severity, host=Scope.SOURCE,
                   message="m", waived=Waived(kind="config", reason="r", origin="p:1") if waived else None)


# --- --fail-on ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status,severity,waived,expected", [
    # (error, warning, unknown) exit codes
    (Status.FAIL, Severity.ERROR, False, (1, 1, 1)),
    (Status.FAIL, Severity.ERROR, True, (0, 0, 0)),  # waived: never fails
    (Status.FAIL, Severity.WARNING, False, (0, 1, 1)),
    (Status.FAIL, Severity.WARNING, True, (0, 0, 0)),
    (Status.UNKNOWN, Severity.ERROR, False, (3, 3, 3)),
    (Status.UNKNOWN, Severity.WARNING, False, (0, 0, 3)),
    (Status.FAIL, Severity.INFO, False, (0, 0, 0)),
    (Status.PASS, Severity.ERROR, False, (0, 0, 0)),
])
def test_fail_on_levels(status: Status, severity: Severity, waived: bool, expected: tuple[int, int, int]) -> None:
    got = []
    for level in ("error", "warning", "unknown"):
        report = Report(plan=MigrationPlan(guests=["g"], dest_uri=URI), findings=[finding(status, severity, waived)],
                        fail_on=level)
        got.append(int(report.exit_code))
    assert tuple(got) == expected


def test_fail_on_warning_from_the_flag_and_from_the_config(tmp_path: Path) -> None:
    root = images(tmp_path)
    args = [*example_args(root), "--select", "LIM001"]  # the example's LIM001 findings are warnings
    out = preflight(*args, cwd=tmp_path)
    assert out.returncode == 0 and out.stdout.splitlines()[-1].startswith("READY"), out.stderr
    out = preflight(*args, "--fail-on", "warning", cwd=tmp_path)
    assert out.returncode == 1 and out.stdout.splitlines()[-1].startswith("NOT READY")
    (tmp_path / "preflight.toml").write_text('fail-on = "warning"\n')
    assert preflight(*args, cwd=tmp_path).returncode == 1
    assert preflight(*args, "--fail-on", "error", cwd=tmp_path).returncode == 0  # the flag wins
    assert preflight(*args, "--fail-on", "never", cwd=tmp_path).returncode == 2


def test_fail_on_is_documented_next_to_the_exit_codes() -> None:
    out = preflight("check", "-h")
    text = re.sub(r"[│\s]+", " ", out.stdout)
    assert "Exit codes: 0 READY, 1 NOT READY" in text
    exit_codes = text[text.index("Exit codes:"):]
    assert "--fail-on warning" in exit_codes[:500] and "--fail-on unknown" in exit_codes[:500]


# --- selection ------------------------------------------------------------------------------------------------
def test_nothing_selected_is_a_usage_error(tmp_path: Path) -> None:
    out = preflight(*example_args(images(tmp_path)), "--select", "NET", "--ignore", "NET", cwd=tmp_path)
    assert out.returncode == 2 and out.stdout == ""
    assert "no rule left to judge: --select NET minus the ignored NET selects nothing" in out.stderr
    (tmp_path / "preflight.toml").write_text('select = ["SSH001"]\nignore = ["SSH"]\n')
    out = preflight(*example_args(images(tmp_path / "b")), cwd=tmp_path)
    assert out.returncode == 2 and "selects nothing" in out.stderr


def test_left_out_rules_are_recorded_with_why() -> None:
    chosen, left_out = selection(["NET,SSH001"], ["NET002"], Config(ignore=["NET003"]))
    ids = [r.ID for r in chosen]
    assert "NET001" in ids and "SSH001" in ids and "NET002" not in ids and "NET003" not in ids
    why = {d["rule"]: d["why"] for d in left_out}
    assert why["NET002"] == "ignored (--ignore NET002)"
    assert why["NET003"] == "ignored (ignore in config NET003)"
    assert why["LIM001"] == "not selected (--select NET,SSH001)"
    assert set(why) | set(ids) == {r.ID for r in __import__("preflight.rules").rules.ALL_RULES}


# --- several outputs ------------------------------------------------------------------------------------------
def test_several_outputs_in_one_run_each_parses(tmp_path: Path) -> None:
    root = images(tmp_path)
    out = preflight(*example_args(root), "--output-format", "sarif:out/report.sarif", "--output-format",
                    "junit:out/report.xml", "--output-format", "json:out/report.json", "--output-format",
                    "github:out/annotations.txt", "--output-format", "text:out/report.txt", cwd=tmp_path)
    (tmp_path / "out").mkdir()  # the first run: a missing directory is a usage error before any host
    assert out.returncode == 2 and "out/report.sarif" in out.stderr and out.stdout == ""
    out = preflight(*example_args(root), "--output-format", "sarif:out/report.sarif", "--output-format",
                    "junit:out/report.xml", "--output-format", "json:out/report.json", "--output-format",
                    "github:out/annotations.txt", "--output-format", "text:out/report.txt", cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    assert out.stdout.splitlines()[-1].startswith("NOT READY")  # the usual text on the terminal
    sarif = json.loads((tmp_path / "out/report.sarif").read_text())
    jsonschema.validate(sarif, json.loads(SCHEMA.read_text()))
    rules = {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert {"NET001", "SSH001"} <= rules
    junit = ET.parse(tmp_path / "out/report.xml").getroot()
    assert junit.iter("testcase") and any(tc.find("failure") is not None for tc in junit.iter("testcase"))
    report = json.loads((tmp_path / "out/report.json").read_text())
    assert report["verdict"] == "not-ready"
    annotations = [a for a in (tmp_path / "out/annotations.txt").read_text().splitlines() if a.startswith("::")]
    assert any(a.startswith("::error file=images/host1/etc/hosts,title=NET001 ") for a in annotations)
    txt = (tmp_path / "out/report.txt").read_text()
    assert txt.splitlines()[-1] == out.stdout.splitlines()[-1] and "\033[" not in txt


@pytest.mark.parametrize("value,words", [
    ("xml:report.xml", "FORMAT:PATH with FORMAT one of"),
    ("sarif", "FORMAT:PATH"),
    ("sarif:", "FORMAT:PATH"),
])
def test_a_bad_output_format_is_a_usage_error(tmp_path: Path, value: str, words: str) -> None:
    out = preflight(*example_args(images(tmp_path)), "--output-format", value, cwd=tmp_path)
    assert out.returncode == 2 and words in out.stderr


def test_outputs_are_checked_before_any_host_is_contacted(tmp_path: Path) -> None:
    args = example_args(images(tmp_path))
    args[args.index("--dest") + 1] = "ssh://root@127.0.0.1:1"  # contacted, this would be exit 3
    out = preflight(*args, "--output-format", "sarif:a.sarif", "--output-format", "json:a.sarif", cwd=tmp_path)
    assert out.returncode == 2 and "written twice" in out.stderr
    out = preflight(*args, "-o", "a.json", "--output-format", "json:./a.json", cwd=tmp_path)
    assert out.returncode == 2 and "written twice" in out.stderr
    out = preflight(*args, "--output-format", "json:missing/a.json", cwd=tmp_path)
    assert out.returncode == 2 and not (tmp_path / "a.sarif").exists()


# --- shell completion and pre-commit ---------------------------------------------------------------------------
def test_shell_completion() -> None:
    # typer asks shellingham which shell runs it: run it under bash (not exec'd: `; true`), whatever runs the tests
    out = subprocess.run(["bash", "-c", '"$0" -m preflight.cli --show-completion; true', sys.executable],
                         capture_output=True, text=True, cwd=TOP, timeout=60)
    assert "_PREFLIGHT_COMPLETE=complete_bash" in out.stdout, out.stderr
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "_PREFLIGHT_COMPLETE": "complete_bash",
           "COMP_WORDS": "preflight check --fail", "COMP_CWORD": "2"}
    done = subprocess.run([sys.executable, "-c", "from preflight.cli import main; main()"], capture_output=True,
                          text=True, env=env, cwd=TOP, timeout=60)
    assert "--fail-on" in done.stdout.split()


def test_pre_commit_hook_runs_preflight_lint_on_image_roots() -> None:
    hooks = yaml.safe_load((TOP / ".pre-commit-hooks.yaml").read_text())
    (hook,) = [h for h in hooks if h["id"] == "preflight-lint"]
    assert hook["entry"].split() == ["preflight", "lint"] and hook["language"] == "python"
    assert hook["pass_filenames"] is False
    files = re.compile(hook["files"])
    for changed in ("images/host1/etc/ssh/sshd_config", "images/host2/etc/libvirt/libvirtd.conf",
                    "host1/etc/hosts", "preflight.toml"):
        assert files.search(changed), changed
    assert not files.search("README.md")


# --- the acceptance: a repo of image roots gated by lint and check ------------------------------------
_ANNOTATION = re.compile(r"^::(error|warning|notice)( [a-z]+=[^,:]*(,[a-z]+=[^,:]*)*)?::.+$")


def _gate_repo(tmp_path: Path, expires: str) -> Path:
    root = images(tmp_path)
    conf = root / "host2" / "etc" / "ssh" / "sshd_config"
    conf.write_text(conf.read_text().replace(
        "#MaxStartups 10:30:100", "# preflight: ignore[SSH001] at most 10 migrations at once\nMaxStartups 10:30:100"))
    (tmp_path / "preflight.toml").write_text(
        'concurrency = 12\npeers = ["host2.example.com"]\n\n'
        '[[waivers]]\nrule = "NET001"\nhost = "images/host1"\nsubject = "host2.example.com"\n'
        f'reason = "names come from DNS in production"\nexpires = {expires}\n\n'
        '[[waivers]]\nrule = "SSH001"\nhost = "images/host1"\nreason = "host1 only sends migrations"\n')
    return root


@pytest.mark.parametrize("command", ["check", "lint"])
def test_a_repo_of_image_roots_gated_with_a_config_and_waivers(tmp_path: Path, command: str) -> None:
    import datetime

    root = _gate_repo(tmp_path, (datetime.date.today() + datetime.timedelta(days=30)).isoformat())
    args = example_args(root) if command == "check" else ["lint", "images/host1", "images/host2"]
    if command == "check":  # the config gives the concurrency
        i = args.index("--concurrency")
        del args[i:i + 2]
    outputs = ["--output-format", "sarif:r.sarif", "--output-format", "junit:r.xml", "--output-format", "github:r.txt"]
    out = preflight(*args, *outputs, cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr  # every failing finding is waived
    sarif = json.loads((tmp_path / "r.sarif").read_text())
    jsonschema.validate(sarif, json.loads(SCHEMA.read_text()))
    results = [r for run in sarif["runs"] for r in run["results"]]
    assert {r["ruleId"] for r in results if r.get("suppressions")} >= {"NET001", "SSH001"}
    for r in results:
        for loc in r.get("locations", []):
            art = loc["physicalLocation"]["artifactLocation"]
            if art.get("uriBaseId") == "%SRCROOT%":
                assert (tmp_path / art["uri"]).is_file(), art
    ET.parse(tmp_path / "r.xml")
    lines = (tmp_path / "r.txt").read_text().splitlines()
    assert all(_ANNOTATION.match(a) for a in lines if a.startswith("::")), lines

    expired = _gate_repo(tmp_path / "expired", (datetime.date.today() - datetime.timedelta(days=1)).isoformat())
    args = [a.replace(str(root), str(expired)) for a in args]
    out = preflight(*args, cwd=tmp_path / "expired")
    assert out.returncode == 1 and "expired on" in out.stderr, out.stdout + out.stderr
