"""`--format github`: GitHub Actions workflow commands, escaped as actions/toolkit escapes them."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from preflight.engine import Report
from preflight.model.facts import HostMode, HostSnapshot
from preflight.model.findings import Finding, Scope, Severity, Status
from preflight.model.plan import MigrationPlan
from preflight.report.github import escape_data, escape_property, to_github
from tests.cli.test_cli import EXAMPLES, URI, example_args, preflight

# ::LEVEL key=value,key=value::message; a property value never holds ':' ',' CR LF or a bare '%'.
COMMAND = re.compile(r"^::(error|warning|notice) ((?:[a-z]+=[^:,\r\n]*)(?:,[a-z]+=[^:,\r\n]*)*)::([^\r\n]*)$")


def unescape(text: str) -> str:
    for code, char in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(code, char)
    return text


def parse(line: str) -> tuple[str, dict[str, str], str]:
    m = COMMAND.match(line)
    assert m, f"not a workflow command: {line!r}"
    props = dict(p.split("=", 1) for p in m.group(2).split(","))
    for value in props.values():
        assert re.fullmatch(r"(?:[^%]|%(?:25|0D|0A|3A|2C))*", value), value
    return m.group(1), {k: unescape(v) for k, v in props.items()}, unescape(m.group(3))


def test_escaping_is_githubs() -> None:
    assert escape_data("50% a:b,c\r\nd") == "50%25 a:b,c%0D%0Ad"
    assert escape_property("50% a:b,c\r\nd") == "50%25 a%3Ab%2Cc%0D%0Ad"
    assert unescape(escape_property("%3A:,%")) == "%3A:,%"


def test_annotations_point_into_the_repo(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLES, repo / "images")
    args = ["check", "--live", "guest1-rhel6-64", URI, "--concurrency", "12",
            "--source", "images/host1", "--source-libvirt", f"test://{repo / 'images' / 'host1.xml'}",
            "--dest", "images/host2", "--dest-libvirt", f"test://{repo / 'images' / 'host2.xml'}"]
    out = preflight(*args, "--format", "github", cwd=repo)
    assert out.returncode == 1, out.stderr
    *commands, verdict = out.stdout.splitlines()
    assert verdict.startswith("NOT READY")
    findings = json.loads(preflight(*args, "--format", "json", cwd=repo).stdout)["findings"]
    assert len(commands) == sum(f["status"] in ("fail", "unknown") for f in findings)
    rules = set()
    for line in commands:
        level, props, _message = parse(line)
        rules.add(props["title"].split()[0])
        assert (repo / props["file"]).is_file(), props["file"]
        assert props["file"].startswith(("images/host1/", "images/host2/"))
        if "line" in props:
            assert int(props["line"]) >= 1
        if props["title"].startswith("SSH001"):
            assert level == "error" and props["file"] == "images/host2/etc/ssh/sshd_config"
    assert {"NET001", "SSH001"} <= rules


def test_hostile_subject_cannot_break_the_command() -> None:
    odd = "g:1,x\n::error file=/etc/passwd::pwned %0A"
    args = example_args()
    args[2] = odd
    out = preflight(*args, "--format", "github")
    assert out.returncode == 1, out.stderr
    *commands, _verdict = out.stdout.splitlines()
    gst = [c for c in commands if "GST001" in c]
    assert gst
    for line in commands:
        _level, props, message = parse(line)  # every line is exactly one well-formed command
        assert set(props) <= {"file", "line", "title"}
    _level, props, message = parse(gst[0])
    assert "g:1,x" in props["title"] and "::error file=/etc/passwd::pwned %0A" in props["title"]
    assert props.get("file") != "/etc/passwd"


def test_annotation_files_are_sarif_uris(tmp_path: Path) -> None:
    """The same repository path in both outputs, for every finding that has a file."""
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLES, repo / "images")
    args = ["check", "--live", "guest1-rhel6-64", URI, "--concurrency", "12",
            "--source", "images/host1", "--source-libvirt", f"test://{repo / 'images' / 'host1.xml'}",
            "--dest", "images/host2", "--dest-libvirt", f"test://{repo / 'images' / 'host2.xml'}"]
    annotated = set()
    for line in preflight(*args, "--format", "github", cwd=repo).stdout.splitlines()[:-1]:
        _level, props, _message = parse(line)
        if "file" in props:
            annotated.add((props["title"].split()[0], props["file"], props.get("line")))
    sarif = json.loads(preflight(*args, "--format", "sarif", cwd=repo).stdout)["runs"][0]["results"]
    located = set()
    for r in sarif:
        phys = r["locations"][0]["physicalLocation"]
        if "region" in phys or not phys["artifactLocation"]["uri"].endswith("/"):
            line = phys.get("region", {}).get("startLine")
            located.add((r["ruleId"], phys["artifactLocation"]["uri"], None if line is None else str(line)))
    assert annotated == located and annotated


def test_hostile_paths_and_messages_stay_one_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    image = tmp_path / "img,x:y%0A"
    (image / "etc").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    snap = HostSnapshot(role="source", spec=str(image), mode=HostMode.IMAGE)
    hostile = "50% done\r\n::error file=/etc/passwd::pwned,%0A"
    findings = [
        Finding(rule="NET001", name="dest-name-resolves", status=Status.FAIL, severity=Severity.ERROR,
                host=Scope.SOURCE, message=hostile, file="/etc/ho,st:s", line=3, remediation=hostile,
                subject=hostile),
        Finding(rule="GST001", name="guest-exists", status=Status.UNKNOWN, severity=Severity.WARNING,
                host=Scope.SOURCE, message=hostile, subject="g"),
    ]
    report = Report(plan=MigrationPlan(guests=["g"], dest_uri=URI), findings=findings, snapshots={"source": snap})
    *commands, verdict = to_github(report).splitlines()
    assert len(commands) == 2 and not verdict.startswith("::")
    level, props, message = parse(commands[0])
    assert level == "error" and props["file"] == "img,x:y%0A/etc/ho,st:s" and props["line"] == "3"
    assert props["title"].startswith("NET001 dest-name-resolves (source: 50% done")
    assert "\n" not in message and "\r" not in message  # control characters shown as \xNN (textsafe)
    assert "::error file=/etc/passwd::pwned,%0A" in message
    level, props, message = parse(commands[1])
    assert level == "warning" and "file" not in props and message.startswith("Could not tell: ")
