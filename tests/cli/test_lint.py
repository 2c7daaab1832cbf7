"""`preflight lint [SPEC ...]` (issue 9 item 1): hosts judged alone, against the declared capacity.

Real image roots (the built-in example and small ones written here), the real command line; an
unreachable ssh host is a real ssh to a closed port.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from tests.cli.test_sarif import validate, validate_for_github

TOP = Path(__file__).resolve().parents[2]
EXAMPLES = TOP / "examples"
PEERS = "host1.example.com,host2.example.com"


def preflight(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "preflight.cli", *args], capture_output=True, text=True,
                          cwd=cwd or TOP, timeout=120, env={"PATH": "/usr/sbin:/usr/bin:/bin", "NO_COLOR": "1"})


def lint_json(*args: str, cwd: Path | None = None) -> tuple[int, dict[str, Any]]:
    out = preflight("lint", "--format", "json", *args, cwd=cwd)
    assert out.stdout, out.stderr
    return out.returncode, json.loads(out.stdout)


def image(root: Path, name: str, addr: str, hosts: str = "", sshd: str = "MaxStartups 20:30:100\n",
          libvirtd: str = "max_clients = 50\nmax_workers = 50\n") -> Path:
    """A host image root: healthy for 12 concurrent migrations unless told otherwise."""
    for rel, text in {
        "etc/hostname": f"{name}\n",
        "etc/hosts": f"127.0.0.1 localhost\n{addr}\t{name} {name.split('.')[0]}\n{hosts}",
        "etc/ssh/sshd_config": sshd,
        "etc/libvirt/libvirtd.conf": libvirtd,
        "etc/libvirt/qemu.conf": "",
        "etc/os-release": 'ID="rhel"\nVERSION_ID="9.4"\n',
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def failing(data: dict[str, Any], spec: Path | str | None = None) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for f in data["findings"]:
        if f["status"] == "fail" and f["severity"] == "error" and (spec is None or f["spec"] == str(spec)):
            out.setdefault(f["rule"], []).append(f)
    return out


def test_one_golden_image_as_both_ends_never_asks_for_its_own_name() -> None:
    """examples/host1 alone, its own name among the peers: no NET001 about host1 (line 3 of its hosts)."""
    code, data = lint_json(str(EXAMPLES / "host1"), "--peer", "host1.example.com,host1", "--concurrency", "12",
                           "--no-config")
    net = [f for f in data["findings"] if f["rule"] == "NET001"]
    assert net and all(f["status"] == "skip" for f in net), net
    assert "this host itself" in net[0]["message"]
    assert data["hosts"][0]["peers_self"] == ["host1.example.com", "host1"]
    assert not any("host1" in (f["remediation"] or "") and f["rule"] == "NET001" for f in data["findings"])
    assert code == 1 and set(failing(data)) == {"SSH001"}  # the example's stock sshd: MaxStartups 10 < 12


def test_a_real_peer_is_judged_and_the_fix_names_only_the_peer(tmp_path: Path) -> None:
    h1 = image(tmp_path / "h1", "host1.example.com", "10.0.0.10", "10.0.0.20\thost2.example.com host2\n")
    code, data = lint_json(str(h1), "--peer", PEERS, "--concurrency", "12", "--no-config")
    net = [f for f in data["findings"] if f["rule"] == "NET001"]
    assert [(f["subject"], f["status"]) for f in net] == [("host2.example.com", "pass")]
    assert code == 0 and data["verdict"] == "ready", failing(data)


def test_a_broken_image_fails_with_the_rules_that_explain_it(tmp_path: Path) -> None:
    bad = image(tmp_path / "bad", "host3.example.com", "10.0.0.30", "127.0.0.1\thost2.example.com\n",
                sshd="MaxStartups 5:30:10\n", libvirtd="max_clients = 5\nmax_anonymous_clients = 20\n")
    code, data = lint_json(str(bad), "--peer", f"{PEERS}", "--concurrency", "12", "--no-config")
    fails = failing(data)
    assert code == 1 and data["verdict"] == "not-ready"
    assert "DMN002" in fails and fails["DMN002"][0]["subject"] == "max_anonymous_clients"
    assert "LIM001" in fails and "SSH001" in fails
    by_peer = {f["subject"]: f["message"] for f in fails["NET001"]}
    assert "loopback" in by_peer["host2.example.com"]  # the loopback entry
    assert "no entry" in by_peer["host1.example.com"]  # the missing one
    assert {f["host"] for f in fails["SSH001"]} == {"destination"}


def test_several_specs_in_one_run_each_judged_and_named(tmp_path: Path) -> None:
    good = image(tmp_path / "good", "host1.example.com", "10.0.0.10", "10.0.0.20\thost2.example.com\n")
    bad = image(tmp_path / "bad", "host2.example.com", "10.0.0.20", "10.0.0.10\thost1.example.com\n",
                sshd="MaxStartups 3\n")
    args = (str(good), str(bad), "--peer", PEERS, "--concurrency", "12", "--no-config")
    code, data = lint_json(*args)
    assert code == 1
    assert [h["spec"] for h in data["hosts"]] == [str(good), str(bad)]
    assert [h["verdict"] for h in data["hosts"]] == ["ready", "not-ready"]
    assert set(failing(data, bad)) == {"SSH001"} and not failing(data, good)
    sarif = json.loads(preflight("lint", *args, "--format", "sarif", cwd=tmp_path).stdout)
    validate_for_github(sarif)
    assert sarif["runs"][0]["invocations"][0]["workingDirectory"]["uri"].startswith("file://")
    results = sarif["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results
            if r["ruleId"] == "SSH001"] == ["bad/etc/ssh/sshd_config"]
    prints = [r["partialFingerprints"] for r in results]
    assert len({json.dumps(p) for p in prints}) == len(prints)
    junit = ET.fromstring(preflight("lint", *args, "--format", "junit").stdout)
    cases = [(c.get("classname"), c.get("name")) for c in junit.iter("testcase")]
    assert len(cases) == len(set(cases)) and junit.get("failures") == "1"
    text = preflight("lint", *args).stdout
    assert text.index(str(good)) < text.index(str(bad)) and "NOT READY: lint of 2 host(s), 1 not ready" in text


def test_an_unreachable_ssh_spec_is_exit_3_while_the_others_are_judged(tmp_path: Path) -> None:
    good = image(tmp_path / "good", "host1.example.com", "10.0.0.10", "10.0.0.20\thost2.example.com\n")
    code, data = lint_json(str(good), "ssh://root@127.0.0.1:1", "--peer", PEERS, "--concurrency", "12",
                           "--no-config", "--timeout", "5")
    assert code == 3 and data["verdict"] == "unknown"
    assert [h["reachable"] for h in data["hosts"]] == [True, False]
    ins = [f for f in data["findings"] if f["rule"] == "INS001"]
    assert [f["spec"] for f in ins] == ["ssh://root@127.0.0.1:1"] and ins[0]["status"] == "unknown"
    judged = [f for f in data["findings"] if f["spec"] == str(good) and f["status"] == "pass"]
    assert {"SSH001", "LIM001", "NET001"} <= {f["rule"] for f in judged}
    sarif = json.loads(preflight("lint", str(good), "ssh://root@127.0.0.1:1", "--peer", PEERS, "--no-config",
                                 "--timeout", "5", "--format", "sarif").stdout)
    validate(sarif)
    assert sarif["runs"][0]["invocations"][0]["executionSuccessful"] is False


def test_settings_come_from_the_config_and_the_command_line_wins(tmp_path: Path) -> None:
    image(tmp_path / "img", "host1.example.com", "10.0.0.10", sshd="MaxStartups 14:30:100\n")
    (tmp_path / "preflight.toml").write_text('concurrency = 12\npeers = ["host1.example.com"]\n')
    code, data = lint_json("img", cwd=tmp_path)
    host = data["hosts"][0]
    assert (host["concurrency"], host["concurrency_from"]) == (12, "preflight.toml")
    assert host["peers_self"] == ["host1.example.com"] and code == 0
    code, data = lint_json("img", "--concurrency", "20", cwd=tmp_path)
    assert data["hosts"][0]["concurrency_from"] == "--concurrency" and code == 1
    assert set(failing(data)) == {"SSH001"}  # 20 migrations, MaxStartups 14


def test_without_a_concurrency_the_default_is_said(tmp_path: Path) -> None:
    img = image(tmp_path / "img", "host1.example.com", "10.0.0.10")
    _, data = lint_json(str(img), "--no-config")
    host = data["hosts"][0]
    assert host["concurrency"] == 10 and host["concurrency_from"].startswith("default")
    assert "10 concurrent migration(s) (default" in preflight("lint", str(img), "--no-config").stdout
    net = [f for f in data["findings"] if f["rule"] == "NET001"]
    assert [f["status"] for f in net] == ["skip"] and "no peers named" in net[0]["message"]


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    img = image(tmp_path / "img", "host1.example.com", "10.0.0.10")
    for args in (["--select", "GST"], ["--peer", "bad name"], ["--select", "NOPE"]):
        out = preflight("lint", str(img), "--no-config", *args)
        assert out.returncode == 2 and out.stderr.startswith("preflight: error:"), (args, out.stderr)
    assert preflight("lint", "--no-config", cwd=tmp_path).returncode == 2  # no spec, no [[paths]]
    assert preflight("lint", str(tmp_path / "missing"), "--no-config").returncode == 2


def test_select_narrows_lint_to_those_rules(tmp_path: Path) -> None:
    img = image(tmp_path / "img", "host1.example.com", "10.0.0.10", sshd="MaxStartups 2\n")
    code, data = lint_json(str(img), "--no-config", "--select", "SSH001")
    assert {f["rule"] for f in data["findings"]} <= {"SSH001", "INS001"} and code == 1


def test_github_annotations_point_into_the_repo(tmp_path: Path) -> None:
    bad = image(tmp_path / "images" / "h2", "host2.example.com", "10.0.0.20", sshd="MaxStartups 2\n")
    out = preflight("lint", str(bad), "--no-config", "--format", "github", cwd=tmp_path)
    lines = out.stdout.splitlines()
    assert any(line.startswith("::error file=images/h2/etc/ssh/sshd_config,line=1,title=SSH001") for line in lines)
    assert lines[-1].startswith("NOT READY: lint of 1 host(s)")


def test_the_example_images_are_untouched() -> None:
    """Nothing above writes into examples/ (lint only reads)."""
    assert not shutil.which("git") or subprocess.run(
        ["git", "status", "--porcelain", "--", "examples"], cwd=TOP, capture_output=True, text=True).stdout == ""


def repo(tmp_path: Path, toml: str) -> Path:
    """A repository of image roots with a config file: h1 healthy, h2 with sshd's MaxStartups 4."""
    image(tmp_path / "images" / "h1", "host1.example.com", "10.0.0.10", "10.0.0.20\thost2.example.com\n")
    image(tmp_path / "images" / "h2", "host2.example.com", "10.0.0.20", "10.0.0.10\thost1.example.com\n",
          sshd="MaxStartups 4\n")
    (tmp_path / "preflight.toml").write_text(
        'concurrency = 12\npeers = ["host1.example.com", "host2.example.com"]\n'
        '[[paths]]\nroot = "images/h1"\n[[paths]]\nroot = "images/h2"\n' + toml)
    return tmp_path


