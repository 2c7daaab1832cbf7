"""A repository of golden host image roots gated as a CI job would gate it: ``preflight check`` run
from the checkout (a real ``git init``), its SARIF, JUnit and GitHub annotations taken as a CI
system takes them.

- SARIF validates against SARIF 2.1.0 (and GitHub's location rule), also for a run that could
  not reach its destination, and for findings without a line or without a file;
- every result's URI with ``uriBaseId`` resolves to a file (or, for a finding without a file, the
  image root directory) in the repository; the only other URIs are ``file://`` ones of live hosts;
- JUnit parses with unique names; every annotation is one well-formed workflow command.

The unreachable destination is ssh to 127.0.0.1 port 1 (refused at once, nothing leaves the machine).
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from xml.etree import ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from preflight.engine import Note, Report
from preflight.model.facts import HostMode, HostSnapshot
from preflight.model.findings import Finding, Scope, Severity, Status, Waived
from preflight.model.plan import MigrationPlan
from preflight.report import github, machine, sarif
from tests.cli.test_cli import EXAMPLES, URI, preflight
from tests.cli.test_github_format import parse
from tests.cli.test_sarif import validate, validate_for_github

DOWN = "qemu+ssh://root@127.0.0.1:1/system"


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    top = tmp_path_factory.mktemp("ci") / "golden-images"
    (top / "images").mkdir(parents=True)
    for name in ("host1", "host2"):
        shutil.copytree(EXAMPLES / name, top / "images" / name, symlinks=True)
        shutil.copy(EXAMPLES / f"{name}.xml", top / "images" / f"{name}.xml")
    subprocess.run(["git", "init", "-q", str(top)], check=True, capture_output=True, timeout=60)
    return top


def pair_args(repo: Path) -> list[str]:
    return ["check", "--live", "guest1-rhel6-64", URI, "--concurrency", "12",
            "--source", "host1", "--source-libvirt", f"test://{repo / 'images' / 'host1.xml'}",
            "--dest", "host2", "--dest-libvirt", f"test://{repo / 'images' / 'host2.xml'}"]


def down_args(repo: Path) -> list[str]:
    return ["check", "--live", "guest1-rhel6-64", DOWN, "--timeout", "5",
            "--source", "host1", "--source-libvirt", f"test://{repo / 'images' / 'host1.xml'}"]


def run(repo: Path, args: list[str], fmt: str, expect: int) -> str:
    out = preflight(*args, "--format", fmt, cwd=repo / "images")  # a subdirectory: specs host1, host2
    assert out.returncode == expect, out.stderr
    return out.stdout


def resolve(repo: Path, run_doc: dict[str, Any], art: dict[str, Any]) -> Path | None:
    """The repository path a SARIF artifactLocation names, or None for an absolute (live host) URI."""
    if "uriBaseId" not in art:
        assert art["uri"].startswith("file://"), art
        return None
    base = run_doc["originalUriBaseIds"][art["uriBaseId"]]["uri"]
    assert base == repo.as_uri() + "/"
    return repo / unquote(art["uri"])


@pytest.mark.parametrize("case", ["pair", "destination down"])
def test_sarif_validates_and_points_into_the_repo(repo: Path, case: str) -> None:
    args, code = (pair_args(repo), 1) if case == "pair" else (down_args(repo), 3)
    doc = json.loads(run(repo, args, "sarif", code))
    validate_for_github(doc)
    sarif_run = doc["runs"][0]
    results = sarif_run["results"]
    assert results
    assert any("region" not in r["locations"][0]["physicalLocation"] for r in results)  # findings without a line
    live = 0
    image_of = {"source": ["host1"], "destination": ["host2"], "pair": ["host1", "host2"]}
    for r in results:
        role = r["properties"]["host"]
        images = []
        for loc in r["locations"]:
            art = loc["physicalLocation"]["artifactLocation"]
            path = resolve(repo, sarif_run, art)
            if path is None:  # the live destination
                assert role in ("destination", "pair") and case == "destination down", (art, role)
                assert art["uri"].startswith("file://127.0.0.1/")
                live += 1
                images.append("host2")
                continue
            assert path.exists(), art
            assert path.is_file() or "region" not in loc["physicalLocation"]
            assert path.relative_to(repo).parts[0] == "images"
            images.append(path.relative_to(repo).parts[1])
        assert images == image_of[role], (role, r["locations"])  # a pair finding: both hosts, source first
    prints = [r["partialFingerprints"]["preflightFinding/v1"] for r in results]
    assert len(set(prints)) == len(prints)  # distinct findings never merge into one alert
    inv = sarif_run["invocations"][0]
    if case == "pair":
        assert inv["executionSuccessful"] is True
        assert {r["ruleId"] for r in results} >= {"NET001", "SSH001", "LIM001"}
    else:
        assert inv["executionSuccessful"] is False and live
        assert any(n["associatedRule"]["id"] == "INS001" for n in inv["toolExecutionNotifications"])


@pytest.mark.parametrize("case", ["pair", "destination down"])
def test_junit_parses_with_unique_names(repo: Path, case: str) -> None:
    args, code = (pair_args(repo), 1) if case == "pair" else (down_args(repo), 3)
    suite = ET.fromstring(run(repo, args, "junit", code))
    names = [(c.get("classname"), c.get("name")) for c in suite.iter("testcase")]
    assert names and len(set(names)) == len(names)
    bad = int(suite.get("failures", "0")) + int(suite.get("errors", "0"))
    assert bad >= 1
    for case_el in suite.iter("testcase"):
        if case_el.get("file", "").startswith("images/"):
            assert (repo / case_el.get("file", "")).is_file()


@pytest.mark.parametrize("case", ["pair", "destination down"])
def test_github_annotations_are_well_formed(repo: Path, case: str) -> None:
    args, code = (pair_args(repo), 1) if case == "pair" else (down_args(repo), 3)
    *commands, verdict = run(repo, args, "github", code).splitlines()
    assert commands and not verdict.startswith("::")
    for line in commands:
        _level, props, _message = parse(line)
        if "file" in props:
            assert (repo / props["file"]).is_file(), props["file"]
            assert props["file"].startswith("images/host")


# --- the gate policy in the outputs: waivers, an expired waiver, rules left out ------------------------------

@pytest.fixture(scope="module")
def gated_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same repository with a preflight.toml at its top: SSH001 waived on the destination, an
    expired NET001 waiver, LIM003 ignored."""
    top = tmp_path_factory.mktemp("gated") / "golden-images"
    (top / "images").mkdir(parents=True)
    for name in ("host1", "host2"):
        shutil.copytree(EXAMPLES / name, top / "images" / name, symlinks=True)
        shutil.copy(EXAMPLES / f"{name}.xml", top / "images" / f"{name}.xml")
    subprocess.run(["git", "init", "-q", str(top)], check=True, capture_output=True, timeout=60)
    yesterday = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    (top / "preflight.toml").write_text(
        'ignore = ["LIM003"]\n\n'
        '[[waivers]]\nrule = "SSH001"\nhost = "destination"\nreason = "MaxStartups, raised: by Ansible\\u0007"\n\n'
        f'[[waivers]]\nrule = "NET001"\nhost = "source"\nreason = "DNS in production"\nexpires = {yesterday}\n')
    return top


