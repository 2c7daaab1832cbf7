"""Issue 10 item 4: what the report says and in which order (errors first, one line per cause,
wrapped on a terminal only, no internal keys, no "seed", plain explain, check and fix agree, --color)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.cli import ptyrun
from tests.cli.test_cli import EXAMPLES, URI, example_args, preflight

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
CLOSED = "ssh://127.0.0.1:1"  # nothing listens on port 1: refused at once
INTERNAL = re.compile(r"cmd:[a-z]|file:/|libvirt : |\bseed\b", re.I)


def unreachable_dest(*extra: str) -> list[str]:
    return ["check", "--live", "guest1-rhel6-64", URI, "--source", str(EXAMPLES / "host1"),
            "--source-libvirt", f"test://{EXAMPLES / 'host1.xml'}", "--dest", CLOSED, "--timeout", "5", *extra]


def section(text: str, title: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start + 1:end]


def test_errors_before_warnings() -> None:
    """The source has an error (NET001) and a warning (LIM001): the error comes first."""
    out = preflight(*example_args()).stdout
    source = section(out, "Source")
    tags = [line.split()[0] for line in source if line.startswith("  ") and line.split()[0].isupper()]
    assert "FAIL" in tags and "WARNING" in tags
    assert tags.index("FAIL") < tags.index("WARNING"), source


def test_unreachable_host_is_one_line_with_the_rules_it_blocked() -> None:
    out = preflight(*unreachable_dest())
    assert out.returncode in (1, 3), out.stderr  # 1: the source's NET001 fails on its own
    text = out.stdout
    reason = "Connection refused"
    # once on the "could not inspect" line, once for INS001 (the rule that reports reachability)
    assert text.count(reason) <= 2, text
    blocked = [line for line in text.splitlines() if "could not be inspected" in line]
    assert len(blocked) == 1 and CLOSED in blocked[0]
    m = re.search(r"\((\d+) check\(s\) blocked: (.*)\)$", blocked[0])
    assert m and int(m.group(1)) >= 5 and "SSH001" in m.group(2), blocked[0]
    # the JSON keeps one finding per rule (the contract)
    data = json.loads(preflight(*unreachable_dest("--format", "json")).stdout)
    assert sum(1 for f in data["findings"] if f["status"] == "unknown") >= int(m.group(1))


def test_a_libvirt_that_does_not_answer_is_one_line(tmp_path: Path) -> None:
    preflight(*example_args(), "--save-facts", str(tmp_path))
    dest = json.loads((tmp_path / "destination.json").read_text())
    dest["libvirt"] = {**dest["libvirt"], "status": "error", "uri": "qemu:///system",
                       "error": "Failed to connect socket to '/run/libvirt/libvirt-sock-ro': Connection refused"}
    (tmp_path / "destination.json").write_text(json.dumps(dest))
    out = preflight("check", "--live", "guest1-rhel6-64", URI, "--concurrency", "12",
                    "--source-facts", str(tmp_path / "source.json"),
                    "--dest-facts", str(tmp_path / "destination.json")).stdout
    assert out.count("Failed to connect socket") == 1, out
    line = next(x for x in out.splitlines() if "did not answer" in x)
    assert line.lstrip().startswith("UNKNOWN destination libvirt") and "check(s) blocked" in line


def test_lines_wrapped_to_the_terminal_only() -> None:
    piped = preflight(*example_args()).stdout
    assert max(len(line) for line in piped.splitlines()) > 200  # a file or pipe: one line per finding
    tty = ptyrun.run(*example_args(), columns=70, env={"NO_COLOR": "1", "COLUMNS": "70"}, stderr_tty=False)
    assert tty.returncode == 1
    body = tty.tty.splitlines()
    assert all(len(line) <= 70 for line in body), [line for line in body if len(line) > 70]
    assert "NET001" in tty.tty and "LIM001" in tty.tty


def test_no_internal_keys_or_seed_in_messages() -> None:
    text = preflight(*example_args(), "-v").stdout
    assert not INTERNAL.search(text), INTERNAL.search(text)
    data = json.loads(preflight(*example_args(), "--format", "json").stdout)
    for f in data["findings"]:
        for key in ("message", "remediation"):
            assert not INTERNAL.search(f[key] or ""), (f["rule"], f[key])
        assert "seed" in f  # kept for compatibility
        if f["seed"]:
            assert f["reference"].startswith("the RHEL guide (Virtualization Deployment and Administration Guide")
            assert "seed" not in f["reference"]


def test_explain_is_plain_text_naming_the_guide() -> None:
    listing = preflight("rules").stdout.splitlines()
    ids = [line.split()[0] for line in listing if line.strip()]
    assert len(ids) > 20
    for rule in ids:
        out = preflight("explain", rule)
        assert out.returncode == 0
        assert "``" not in out.stdout and not re.search(r"\bseed\b", out.stdout, re.I), rule
    ssh = preflight("explain", "SSH001").stdout
    assert "Comes from: the RHEL guide (Virtualization Deployment and Administration Guide, live migration" in ssh


def test_check_advice_says_what_fix_writes() -> None:
    data = json.loads(preflight(*example_args(), "--format", "json").stdout)
    ssh = next(f for f in data["findings"] if f["rule"] == "SSH001" and f["status"] == "fail")
    fixed = json.loads(preflight("fix", *example_args()[1:], "--format", "json").stdout)
    written = [f["path"] for f in fixed["hosts"]["destination"]["files"] if "ssh" in f["path"]]
    assert written and all(path in ssh["remediation"] or "drop-in" in ssh["remediation"] for path in written)
    assert "`preflight fix` writes it" in ssh["remediation"]


@pytest.mark.parametrize("mode,env,coloured", [
    ("always", {}, True), ("never", {}, False), ("auto", {}, True), ("auto", {"NO_COLOR": "1"}, False),
])
def test_color_option_on_a_terminal(mode: str, env: dict[str, str], coloured: bool) -> None:
    run = ptyrun.run(*example_args(), "--color", mode, env=env, stderr_tty=False)
    assert run.returncode == 1
    assert bool(ANSI.search(run.tty)) is coloured


def test_color_always_reaches_a_pipe_and_auto_does_not() -> None:
    assert "\x1b[" in preflight(*example_args(), "--color", "always").stdout
    assert "\x1b[" not in preflight(*example_args(), "--color", "auto").stdout


def test_skip_hint_does_not_claim_image_mode_for_an_ssh_host(tmp_path: Path) -> None:
    preflight(*example_args(), "--save-facts", str(tmp_path))
    dest = json.loads((tmp_path / "destination.json").read_text())
    dest.update(mode="ssh", spec="ssh://host2.example.com")
    (tmp_path / "destination.json").write_text(json.dumps(dest))
    out = preflight("check", "--live", "guest1-rhel6-64", URI, "--concurrency", "12",
                    "--source-facts", str(tmp_path / "source.json"),
                    "--dest-facts", str(tmp_path / "destination.json")).stdout
    src_hint = [line for line in section(out, "Source") if "skipped" in line]
    dst_hint = [line for line in section(out, "Destination") if "skipped" in line]
    assert src_hint and "image mode" in src_hint[0]
    assert dst_hint and "image mode" not in dst_hint[0], dst_hint
