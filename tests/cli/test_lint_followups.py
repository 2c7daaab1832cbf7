"""`preflight lint` follow-ups from a cold try; each test failed before its fix.

Real image roots and the real command line; ssh specs are real ssh to a closed port.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.cli.test_lint import EXAMPLES, image, lint_json, preflight
from tests.cli.test_sarif import validate

PEER = "host2.example.com"


def test_one_image_root_named_three_ways_is_judged_once_and_a_note_says_so(tmp_path: Path) -> None:
    """`lint host1 ./host1/ link` (link -> host1): one host, its findings once; the note names all three."""
    shutil.copytree(EXAMPLES / "host1", tmp_path / "host1")
    (tmp_path / "link").symlink_to("host1")
    code, data = lint_json("host1", "./host1/", "link", "--peer", PEER, "--no-config", cwd=tmp_path)
    assert [h["spec"] for h in data["hosts"]] == [str(tmp_path / "host1")]
    assert len([f for f in data["findings"] if f["rule"] == "NET001" and f["status"] == "fail"]) == 1
    notes = [n for n in data["notes"] if n["kind"] == "same-host"]
    assert len(notes) == 1 and all(s in notes[0]["message"] for s in ("'host1'", "'./host1/'", "'link'"))
    assert "judged once, as 'host1'" in notes[0]["message"]
    assert code == 1
    text = preflight("lint", "host1", "link", "--peer", PEER, "--no-config", cwd=tmp_path)
    assert "preflight: note: 'host1', 'link' name the same host" in text.stderr
    assert "lint of 1 host(s)" in text.stdout
    sarif = json.loads(preflight("lint", "host1", "link", "--peer", PEER, "--no-config", "--format", "sarif",
                                 cwd=tmp_path).stdout)
    validate(sarif)
    notes = sarif["runs"][0]["invocations"][0]["toolConfigurationNotifications"]
    assert [n["properties"]["kind"] for n in notes] == ["same-host"]


def test_two_distinct_image_roots_stay_two_hosts(tmp_path: Path) -> None:
    """Two copies of one image are two hosts (real paths differ): both judged, no same-host note."""
    for d in ("a", "b"):
        shutil.copytree(EXAMPLES / "host1", tmp_path / d)
    _, data = lint_json("a", "b", "--peer", PEER, "--no-config", cwd=tmp_path)
    assert len(data["hosts"]) == 2 and not [n for n in data["notes"] if n["kind"] == "same-host"]


def test_the_same_ssh_host_twice_is_contacted_once(tmp_path: Path) -> None:
    """`ssh://LOCALHOST:1` and `ssh://localhost:1/` are one host (DNS names are case-insensitive); another port
    is another host."""
    code, data = lint_json("ssh://LOCALHOST:1", "ssh://localhost:1/", "ssh://localhost:2", "--timeout", "5",
                           "--no-config", cwd=tmp_path)
    assert [h["spec"] for h in data["hosts"]] == ["ssh://LOCALHOST:1", "ssh://localhost:2"]
    assert all(not h["reachable"] for h in data["hosts"]) and code == 3
    assert [n["where"] for n in data["notes"] if n["kind"] == "same-host"] == ["ssh://LOCALHOST:1, ssh://localhost:1/"]


def test_an_empty_peer_is_a_usage_error_naming_the_option(tmp_path: Path) -> None:
    h1 = image(tmp_path / "h1", "host1.example.com", "10.0.0.10")
    for bad in ("", " ", "host1,,host2", "host2,"):
        out = preflight("lint", str(h1), "--peer", bad, "--no-config", cwd=tmp_path)
        assert out.returncode == 2, (bad, out.stdout)
        assert "--peer" in out.stderr and "an empty peer name" in out.stderr, out.stderr
        assert not out.stdout  # refused before any host is judged
    ok = preflight("lint", str(h1), "--peer", "host2,host3", "--no-config", "-q", cwd=tmp_path)
    assert ok.returncode in (0, 1), ok.stderr


def test_an_empty_peer_in_the_config_is_refused_with_its_file_and_line(tmp_path: Path) -> None:
    """Regression guard (config.py already refused it): peers = [""] at the top or in [[paths]]: file:line."""
    image(tmp_path / "h1", "host1.example.com", "10.0.0.10")
    for toml, line in (('concurrency = 4\npeers = ["host2", ""]\n', 2),
                       ('peers = ["host2"]\n\n[[paths]]\nroot = "h1"\npeers = [" "]\n', 5)):
        (tmp_path / "preflight.toml").write_text(toml)
        out = preflight("lint", "h1", cwd=tmp_path)
        assert out.returncode == 2, out.stdout
        assert f"preflight.toml:{line}: peers must be a list of non-empty strings" in out.stderr, out.stderr


def test_sarif_carries_every_role_a_finding_was_judged_in(tmp_path: Path) -> None:
    """LIM001 on a host with max_clients 5 fails "as destination and source": SARIF says both (lint_roles,
    the message, the logical location), not only [destination]; a source-only finding says source."""
    h = image(tmp_path / "h", "host1.example.com", "10.0.0.10", libvirtd="max_clients = 5\nmax_workers = 5\n")
    out = preflight("lint", str(h), "--concurrency", "12", "--peer", PEER, "--no-config", "--format", "sarif",
                    cwd=tmp_path)
    doc = json.loads(out.stdout)
    validate(doc)
    results = {r["ruleId"]: r for r in doc["runs"][0]["results"]}
    lim = results["LIM001"]
    assert lim["properties"]["lint_roles"] == ["destination", "source"]
    assert lim["message"]["text"].startswith("[as destination and source] "), lim["message"]["text"]
    names = [lg["name"] for loc in lim["locations"] for lg in loc["logicalLocations"]]
    assert names == [f"{h}/destination+source/libvirtd"], names
    assert results["LIM002"]["properties"]["lint_roles"] == ["source"]
    assert results["NET001"]["properties"]["lint_roles"] == ["peers"]
    assert results["NET001"]["message"]["text"].startswith("[as source to peers] ")
    text = preflight("lint", str(h), "--concurrency", "12", "--peer", PEER, "--no-config", cwd=tmp_path).stdout
    assert "LIM001 client-slots (as destination and source)" in text  # what the text said all along


def test_sarif_notes_are_the_runs_not_the_first_hosts(tmp_path: Path) -> None:
    """A waiver used on h2 only: JSON says only the stale one is unused; SARIF said host 1's view (both
    unused), now the run's."""
    from tests.cli.test_lint import repo

    top = repo(tmp_path, '[[waivers]]\nrule = "SSH001"\nhost = "images/h2"\nreason = "one at a time there"\n'
                         '[[waivers]]\nrule = "SSH002"\nhost = "images/h1"\nreason = "stale"\n')
    doc = json.loads(preflight("lint", "--format", "sarif", cwd=top).stdout)
    validate(doc)
    notes = doc["runs"][0]["invocations"][0]["toolConfigurationNotifications"]
    assert [n["properties"]["kind"] for n in notes] == ["unused-waiver"], notes
    assert "SSH002" in notes[0]["message"]["text"]