def test_sarif_carries_waivers_expired_waivers_and_ignored_rules(gated_repo: Path) -> None:
    doc = json.loads(run(gated_repo, pair_args(gated_repo), "sarif", 1))
    validate(doc)
    sarif_run = doc["runs"][0]
    ssh = [r for r in sarif_run["results"] if r["ruleId"] == "SSH001"]
    assert len(ssh) == 1
    sup = ssh[0]["suppressions"]
    assert sup[0]["kind"] == "external" and sup[0]["status"] == "accepted"
    assert sup[0]["justification"] == "MaxStartups, raised: by Ansible\\x07"  # escaped, never raw
    assert sup[0]["properties"]["origin"].endswith("preflight.toml:3")
    net = [r for r in sarif_run["results"] if r["ruleId"] == "NET001"]
    assert net and all("suppressions" not in r for r in net)  # the expired waiver is not applied
    inv = sarif_run["invocations"][0]
    notes = inv["toolConfigurationNotifications"]
    assert any(n["properties"]["kind"] == "expired-waiver" and "NET001" in n["message"]["text"] for n in notes)
    overrides = {o["descriptor"]["id"]: o["configuration"] for o in inv["ruleConfigurationOverrides"]}
    assert overrides["LIM003"]["enabled"] is False and "LIM003" in overrides["LIM003"]["properties"]["why"]
    assert sarif_run["properties"]["failOn"] == "error"
    assert sarif_run["properties"]["config"].endswith("preflight.toml")