def test_a_waived_finding_does_not_fail_the_gate_and_an_unused_waiver_is_reported(tmp_path: Path) -> None:
    top = repo(tmp_path, '[[waivers]]\nrule = "SSH001"\nhost = "images/h2"\nreason = "one migration at a time there"\n'
                         '[[waivers]]\nrule = "SSH002"\nhost = "images/h1"\nreason = "stale"\n')
    out = preflight("lint", "--format", "json", "--output-format", "sarif:out.sarif", "--output-format",
                    "junit:out.xml", cwd=top)  # no SPEC: the config's [[paths]] roots
    data = json.loads(out.stdout)
    assert out.returncode == 0 and data["verdict"] == "ready", out.stderr
    assert [h["spec"] for h in data["hosts"]] == [str(top / "images/h1"), str(top / "images/h2")]
    ssh = [f for f in data["findings"] if f["rule"] == "SSH001" and f["status"] == "fail"]
    assert len(ssh) == 1 and ssh[0]["waived"]["reason"] == "one migration at a time there"
    assert [n["kind"] for n in data["notes"]] == ["unused-waiver"] and "SSH002" in data["notes"][0]["message"]
    assert "SSH002" in out.stderr and "SSH001" not in out.stderr  # the notes, on stderr
    validate(json.loads((top / "out.sarif").read_text()))
    assert ET.parse(top / "out.xml").getroot().tag == "testsuites"


