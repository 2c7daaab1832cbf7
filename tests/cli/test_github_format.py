"""`--format github`: GitHub Actions workflow commands, escaped as actions/toolkit escapes them."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from preflight.report.github import escape_data, escape_property
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
