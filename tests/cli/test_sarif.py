"""SARIF output against the official OASIS SARIF 2.1.0 schema (vendored: tests/cli/data/, from
oasis-tcs/sarif-spec sarif-2.1/schema/sarif-schema-2.1.0.json, errata01), validated with jsonschema."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from preflight.model.facts import HostMode, HostSnapshot
from preflight.report import sarif
from tests.cli.test_cli import EXAMPLES, TOP, URI, example_args, preflight

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())


def validate(doc: dict[str, Any]) -> None:
    jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER).validate(doc)


def run_sarif(*args: str, cwd: Path | None = None) -> dict[str, Any]:
    out = preflight(*args, "--format", "sarif", cwd=cwd)
    assert out.returncode in (0, 1, 3), out.stderr
    doc: dict[str, Any] = json.loads(out.stdout)
    return doc


def test_example_validates_and_has_no_empty_region() -> None:
    doc = run_sarif(*example_args())
    validate(doc)  # failed before: "region": {} for a finding with no line
    results = doc["runs"][0]["results"]
    assert results
    for r in results:
        phys = r["locations"][0].get("physicalLocation")
        if phys is not None and "region" in phys:
            assert phys["region"]["startLine"] >= 1


def test_a_bare_empty_region_is_what_the_schema_refuses() -> None:
    # Proves the validator is strict enough to have caught the old output.
    doc = run_sarif(*example_args())
    res = doc["runs"][0]["results"][0]
    res["locations"] = [{"physicalLocation": {"artifactLocation": {"uri": "etc/hosts"}, "region": {}}}]
    with pytest.raises(jsonschema.ValidationError):
        validate(doc)


def test_image_root_uris_resolve_to_files_in_the_repo_per_host(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLES, repo / "images")
    args = ["check", "--live", "guest1-rhel6-64", URI, "--concurrency", "12",
            "--source", "images/host1", "--source-libvirt", f"test://{repo / 'images' / 'host1.xml'}",
            "--dest", "images/host2", "--dest-libvirt", f"test://{repo / 'images' / 'host2.xml'}"]
    doc = run_sarif(*args, cwd=repo)
    validate(doc)
    run = doc["runs"][0]
    base = run["originalUriBaseIds"]["SRCROOT"]["uri"]
    assert base == (repo.as_uri() + "/")
    seen: dict[str, set[str]] = {}
    for r in run["results"]:
        loc = r["locations"][0]
        role = r["properties"]["host"]
        assert loc["logicalLocations"][0]["name"].split("/")[0] == role
        phys = loc.get("physicalLocation")
        if phys is None:
            continue
        art = phys["artifactLocation"]
        assert art["uriBaseId"] == "SRCROOT" and not art["uri"].startswith("/")
        assert (repo / art["uri"]).is_file(), art["uri"]
        seen.setdefault(role, set()).add(art["uri"].split("/")[1])
    assert seen == {"source": {"host1"}, "destination": {"host2"}}


def test_live_hosts_get_distinct_file_uris() -> None:
    local = HostSnapshot(role="source", spec="local", mode=HostMode.LOCAL)
    remote = HostSnapshot(role="destination", spec="ssh://root@host2.example.com:2222", mode=HostMode.SSH)
    assert sarif.artifact(local, "/etc/hosts") == {"uri": "file:///etc/hosts"}
    assert sarif.artifact(remote, "/etc/hosts") == {"uri": "file://host2.example.com/etc/hosts"}
    v6 = HostSnapshot(role="destination", spec="ssh://[fd00::2]", mode=HostMode.SSH)
    assert sarif.artifact(v6, "/etc/ssh/sshd_config")["uri"] == "file://[fd00::2]/etc/ssh/sshd_config"


def test_could_not_inspect_is_not_a_clean_run() -> None:
    doc = run_sarif("check", "--live", "guest1-rhel6-64", "qemu+ssh://root@127.0.0.1:1/system",
                    "--source", str(EXAMPLES / "host1"), "--source-libvirt", f"test://{EXAMPLES / 'host1.xml'}",
                    "--timeout", "5")
    validate(doc)
    run = doc["runs"][0]
    inv = run["invocations"][0]
    assert inv["executionSuccessful"] is False and inv["exitCode"] == 3
    assert inv["toolExecutionNotifications"][0]["level"] == "error"
    assert run["results"], "a run that could not see the destination listed nothing"
    ids = {r["ruleId"] for r in run["results"]}
    assert "INS001" in ids or "SSH003" in ids
    for r in run["results"]:
        if r["properties"]["status"] == "unknown":
            assert r["kind"] == "open" and r["level"] == "none"


def test_every_rule_is_described() -> None:
    from preflight.rules import ALL_RULES

    doc = run_sarif(*example_args())
    rules = {r["id"]: r for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    assert set(rules) == {r.ID for r in ALL_RULES} and "INS001" in rules
    for r in rules.values():
        assert r["shortDescription"]["text"] and r["fullDescription"]["text"] and r["help"]["text"]
    for res in doc["runs"][0]["results"]:
        assert res["ruleId"] in rules


def test_fingerprints_are_stable_and_distinct() -> None:
    first = run_sarif(*example_args())["runs"][0]["results"]
    second = run_sarif(*example_args())["runs"][0]["results"]
    prints = [r["partialFingerprints"]["preflightFinding/v1"] for r in first]
    assert prints == [r["partialFingerprints"]["preflightFinding/v1"] for r in second]
    assert len(set(prints)) == len(prints)
    assert TOP.is_dir()