def test_an_expired_waiver_fails_the_gate_again(tmp_path: Path) -> None:
    top = repo(tmp_path, '[[waivers]]\nrule = "SSH001"\nhost = "images/h2"\nreason = "old"\nexpires = 2020-01-01\n')
    code, data = lint_json(cwd=top)
    assert code == 1 and set(failing(data)) == {"SSH001"}
    assert [n["kind"] for n in data["notes"]] == ["expired-waiver"]


def test_paths_settings_win_over_the_top_level_and_fail_on_warning(tmp_path: Path) -> None:
    top = repo(tmp_path, "")
    (top / "preflight.toml").write_text((top / "preflight.toml").read_text().replace(
        'root = "images/h2"\n', 'root = "images/h2"\nconcurrency = 2\n'))
    code, data = lint_json(cwd=top)
    conc = {h["spec"].rsplit("/", 1)[1]: (h["concurrency"], h["concurrency_from"]) for h in data["hosts"]}
    assert conc["h1"] == (12, "preflight.toml") and conc["h2"][0] == 2 and "[[paths]]" in conc["h2"][1]
    assert code == 0  # MaxStartups 4 holds 2 migrations
    img = image(tmp_path / "w", "host1.example.com", "10.0.0.10", libvirtd="max_clients = 20\n")
    code, data = lint_json(str(img), "--no-config", "--concurrency", "12")
    assert code == 0 and any(f["rule"] == "LIM001" and f["severity"] == "warning" for f in data["findings"]
                             if f["status"] == "fail")
    code, _ = lint_json(str(img), "--no-config", "--concurrency", "12", "--fail-on", "warning")
    assert code == 1


