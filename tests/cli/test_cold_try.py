"""Problems found by trying the CLI cold, as a new operator would (copies of the example image roots,
test:// libvirt models, hostile input); each test failed before its fix.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

TOP = Path(__file__).resolve().parents[2]
EXAMPLES = TOP / "examples"
DEST = "qemu+ssh://host2.example.com/system"


def preflight(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "preflight.cli", *args], capture_output=True, text=True,
                          cwd=cwd or TOP, timeout=120, env={"PATH": "/usr/sbin:/usr/bin:/bin", "NO_COLOR": "1"})


def guests_xml(path: Path, names: list[str]) -> Path:
    """A test:// model of host1 running ``names`` (copies of the example's guest)."""
    src = (EXAMPLES / "host1.xml").read_text()
    domain = re.search(r"<domain.*?</domain>", src, re.S)
    assert domain is not None
    doms = [domain.group(0).replace("guest1-rhel6-64</name>", f"{n}</name>", 1)
            .replace("1d2b3e4f5a61", f"1d2b3e4f{i:04x}").replace("52:54:00:6b:3c:58", f"52:54:00:6b:3c:{i:02x}")
            for i, n in enumerate(names)]
    path.write_text("<node>\n" + "\n".join(doms) + "\n</node>\n")
    return path


def pair(tmp_path: Path) -> tuple[Path, Path]:
    """Copies of the example roots, host1 resolving host2 (NET001 passes)."""
    import shutil

    h1, h2 = tmp_path / "host1", tmp_path / "host2"
    shutil.copytree(EXAMPLES / "host1", h1)
    shutil.copytree(EXAMPLES / "host2", h2)
    with (h1 / "etc/hosts").open("a") as f:
        f.write("10.0.0.20 host2.example.com\n")
    return h1, h2


def check_json(*args: str) -> tuple[int, dict[str, Any]]:
    out = preflight("check", "--format", "json", *args)
    assert out.stdout, out.stderr
    return out.returncode, json.loads(out.stdout)


def test_all_running_counts_every_running_guest_as_concurrent(tmp_path: Path) -> None:
    """`check --all-running` with 12 running guests and no --concurrency: the default concurrency is
    the number of guests (README), so host2's MaxStartups 10 fails SSH001 as it does when the 12 are
    named; it was judged as 1 migration and said READY."""
    h1, h2 = pair(tmp_path)
    xml = guests_xml(tmp_path / "h1.xml", [f"g{i}" for i in range(12)])
    hosts = ["--source", str(h1), "--source-libvirt", f"test://{xml}",
             "--dest", str(h2), "--dest-libvirt", f"test://{EXAMPLES / 'host2.xml'}"]
    named_rc, named = check_json("--live", *[f"g{i}" for i in range(12)], DEST, *hosts)
    rc, data = check_json("--live", "--all-running", DEST, *hosts)
    assert named_rc == 1 and any(f["rule"] == "SSH001" and f["status"] == "fail" for f in named["findings"])
    ssh001 = [f for f in data["findings"] if f["rule"] == "SSH001"]
    assert [f["status"] for f in ssh001] == ["fail"], ssh001
    assert ssh001[0]["evidence"]["concurrent"] == 12
    assert rc == 1 and data["verdict"] == "not-ready"


def help_text(*command: str) -> str:
    out = subprocess.run([sys.executable, "-m", "preflight.cli", *command, "--help"], capture_output=True, text=True,
                         cwd=TOP, timeout=60, env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "COLUMNS": "250"})
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_baseline_help_names_the_waivers_table() -> None:
    """rich reads `[[waivers]]` as markup: `baseline --help` printed "(TOML, [])"."""
    assert "(TOML, [[waivers]])" in help_text("baseline")


@pytest.mark.parametrize("command", ["check", "lint", "baseline", "fix"])
def test_config_help_names_the_pyproject_table(command: str) -> None:
    """rich ate `[tool.preflight]` as markup: --config's help said "preflight.toml, or  in pyproject.toml"."""
    assert "preflight.toml, or [tool.preflight] in pyproject.toml" in help_text(command)


