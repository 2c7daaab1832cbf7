"""Issue 12: a malformed snapshot is exit 2 with one line naming the place, never a traceback or exit 1.

The base snapshot is a real one, saved by `check --save-facts` from the example
image roots; each case breaks one thing in it.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from preflight.model import facts as model_facts
from preflight.model.facts import HostSnapshot
from tests.cli.test_cli import URI, example_args, preflight

Edit = Callable[[dict[str, Any]], object]  # takes the document, returns the (new) document


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    facts = tmp_path_factory.mktemp("facts")
    out = preflight(*example_args(), "--save-facts", str(facts))
    assert out.returncode == 1, out.stderr
    data: dict[str, Any] = json.loads((facts / "source.json").read_text())
    return data


def _set(path: list[str], value: object) -> Edit:
    def edit(doc: dict[str, Any]) -> object:
        d = doc
        for part in path[:-1]:
            d = d[part]
        d[path[-1]] = value
        return doc
    return edit


def _delete(path: list[str]) -> Edit:
    def edit(doc: dict[str, Any]) -> object:
        d = doc
        for part in path[:-1]:
            d = d[part]
        del d[path[-1]]
        return doc
    return edit


def _readonly_as_string(doc: dict[str, Any]) -> object:
    doc["libvirt"]["guests"][0]["disks"][0]["readonly"] = "false"
    return doc


def _broken(saved: dict[str, Any], case: str) -> str:
    _, edit, _ = next(c for c in CASES if c[0] == case)
    return json.dumps(edit(copy.deepcopy(saved)))


def _replace(value: object) -> Edit:
    return lambda d: value


HOSTS = "file:/etc/hosts"

# (case, edit, the pointer and complaint the message must hold)
CASES: list[tuple[str, Edit, str]] = [
    ("top-level list", _replace([]), "top level: expected an object, got a list"),
    ("top-level null", _replace(None), "expected an object, got null"),
    ("top-level string", _replace("x"), "expected an object, got a string"),
    ("top-level int", _replace(7), "expected an object, got a number"),
    ("probes as a list", _set(["probes"], []), "probes: expected an object, got a list"),
    ("libvirt as a list", _set(["libvirt"], []), "libvirt: expected an object, got a list"),
    ("reachable as a string", _set(["reachable"], "no"), "reachable: expected true or false, got a string"),
    ("rc as a string", _set(["probes", HOSTS, "rc"], "0"), f'probes["{HOSTS}"].rc: expected an integer'),
    ("rc as a boolean", _set(["probes", HOSTS, "rc"], True), f'probes["{HOSTS}"].rc: expected an integer'),
    ("bad probe status", _set(["probes", HOSTS, "status"], "fine"),
     f'probes["{HOSTS}"].status: expected one of ok, missing, error, not-available'),
    ("bad mode", _set(["mode"], "ftp"), "mode: expected one of local, ssh, image, snapshot"),
    ("bad role", _set(["role"], "both"), "role: expected one of source, destination"),
    ("unknown top-level key", _set(["extra"], 1), '["extra"]: unknown key'),
    ("unknown probe key", _set(["probes", HOSTS, "shell"], "rm -rf /"), f'probes["{HOSTS}"]["shell"]: unknown key'),
    ("missing mode", _delete(["mode"]), "mode: required key is missing"),
    ("missing probe status", _delete(["probes", HOSTS, "status"]), f'probes["{HOSTS}"].status: required key'),
    ("probe under another key", _set(["probes", HOSTS, "key"], "file:/etc/shadow"), "differs from the probe's key"),
    ("ok probe without text", _set(["probes", HOSTS, "text"], None), 'text: required when status is "ok"'),
    ("guest as a string", _set(["libvirt", "guests"], ["g"]), "libvirt.guests[0]: expected an object"),
    ("disk readonly as a string", _readonly_as_string,
     "libvirt.guests[0].disks[0].readonly: expected true or false"),
    ("networks as a string", _set(["libvirt", "networks"], "default"), "libvirt.networks: expected a list"),
    ("errors with a number", _set(["libvirt", "errors"], {"hostname": 3}),
     'libvirt.errors["hostname"]: expected a string'),
    ("infinite seconds", _set(["gather_seconds"], float("inf")), "gather_seconds: expected a finite number"),
    ("NaN seconds", _set(["gather_seconds"], float("nan")), "gather_seconds: expected a finite number"),
    ("format_version as a string", _set(["format_version"], "1"), "format_version"),
    ("format_version 2", _set(["format_version"], 2), "format_version: 2 is not supported (expected 1)"),
    ("escape in a key", _set(["probes", "file:/x\x1b[32m"], {}), '["file:/x\\u001b[32m"]'),
]


@pytest.mark.parametrize("case, edit, message", CASES, ids=[c[0] for c in CASES])
def test_malformed_snapshot_is_refused_with_a_pointer(saved: dict[str, Any], case: str, edit: Edit,
                                                      message: str) -> None:
    with pytest.raises(model_facts.SnapshotError) as err:
        HostSnapshot.from_json(_broken(saved, case))
    assert message in str(err.value)
    assert "\x1b" not in str(err.value)


def test_the_unbroken_snapshot_loads(saved: dict[str, Any]) -> None:
    snap = HostSnapshot.from_json(json.dumps(saved))
    assert snap.probes[HOSTS].ok and snap.libvirt is not None and snap.libvirt.guests
    assert HostSnapshot.from_json(snap.to_json()) == snap


@pytest.mark.parametrize("text, message", [
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"format_version": 1, "spec": ' + "[" * 50_000, "nested too deeply"),
    ('{"format_version": 1, "spec": ', "not JSON"),
    ("", "not JSON"),
    (b"\xff\xfe\x00", "not JSON"),
    ('{"format_version": 1.0}', "format_version: 1.0 is not supported"),
    ('{"format_version": true}', "format_version: true is not supported"),
])
def test_unparseable_snapshot_is_a_snapshot_error(text: str | bytes, message: str) -> None:
    with pytest.raises(model_facts.SnapshotError) as err:
        HostSnapshot.from_json(text)
    assert message in str(err.value)


def _check_with(snapshot: Path) -> tuple[int, str, str]:
    out = preflight("check", "g", URI, "--source-facts", str(snapshot), "--dest-facts", str(snapshot))
    return out.returncode, out.stdout, out.stderr


def _one_clear_line(code: int, stderr: str) -> str:
    assert code == 2, stderr
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("preflight: error: "), stderr
    return lines[0]


@pytest.mark.parametrize("case", ["top-level list", "probes as a list", "libvirt as a list", "reachable as a string",
                                  "bad probe status", "unknown top-level key", "missing mode"])
def test_cli_exit_2_one_line(saved: dict[str, Any], tmp_path: Path, case: str) -> None:
    message = next(c[2] for c in CASES if c[0] == case)
    bad = tmp_path / "bad.json"
    bad.write_text(_broken(saved, case))
    code, _, stderr = _check_with(bad)
    line = _one_clear_line(code, stderr)
    assert "not a usable facts snapshot" in line and message in line


def test_cli_deeply_nested_snapshot(tmp_path: Path) -> None:
    bad = tmp_path / "deep.json"
    bad.write_text("[" * 200_000 + "]" * 200_000)
    code, _, stderr = _check_with(bad)
    assert "nested too deeply" in _one_clear_line(code, stderr)


def test_cli_huge_snapshot_is_not_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as fh:  # sparse: costs no disk
        fh.truncate(model_facts.MAX_SNAPSHOT_BYTES + 1)
    code, _, stderr = _check_with(huge)
    assert "larger than" in _one_clear_line(code, stderr)


def test_cli_fifo_snapshot_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    code, _, stderr = _check_with(fifo)  # preflight() has a timeout: a hang fails the test
    assert "not a regular file" in _one_clear_line(code, stderr)


def test_cli_directory_snapshot(tmp_path: Path) -> None:
    code, _, stderr = _check_with(tmp_path)
    assert "is a directory" in _one_clear_line(code, stderr)