def test_sarif_fingerprints_do_not_depend_on_where_the_repo_is_checked_out(tmp_path: Path) -> None:
    prints = []
    for checkout in ("a", "b"):
        top = repo(tmp_path / checkout, "")
        out = preflight("lint", "--format", "sarif", "--concurrency", "30", cwd=top)
        results = json.loads(out.stdout)["runs"][0]["results"]
        assert results, out.stderr
        prints.append(sorted(r["partialFingerprints"]["preflightFinding/v1"] for r in results))
    assert prints[0] == prints[1]


def test_the_same_finding_on_two_hosts_has_two_fingerprints(tmp_path: Path) -> None:
    """Two golden images with the same fault: code scanning must see two alerts, not one."""
    one = image(tmp_path / "one", "host2.example.com", "10.0.0.20", "10.0.0.10\thost1.example.com\n",
                sshd="MaxStartups 3\n")
    two = image(tmp_path / "two", "host2.example.com", "10.0.0.20", "10.0.0.10\thost1.example.com\n",
                sshd="MaxStartups 3\n")
    sarif = json.loads(preflight("lint", str(one), str(two), "--peer", PEERS, "--concurrency", "12", "--no-config",
                                 "--format", "sarif", cwd=tmp_path).stdout)
    prints = [json.dumps(r["partialFingerprints"]) for r in sarif["runs"][0]["results"] if r["ruleId"] == "SSH001"]
    assert len(prints) == 2 and prints[0] != prints[1]
