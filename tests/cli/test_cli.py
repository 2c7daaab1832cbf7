"""The command line end to end on the built-in example: exit codes, JSON contract, replay."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[2]
EXAMPLES = TOP / "examples"
URI = "qemu+ssh://host2.example.com/system"


def preflight(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "preflight.cli", *args], capture_output=True, text=True,
                          cwd=cwd or TOP, timeout=120, env={"PATH": "/usr/sbin:/usr/bin:/bin", "NO_COLOR": "1"})


def example_args(root: Path = EXAMPLES, concurrency: int = 12) -> list[str]:
    return ["check", "--live", "guest1-rhel6-64", URI, "--concurrency", str(concurrency),
            "--source", str(root / "host1"), "--source-libvirt", f"test://{root / 'host1.xml'}",
            "--dest", str(root / "host2"), "--dest-libvirt", f"test://{root / 'host2.xml'}"]


def test_example_is_not_ready_with_the_seed_findings() -> None:
    out = preflight(*example_args())
    assert out.returncode == 1, out.stderr
    assert "NOT READY" in out.stdout.splitlines()[-1]
    assert "NET001" in out.stdout and "10.0.0.20  host2.example.com" in out.stdout
    assert "SSH001" in out.stdout and "MaxStartups" in out.stdout
    assert "\033[" not in out.stdout  # no colour when not on a terminal


def test_json_contract() -> None:
    out = preflight(*example_args(), "--format", "json")
    assert out.returncode == 1
    data = json.loads(out.stdout)
    assert data["verdict"] == "not-ready"
    keys = {"rule", "name", "status", "severity", "host", "message", "file", "line", "remediation"}
    for f in data["findings"]:
        assert keys <= f.keys()
        assert f["status"] in ("pass", "fail", "skip", "unknown")
        assert f["severity"] in ("error", "warning", "info")
        assert f["host"] in ("source", "destination", "pair")
    failed = {(f["rule"], f["host"]) for f in data["findings"] if f["status"] == "fail" and f["severity"] == "error"}
    assert failed == {("NET001", "source"), ("SSH001", "destination")}


def test_saved_snapshots_replay_identically(tmp_path: Path) -> None:
    live = preflight(*example_args(), "--format", "json", "--save-facts", str(tmp_path))
    replay = preflight("check", "--live", "guest1-rhel6-64", URI, "--concurrency", "12",
                       "--source-facts", str(tmp_path / "source.json"),
                       "--dest-facts", str(tmp_path / "destination.json"), "--format", "json")
    assert live.returncode == replay.returncode == 1
    assert json.loads(live.stdout)["findings"] == json.loads(replay.stdout)["findings"]


def test_fixed_example_is_ready(tmp_path: Path) -> None:
    root = tmp_path / "ex"
    shutil.copytree(EXAMPLES, root)
    with open(root / "host1/etc/hosts", "a") as fh:
        fh.write("10.0.0.20\thost2.example.com host2\n")
    sshd = root / "host2/etc/ssh/sshd_config"
    sshd.write_text(sshd.read_text().replace("#MaxStartups 10:30:100", "MaxStartups 14:30:100"))
    out = preflight(*example_args(root))
    assert out.returncode == 0, out.stdout
    assert out.stdout.splitlines()[-1].startswith("READY")


@pytest.mark.parametrize(
    "args, message",
    [
        (["check", "guest1"], "destination URI"),
        (["check", URI], "GUEST"),
        (["check", "g", URI, "--format", "xml"], "--format"),
        (["check", "g", URI, "--source", "/nonexistent/dir"], "--source"),
        (["check", "g", URI, "--tunnelled"], "--p2p"),
        (["check", "g", URI, "--concurrency", "0"], "concurrency"),
        (["check", "g", URI, "--source-facts", "/nonexistent.json", "--dest-facts", "/nonexistent.json"],
         "not a usable facts snapshot"),
        (["explain", "NOPE999"], "no rule"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    out = preflight(*args)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert message in out.stderr


def test_malformed_snapshot_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "s.json"
    bad.write_text('{"format_version": 99}')
    out = preflight("check", "g", URI, "--source-facts", str(bad), "--dest-facts", str(bad))
    assert out.returncode == 2 and "format_version" in out.stderr


def test_unreachable_destination_exits_3_with_reason() -> None:
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    out = preflight("check", "--live", "guest1-rhel6-64", "qemu+ssh://root@127.0.0.1:1/system",
                    "--source", str(EXAMPLES / "host1"), "--source-libvirt", f"test://{EXAMPLES / 'host1.xml'}",
                    "--timeout", "5")
    assert out.returncode == 3, out.stdout + out.stderr
    assert "UNKNOWN" in out.stdout.splitlines()[-1] and "READY" != out.stdout.split(":")[0]
    assert "INS001" in out.stdout and "refused" in out.stdout.lower()


def test_rules_and_explain() -> None:
    listing = preflight("rules")
    assert listing.returncode == 0 and "NET001" in listing.stdout and "sshd-max-startups" in listing.stdout
    assert "``" not in listing.stdout and "with --tls," in listing.stdout  # summaries as plain text, like explain
    doc = preflight("explain", "sshd-max-startups")
    assert doc.returncode == 0 and "Why it breaks a migration" in doc.stdout and "How to fix it" in doc.stdout


def test_sarif_and_junit() -> None:
    sarif = json.loads(preflight(*example_args(), "--format", "sarif").stdout)
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} >= {"NET001", "SSH001"}
    junit = preflight(*example_args(), "--format", "junit").stdout
    assert junit.startswith("<testsuite") and 'failures="2"' in junit


def test_odd_guest_name_is_reported_not_crashed() -> None:
    odd = "we'ird $(name) \"x\""
    out = preflight("check", "--live", odd, URI, "--format", "json",
                    "--source", str(EXAMPLES / "host1"), "--source-libvirt", f"test://{EXAMPLES / 'host1.xml'}",
                    "--dest", str(EXAMPLES / "host2"), "--dest-libvirt", f"test://{EXAMPLES / 'host2.xml'}")
    assert out.returncode == 1, out.stderr
    gst = [f for f in json.loads(out.stdout)["findings"] if f["rule"] == "GST001"]
    assert gst[0]["status"] == "fail" and "$(name)" in gst[0]["message"] and gst[0]["subject"] == odd


def test_text_hides_skips_unless_verbose() -> None:
    short = preflight(*example_args()).stdout
    assert "SKIP " not in short and "skipped (not available in image mode" in short
    assert "SKIP " in preflight(*example_args(), "-v").stdout


def test_select_and_ignore_rules() -> None:
    only_ssh = json.loads(preflight(*example_args(), "--format", "json", "--select", "SSH").stdout)
    assert {f["rule"] for f in only_ssh["findings"]} == {"SSH001", "SSH002", "SSH003"}
    out = preflight(*example_args(), "--ignore", "SSH001,NET001")
    assert out.returncode == 0 and out.stdout.splitlines()[-1].startswith("READY")  # only warnings left
    typo = preflight(*example_args(), "--select", "NETT")
    assert typo.returncode == 2 and "no rule matches NETT" in typo.stderr
