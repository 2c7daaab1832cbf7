"""Issue 10 item 5: help grouped with examples, -h, --format a choice, the positional named,
suggestions once, numeric options validated, relative test:// URIs, ASCII-only terminals."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.cli.test_cli import EXAMPLES, TOP, example_args, preflight


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("preflight: error: "), done.stderr
    return lines[0]


def test_check_help_is_grouped_with_an_example() -> None:
    out = preflight("check", "--help").stdout
    for panel in ("Plan (as for virsh migrate)", "Hosts", "Output", "Rule selection"):
        assert re.search(rf"─ {re.escape(panel)} ─", out), panel
    plan = out[out.index("Plan (as for"):out.index("─ Hosts ─")]
    assert "--concurrency" in plan and "--live" in plan and "--source " not in plan
    output = out[out.index("─ Output ─"):]
    assert "--format" in output and "--color" in output and "--quiet" in output
    assert "Example: preflight check --live" in out
    assert "[GUEST...] DESTURI" in out.splitlines()[1] or "[GUEST...] DESTURI" in out[:300]


def test_fix_help_groups_its_own_options() -> None:
    out = preflight("fix", "--help").stdout
    fix = out[out.index("─ Fix ─"):]
    for option in ("--diff", "--output-dir", "--write", "--backup-dir", "--dest-address", "--policy", "--host"):
        assert option in fix, option
    assert "─ Rule selection ─" in out and "Example: preflight fix" in out


@pytest.mark.parametrize("command", ["check", "fix", "facts", "rules", "explain"])
def test_every_command_has_an_example_and_dash_h(command: str) -> None:
    short, long = preflight(command, "-h"), preflight(command, "--help")
    assert short.returncode == long.returncode == 0
    assert short.stdout == long.stdout
    assert "Example: preflight " + command in short.stdout


def test_format_is_a_choice() -> None:
    words = " ".join(w for w in preflight("check", "--help").stdout.split() if w != "│")
    assert "Report format: text, json (the CI contract in README), sarif, junit or github" in words
    line = one_error_line(preflight(*example_args(), "--format", "yaml"))
    assert "'yaml' is not one of 'text', 'json', 'sarif', 'junit', 'github'" in line


def test_mistyped_command_suggested_once() -> None:
    line = one_error_line(preflight("chek"))
    assert line.count("Did you mean 'check'") == 1


@pytest.mark.parametrize("option,key,expected", [
    ("--select", "SHH001", "SSH001"), ("--ignore", "net-dest-name-resolves", "dest-name-resolves"),
    ("--select", "NTE", "NET"),
])
def test_mistyped_rule_key_suggested(option: str, key: str, expected: str) -> None:
    line = one_error_line(preflight(*example_args(), option, key))
    assert line.count("did you mean") == 1 and expected in line.split("did you mean", 1)[1], line


def test_explain_suggests_a_rule() -> None:
    assert "did you mean SSH001" in one_error_line(preflight("explain", "SSH01"))


@pytest.mark.parametrize("value", ["0", "-1"])
def test_concurrency_must_be_positive(value: str) -> None:
    assert "--concurrency" in one_error_line(preflight(*example_args(), "--concurrency", value))


def test_relative_test_uri_is_made_absolute() -> None:
    absolute = preflight(*example_args(), "--format", "json")
    args = example_args()
    args[args.index("--source-libvirt") + 1] = "test://host1.xml"
    args[args.index("--dest-libvirt") + 1] = "test://host2.xml"
    relative = preflight(*args, "--format", "json", cwd=EXAMPLES)
    assert relative.returncode == absolute.returncode == 1, relative.stderr
    assert json.loads(relative.stdout)["findings"] == json.loads(absolute.stdout)["findings"]


def test_relative_test_uri_to_a_missing_file_is_refused_clearly() -> None:
    args = example_args()
    args[args.index("--source-libvirt") + 1] = "test://no-such-host.xml"
    line = one_error_line(preflight(*args))
    assert "--source-libvirt" in line and str(TOP / "no-such-host.xml") in line
    assert "CA certificate" not in line


def test_ascii_terminal_does_not_crash() -> None:
    done = subprocess.run([sys.executable, "-m", "preflight.cli", *example_args()], capture_output=True,
                          cwd=TOP, timeout=120, env={"PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "ascii"})
    assert done.returncode == 1, done.stderr
    assert b"Traceback" not in done.stderr and b"internal error" not in done.stderr
    assert b"NOT READY" in done.stdout and b"\\u2014" in done.stdout  # "—" shown as an escape
    done.stdout.decode("ascii")  # nothing else reached the stream