def test_junit_and_annotations_show_waivers_and_notes(gated_repo: Path) -> None:
    suite = ET.fromstring(run(gated_repo, pair_args(gated_repo), "junit", 1))
    ssh = [c for c in suite.iter("testcase") if c.get("name", "").startswith("SSH001")]
    skipped = ssh[0].find("skipped")
    assert skipped is not None and skipped.get("message", "").startswith("waived (config ")
    assert "MaxStartups, raised: by Ansible" in skipped.get("message", "")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert "not-selected.LIM003" in props and "note.expired-waiver" in props
    *commands, _verdict = run(gated_repo, pair_args(gated_repo), "github", 1).splitlines()
    parsed = [parse(line) for line in commands]
    waived = [(lvl, p, m) for lvl, p, m in parsed if p["title"].startswith("SSH001")]
    assert waived[0][0] == "notice" and waived[0][2].startswith("Waived (config ")
    expired = [(lvl, p, m) for lvl, p, m in parsed if p["title"] == "preflight expired-waiver"]
    assert expired and expired[0][1]["file"] == "preflight.toml" and expired[0][1]["line"] == "8"


def test_json_records_the_policy(gated_repo: Path) -> None:
    data = json.loads(run(gated_repo, pair_args(gated_repo), "json", 1))
    assert data["fail_on"] == "error" and data["config"].endswith("preflight.toml")
    assert any(d["rule"] == "LIM003" for d in data["not_selected"])
    assert [n["kind"] for n in data["notes"]] == ["expired-waiver"]
    ssh = [f for f in data["findings"] if f["rule"] == "SSH001"]
    assert ssh[0]["waived"]["reason"] == "MaxStartups, raised: by Ansible\\x07"


def test_text_report_shows_the_waiver_not_a_failure(gated_repo: Path) -> None:
    out = run(gated_repo, pair_args(gated_repo), "text", 1)
    ssh = [line for line in out.splitlines() if "SSH001" in line]
    assert ssh and ssh[0].lstrip().startswith("WAIVED")
    assert "waived: MaxStartups, raised: by Ansible\\x07 (config " in out
    assert out.splitlines()[-1].endswith(", 1 waived")


def test_one_run_writes_every_output_as_the_single_format_runs_do(repo: Path, tmp_path: Path) -> None:
    """A CI job's one run: text on the terminal, SARIF + JUnit + annotations in files, each the same
    as its own --format run (so everything above holds for them too)."""
    outs = {fmt: tmp_path / f"report.{fmt}" for fmt in ("sarif", "junit", "github", "json")}
    flags = [a for fmt, path in outs.items() for a in ("--output-format", f"{fmt}:{path}")]
    out = preflight(*pair_args(repo), *flags, cwd=repo / "images")
    assert out.returncode == 1, out.stderr
    assert out.stdout.splitlines()[-1].startswith("NOT READY")
    validate(json.loads(outs["sarif"].read_text()))
    for fmt, path in outs.items():
        alone = run(repo, pair_args(repo), fmt, 1)
        if fmt == "json":  # gather timings differ between runs
            a, b = json.loads(alone), json.loads(path.read_text())
            assert a["findings"] == b["findings"] and a["verdict"] == b["verdict"]
        else:
            assert path.read_text() == alone, fmt


