"""JUnit XML: parses, unique test names (rule + host + subject), every status represented as a CI
system counts it, repository paths for image-root files."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree as ET

from preflight.engine import Report
from preflight.model.facts import HostMode, HostSnapshot
from preflight.model.findings import Finding, Scope, Severity, Status
from preflight.model.plan import MigrationPlan
from preflight.report import machine
from tests.cli.test_cli import EXAMPLES, URI, example_args, preflight


def finding(status: Status, severity: Severity, host: Scope = Scope.DESTINATION, subject: str | None = None,
            file: str | None = None, line: int | None = None, rule: str = "LIM001") -> Finding:
    return Finding(rule=rule, name="client-slots", status=status, severity=severity, host=host,
                   message=f"{status.value} {severity.value}", file=file, line=line, remediation="raise it",
                   subject=subject)


def report(*findings: Finding, snapshots: dict[str, HostSnapshot] | None = None) -> Report:
    return Report(plan=MigrationPlan(guests=["g"], dest_uri=URI), findings=list(findings), snapshots=snapshots or {})


def cases(xml: str) -> list[ET.Element]:
    suite = ET.fromstring(xml)
    assert suite.tag == "testsuite"
    return suite.findall("testcase")


def test_names_are_unique_even_for_repeated_findings() -> None:
    xml = machine.to_junit(report(
        finding(Status.PASS, Severity.ERROR), finding(Status.SKIP, Severity.ERROR),  # same rule, host, no subject
        finding(Status.PASS, Severity.ERROR, host=Scope.SOURCE),
        finding(Status.PASS, Severity.ERROR, subject="virtqemud"),
        finding(Status.PASS, Severity.ERROR, subject="virtqemud"),
    ))
    names = [(c.get("classname"), c.get("name")) for c in cases(xml)]
    assert len(set(names)) == len(names) == 5, names
    assert ("preflight.destination.LIM001", "LIM001 client-slots [destination] #2") in names
    assert ("preflight.source.LIM001", "LIM001 client-slots [source]") in names
    assert ("preflight.destination.LIM001", "LIM001 client-slots [destination] virtqemud #2") in names


def test_the_example_parses_with_unique_names_and_consistent_counts() -> None:
    out = preflight(*example_args(), "--format", "junit")
    assert out.returncode == 1, out.stderr
    suite = ET.fromstring(out.stdout)
    found = suite.findall("testcase")
    names = Counter(c.get("name") for c in found)
    assert names and max(names.values()) == 1, [n for n, k in names.items() if k > 1]
    assert int(suite.get("tests", "-1")) == len(found)
    for tag, attr in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
        assert int(suite.get(attr, "-1")) == sum(c.find(tag) is not None for c in found), attr
    assert int(suite.get("failures", "0")) == 2
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["verdict"] == "not-ready"


def test_each_status_is_what_a_ci_counts() -> None:
    xml = machine.to_junit(report(
        finding(Status.FAIL, Severity.ERROR, subject="a"),
        finding(Status.FAIL, Severity.WARNING, subject="b"),
        finding(Status.UNKNOWN, Severity.ERROR, subject="c"),
        finding(Status.UNKNOWN, Severity.WARNING, subject="d"),
        finding(Status.SKIP, Severity.ERROR, subject="e"),
        finding(Status.PASS, Severity.ERROR, subject="f"),
    ))
    by = {c.get("name", "").rsplit(" ", 1)[1]: c for c in cases(xml)}
    fail = by["a"].find("failure")
    assert fail is not None and fail.get("message") == "fail error" and "Fix: raise it" in (fail.text or "")
    assert [child.tag for child in by["b"]] == ["system-out"] and "warning" in (by["b"][0].text or "")
    err = by["c"].find("error")
    assert err is not None and err.get("message", "").startswith("Could not tell")
    unk = by["d"].find("skipped")
    assert unk is not None and unk.get("message", "").startswith("Could not tell (warning)")
    assert by["e"].find("skipped") is not None
    assert list(by["f"]) == []
    suite = ET.fromstring(xml)
    assert (suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("1", "1", "2")


def test_image_root_files_are_repository_paths_and_live_files_name_the_host(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLES, repo / "images")
    args = ["check", "--live", "guest1-rhel6-64", URI, "--concurrency", "12",
            "--source", "images/host1", "--source-libvirt", f"test://{repo / 'images' / 'host1.xml'}",
            "--dest", "images/host2", "--dest-libvirt", f"test://{repo / 'images' / 'host2.xml'}"]
    out = preflight(*args, "--format", "junit", cwd=repo)
    files = {c.get("name", "").split()[0] + " " + c.get("name", "").split()[2]: c.get("file")
             for c in ET.fromstring(out.stdout).findall("testcase") if c.get("file")}
    assert files["SSH001 [destination]"] == "images/host2/etc/ssh/sshd_config"
    assert files["NET001 [source]"] == "images/host1/etc/hosts"
    assert all((repo / f).is_file() for f in files.values())
    live = HostSnapshot(role="destination", spec="ssh://root@host2.example.com", mode=HostMode.SSH)
    xml = machine.to_junit(report(finding(Status.FAIL, Severity.ERROR, file="/etc/libvirt/libvirtd.conf", line=7),
                                  snapshots={"destination": live}))
    case = cases(xml)[0]
    assert case.get("file") is None  # not a repository file: a CI system would link nothing
    failure = case.find("failure")
    assert failure is not None and "at destination:/etc/libvirt/libvirtd.conf:7" in (failure.text or "")


def test_a_host_that_could_not_be_inspected_is_named() -> None:
    down = HostSnapshot(role="destination", spec="ssh://root@host2.example.com", mode=HostMode.SSH,
                        reachable=False, unreachable_reason="ssh: connection refused")
    xml = machine.to_junit(report(finding(Status.FAIL, Severity.ERROR, rule="INS001"), snapshots={"destination": down}))
    props = {p.get("name"): p.get("value") for p in ET.fromstring(xml).iter("property")}
    assert props["host.destination.not-inspected"] == "ssh: connection refused"
    assert props["verdict"] == "not-ready"


def test_junit_follows_the_gate_policy() -> None:
    from preflight.model.findings import Waived

    warn = finding(Status.FAIL, Severity.WARNING, subject="w")
    unknown_warn = finding(Status.UNKNOWN, Severity.WARNING, subject="u")
    waived = finding(Status.FAIL, Severity.ERROR, subject="x")
    waived.waived = Waived(kind="config", reason="accepted: <risk> & co", origin="preflight.toml:3",
                           expires="2099-01-01")
    strict = report(warn, unknown_warn, waived)
    strict.fail_on = "unknown"  # warnings fail, warning UNKNOWNs too
    by = {c.get("name", "").rsplit(" ", 1)[1]: c for c in cases(machine.to_junit(strict))}
    assert by["w"].find("failure") is not None and by["u"].find("error") is not None
    skipped = by["x"].find("skipped")
    assert skipped is not None and by["x"].find("failure") is None
    assert skipped.get("message", "").startswith(
        "waived (config preflight.toml:3, until 2099-01-01): accepted: <risk> & co")
    default = report(warn, unknown_warn, waived)
    by = {c.get("name", "").rsplit(" ", 1)[1]: c for c in cases(machine.to_junit(default))}
    assert by["w"].find("failure") is None and by["u"].find("skipped") is not None