def test_config_peer_that_is_not_a_host_name_names_file_and_line(tmp_path: Path) -> None:
    """`peers = ["-oProxy"]` in preflight.toml is refused as --peer is, with the config's file:line
    (README: bad values name file:line); it was an error naming no file."""
    h1, _ = pair(tmp_path)
    (tmp_path / "preflight.toml").write_text('concurrency = 2\npeers = ["host2.example.com", "-oProxy"]\n')
    out = preflight("lint", str(h1), cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    where = tmp_path / "preflight.toml"
    assert out.stderr.startswith(f"preflight: error: {where}:2: peers: '-oProxy': not a host name"), out.stderr


def test_config_two_paths_entries_for_one_root_is_an_error(tmp_path: Path) -> None:
    """Two [[paths]] entries for the same root (written two ways): the second's concurrency = 50 was
    silently ignored (the first won) and the root linted twice at 10, READY; now exit 2 naming both lines."""
    pair(tmp_path)
    (tmp_path / "preflight.toml").write_text('[[paths]]\nroot = "host1"\n\n[[paths]]\nroot = "./host1/"\n'
                                             'concurrency = 50\n')
    out = preflight("lint", cwd=tmp_path)
    where = tmp_path / "preflight.toml"
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.startswith(f"preflight: error: {where}:4: [[paths]] root {tmp_path / 'host1'} is already "
                                 f"configured at {where}:1"), out.stderr


def test_lint_verdict_line_does_not_call_an_unreachable_host_not_ready(tmp_path: Path) -> None:
    """An image root that passes and an ssh host that cannot be reached: the verdict is UNKNOWN, and the
    line said "1 not ready" (the host was not judged at all); it counts it as unknown."""
    h1, _ = pair(tmp_path)
    out = preflight("lint", str(h1), "ssh://root@127.0.0.1:1", "--timeout", "5", "-q", cwd=tmp_path)
    assert out.returncode == 3, out.stdout + out.stderr
    assert out.stdout.startswith("UNKNOWN: lint of 2 host(s), 0 not ready, 1 unknown host(s) — "), out.stdout


def test_test_uri_naming_a_non_xml_file_does_not_print_its_content(tmp_path: Path) -> None:
    """`--source-libvirt test:///etc/shadow` (or preflight_libvirt in an inventory): libvirt's error quoted
    the file's first line (root's password hash) in every report; only libvirt's first line is kept."""
    h1, h2 = pair(tmp_path)
    secret = tmp_path / "secret"
    secret.write_text("root:$6$SECRET-HASH-42:20000:0:99999:7:::\n")
    for fmt in ("text", "json"):
        out = preflight("check", "--live", "guest1-rhel6-64", DEST, "--source", str(h1), "--source-libvirt",
                        f"test://{secret}", "--dest", str(h2), "--dest-libvirt", f"test://{EXAMPLES / 'host2.xml'}",
                        "--format", fmt)
        assert out.returncode == 3, out.stdout + out.stderr
        assert f"{secret}:1: Start tag expected" in out.stdout
        assert "SECRET-HASH" not in out.stdout + out.stderr


def test_a_world_writable_config_found_upward_is_refused(tmp_path: Path) -> None:
    """A preflight.toml that anyone may rewrite (mode 0666, even if ours) could waive every finding: the
    upward search refuses it as it refuses one planted by another user; --config still uses it."""
    from preflight.config import ConfigError, load_config

    config = tmp_path / "preflight.toml"
    config.write_text('[[waivers]]\nrule = "SSH001"\nreason = "rewritten by anyone"\n')
    config.chmod(0o644)
    assert load_config(None, tmp_path).waivers[0].reason == "rewritten by anyone"
    config.chmod(0o666)
    with pytest.raises(ConfigError, match="world-writable: not used .*--config FILE"):
        load_config(None, tmp_path)
    assert load_config(config, tmp_path).waivers[0].reason == "rewritten by anyone"


def test_inline_suppression_naming_no_rule_is_reported(tmp_path: Path) -> None:
    """`# preflight: ignore-file[SSH01] ...` (a typo) left SSH001 failing with no word why; it is now a
    warning naming the comment's file:line. The note for a missing reason quotes ignore-file as written
    (it said `ignore[...]`)."""
    h1, h2 = pair(tmp_path)
    with (h2 / "etc/ssh/sshd_config").open("a") as f:
        f.write("# preflight: ignore-file[SSH01] ticket OPS-1\n# preflight: ignore-file[SSH001]\n")
    lines = len((h2 / "etc/ssh/sshd_config").read_text().splitlines())
    out = preflight("check", "--live", "guest1-rhel6-64", DEST, "--concurrency", "12", "--source", str(h1),
                    "--source-libvirt", f"test://{EXAMPLES / 'host1.xml'}", "--dest", str(h2), "--dest-libvirt",
                    f"test://{EXAMPLES / 'host2.xml'}")
    assert out.returncode == 1, out.stdout + out.stderr
    where = h2 / "etc/ssh/sshd_config"
    assert (f"preflight: warning: {where}:{lines - 1}: `preflight: ignore-file[SSH01]` names no rule 'SSH01' "
            "(`preflight rules` lists them)") in out.stderr.splitlines(), out.stderr
    assert (f"preflight: warning: {where}:{lines}: `preflight: ignore-file[SSH001]` without a reason is not applied; "
            "say why after the bracket (# preflight: ignore-file[SSH001] why)") in out.stderr.splitlines(), out.stderr


def test_remediation_commands_quote_names_from_the_guest_xml(tmp_path: Path) -> None:
    """Guest and network names come from the (hostile) source's XML; the fix commands printed for a person
    to copy pasted them raw: `virsh detach-device x $(id) ;y HOSTDEV.xml --live` ran `id` when copied.
    Each is now one shell word (GST002, GST004, NET004; GST003 and GST010 build theirs the same way)."""
    h1, h2 = pair(tmp_path)
    src = (EXAMPLES / "host1.xml").read_text()
    domain = re.search(r"<domain.*?</domain>", src, re.S)
    assert domain is not None
    hostile = domain.group(0).replace("guest1-rhel6-64</name>", "x $(id) ;y</name>").replace(
        "</devices>", "<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' "
        "bus='0x06' slot='0x00' function='0x0'/></source></hostdev><interface type='network'><source "
        "network='n $(id)'/></interface></devices>")
    stopped = domain.group(0).replace("guest1-rhel6-64</name>", "off $(id)</name>").replace(
        "1d2b3e4f5a61", "1d2b3e4f5a62").replace("52:54:00:6b:3c:58", "52:54:00:6b:3c:59").replace(
        "<domain type='kvm'>", "<domain type='kvm' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>"
        "<test:runstate>5</test:runstate>")
    xml = tmp_path / "h1.xml"
    xml.write_text(f"<node>\n{hostile}\n{stopped}\n</node>\n")
    rc, data = check_json("--live", "x $(id) ;y", "off $(id)", DEST, "--source", str(h1), "--source-libvirt",
                          f"test://{xml}", "--dest", str(h2), "--dest-libvirt", f"test://{EXAMPLES / 'host2.xml'}")
    assert rc == 1
    fixes = {f["rule"]: f["remediation"] for f in data["findings"] if f["status"] == "fail"}
    assert "virsh detach-device 'x $(id) ;y' HOSTDEV.xml --live" in fixes["GST004"]
    assert "virsh start 'off $(id)'" in fixes["GST002"] and "> 'off $(id).xml'" in fixes["GST002"]
    assert "virsh net-define 'n $(id).xml'; virsh net-start 'n $(id)'" in fixes["NET004"]


@pytest.mark.parametrize("option", ["--output", "--output-format"])
def test_report_written_over_a_saved_snapshot_is_a_usage_error(tmp_path: Path, option: str) -> None:
    """`--save-facts DIR --output-format json:DIR/source.json`: the report silently replaced the saved
    snapshot (a later --source-facts DIR/source.json was then refused); like a path written twice by
    --output-format, it is exit 2 before any host is read, and nothing is written."""
    h1, h2 = pair(tmp_path)
    facts = tmp_path / "facts"
    facts.mkdir()
    where = str(facts / "source.json")
    out = preflight("check", "--live", "guest1-rhel6-64", DEST, "--source", str(h1), "--source-libvirt",
                    f"test://{EXAMPLES / 'host1.xml'}", "--dest", str(h2), "--dest-libvirt",
                    f"test://{EXAMPLES / 'host2.xml'}", "--save-facts", str(facts),
                    option, where if option == "--output" else f"json:{where}")
    assert out.returncode == 2, out.stdout + out.stderr
    assert "written twice" in out.stderr or "--save-facts" in out.stderr, out.stderr
    assert list(facts.iterdir()) == []


@pytest.mark.parametrize("where", ["preflight.toml", "baseline.toml"])
def test_deeply_nested_toml_is_a_config_error_not_an_internal_error(tmp_path: Path, where: str) -> None:
    """`x = [[[[...]]]]` 5000 deep: tomllib recursed past Python's limit and the run ended as an internal
    error (exit 4); it is a bad config (or baseline) file, exit 2 naming it."""
    h1, _ = pair(tmp_path)
    (tmp_path / where).write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    out = preflight("lint", str(h1), *(["--baseline", where] if where == "baseline.toml" else []), cwd=tmp_path)
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr == f"preflight: error: {tmp_path / where if where == 'preflight.toml' else where}: not valid " \
                         "TOML for preflight: arrays or tables nested too deeply\n"


def test_baseline_expiring_in_the_past_is_a_usage_error(tmp_path: Path) -> None:
    """`baseline --expires 2020-01-01` wrote waivers that had already expired (never applied, each reported
    as expired on every later run): a date before today is a usage error and nothing is written."""
    h1, h2 = pair(tmp_path)
    out = preflight("baseline", "--live", "guest1-rhel6-64", DEST, "--concurrency", "12", "--source", str(h1),
                    "--source-libvirt", f"test://{EXAMPLES / 'host1.xml'}", "--dest", str(h2), "--dest-libvirt",
                    f"test://{EXAMPLES / 'host2.xml'}", "-o", "b.toml", "--expires", "2020-01-01", cwd=tmp_path)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "--expires 2020-01-01" in out.stderr and "past" in out.stderr, out.stderr
    assert not (tmp_path / "b.toml").exists()