def test_lint_sarif_of_the_image_roots_validates_and_points_into_the_repo(repo: Path) -> None:
    args = ["lint", "host1", "host2", "--concurrency", "12", "--peer", "host1.example.com,host2.example.com",
            "--format", "sarif"]
    out = preflight(*args, cwd=repo / "images")
    assert out.returncode == 1, out.stderr
    doc = json.loads(out.stdout)
    validate(doc)
    sarif_run = doc["runs"][0]
    assert sarif_run["results"]
    for r in sarif_run["results"]:
        for loc in r["locations"]:
            path = resolve(repo, sarif_run, loc["physicalLocation"]["artifactLocation"])
            assert path is not None and path.exists() and path.relative_to(repo).parts[0] == "images"


# --- any text a host or a config can hold: the outputs stay valid -------------------------------------------

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40) | st.sampled_from(
    ["%0A::error::x", "a,b:c", "\r\n", "\x1b[31m", "<x>&", "\ufffe", "é ü", "#?[]@", "..", "%", " ",
                     "../..", "../../../x", "/./a//b/../c", "//"])


@settings(max_examples=int(os.environ.get("PREFLIGHT_CI_OUTPUT_EXAMPLES", "60")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(root_name=_TEXT.filter(lambda s: s.strip(" .") != "" and "/" not in s and "\x00" not in s),
       file=_TEXT, subject=_TEXT | st.none(), message=_TEXT, reason=_TEXT, line=st.none() | st.integers(1, 10**6),
       status=st.sampled_from([Status.FAIL, Status.UNKNOWN]), host=st.sampled_from(list(Scope)),
       waived=st.booleans())
def test_any_text_gives_valid_sarif_junit_and_annotations(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, root_name: str, file: str, subject: str | None,
        message: str, reason: str, line: int | None, status: Status, host: Scope, waived: bool) -> None:
    monkeypatch.chdir(tmp_path)
    image = tmp_path / "images" / root_name
    snaps = {"source": HostSnapshot(role="source", spec=str(image), mode=HostMode.IMAGE),
             "destination": HostSnapshot(role="destination", spec=f"ssh://root@h{len(root_name)}.example",
                                         mode=HostMode.SSH, reachable=False, unreachable_reason=message)}
    found = Finding(rule="SSH001", name="sshd-max-startups", status=status, severity=Severity.ERROR, host=host,
                    message=message, file="/" + file, line=line, remediation=reason, subject=subject,
                    waived=Waived(kind="config", reason=reason, origin=f"{reason}:3") if waived else None)
    bare = Finding(rule="GST001", name="guest-exists", status=status, severity=Severity.WARNING, host=host,
                   message=message, subject=subject)
    rep = Report(plan=MigrationPlan(guests=[subject or "g"], dest_uri=URI), findings=[found, bare],
                 snapshots=snaps, not_selected=[{"rule": "LIM003", "why": reason}],
                 notes=[Note(level="warning", kind="unused-waiver", where=f"{file}:2", message=reason)])
    doc = json.loads(sarif.to_sarif(rep))
    validate_for_github(doc)
    for r in doc["runs"][0]["results"]:
        for loc in r["locations"]:
            art = loc["physicalLocation"]["artifactLocation"]
            if "uriBaseId" in art:  # the image root's file, in the repository
                assert (tmp_path / unquote(art["uri"])).resolve().is_relative_to(tmp_path / "images")
    ET.fromstring(machine.to_junit(rep))
    *commands, verdict = github.to_github(rep).splitlines()
    assert len(commands) == 3 and not verdict.startswith("::")
    for command in commands:
        parse(command)
