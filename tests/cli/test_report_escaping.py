"""Issue 12: control characters in host data never reach a report raw, in any format.

A hostile host can put terminal escapes in its hostname (a fake green READY), a
newline in a reason (a forged verdict line), NUL/undecodable bytes/U+FFFF (JUnit
that no XML parser accepts). Three ways in: image roots (real files), a crafted
snapshot, and a Report built directly with every field poisoned.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from preflight.engine import Report
from preflight.model.facts import HostMode, HostSnapshot
from preflight.model.findings import Finding, Scope, Severity, Status
from preflight.model.plan import MigrationPlan
from preflight.report import machine, text
from tests.cli.test_cli import EXAMPLES, URI, example_args, preflight

# C0/C1 controls but TAB/LF, DEL, lone surrogates, bidi overrides: none may appear in any output.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
FAKE = "\x1b[32m READY\x1b[0m"
NASTY = f"h{FAKE}\x00\x07\r\nREADY: all good\udcff\ufffe\uffff\u202e\x9b\x7fz"
FORMATS = ("text", "json", "sarif", "junit")


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _assert_safe(fmt: str, out: str) -> None:
    """Nothing raw in the output; JSON and SARIF values clean too; JUnit parses; one verdict line."""
    assert not RAW.search(out), (fmt, RAW.findall(out))
    if fmt in ("json", "sarif"):
        for s in _strings(json.loads(out)):
            assert not RAW.search(s), (fmt, s)
    elif fmt == "junit":
        ET.fromstring(out.encode("utf-8"))
        for el in ET.fromstring(out).iter():
            assert not RAW.search(el.text or "") and not any(RAW.search(v) for v in el.attrib.values())
    else:
        lines = out.rstrip("\n").splitlines()
        assert not any(line.startswith(("READY", "NOT READY", "UNKNOWN")) for line in lines[:-1]), out


# --- image roots: the files a hostile host controls --------------------------------

@pytest.fixture(scope="module")
def hostile_roots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile") / "ex"
    shutil.copytree(EXAMPLES, root)
    # the destination names itself with a fake green READY, NUL, an undecodable byte, U+FFFF, RLO
    (root / "host2/etc/hostname").write_bytes(b"host2" + FAKE.encode() + b"\x00\xff\xef\xbf\xbf\xe2\x80\xaex\r\n")
    with open(root / "host1/etc/hosts", "ab") as fh:  # the destination's name on a wrong address, poisoned alias
        fh.write(b"10.0.0.99\thost2.example.com host2" + FAKE.encode() + b"\x01\n")
    sshd = root / "host2/etc/ssh/sshd_config"
    sshd.write_bytes(sshd.read_bytes().replace(b"#MaxStartups 10:30:100", b"MaxStartups " + FAKE.encode() + b"\x00"))
    return root


@pytest.mark.parametrize("fmt", FORMATS)
def test_image_root_host_data_is_escaped(hostile_roots: Path, fmt: str) -> None:
    out = preflight(*example_args(hostile_roots), "--format", fmt, "-v")
    assert out.returncode in (1, 3), out.stderr
    assert "Traceback" not in out.stderr
    _assert_safe(fmt, out.stdout)
    if fmt == "text":  # the hostname is shown, made visible rather than dropped
        assert "host2\\x1b[32m READY\\x1b[0m\\x00\\xff" in out.stdout
        assert out.stdout.splitlines()[-1].startswith(("NOT READY", "UNKNOWN"))
    if fmt == "json":
        names = [f["message"] for f in json.loads(out.stdout)["findings"] if f["rule"] == "NET002"]
        assert names and "\\x1b[32m READY" in names[0]


# --- a crafted snapshot: spec, reason and probe texts poisoned ------------------------

@pytest.fixture(scope="module")
def crafted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    facts = tmp_path_factory.mktemp("facts")
    saved = preflight(*example_args(), "--save-facts", str(facts))
    assert saved.returncode == 1, saved.stderr
    dst: dict[str, Any] = json.loads((facts / "destination.json").read_text())
    dst["spec"] = "ssh://" + NASTY
    dst["probes"]["file:/etc/hostname"]["text"] = NASTY + "\n"
    (facts / "destination.json").write_text(json.dumps(dst))
    down = dict(dst, reachable=False, unreachable_reason="refused\nREADY: guest1 -> x" + NASTY)
    (facts / "down.json").write_text(json.dumps(down))
    return facts / "source.json", facts / "destination.json"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dest", ["destination.json", "down.json"])
def test_crafted_snapshot_is_escaped(crafted: tuple[Path, Path], fmt: str, dest: str) -> None:
    source, destination = crafted
    out = preflight("check", "--live", "guest1-rhel6-64", URI, "--source-facts", str(source),
                    "--dest-facts", str(destination.with_name(dest)), "--format", fmt, "-v")
    assert out.returncode in (1, 3), out.stderr
    _assert_safe(fmt, out.stdout)
    if dest == "down.json" and fmt != "sarif":  # SARIF lists failures only; INS001 is unknown
        assert "INS001" in out.stdout


# --- every field of a Report poisoned, every renderer ----------------------------------

def _poisoned_report() -> Report:
    snaps = {role: HostSnapshot(role=role, spec=NASTY, mode=HostMode.SSH, reachable=False, unreachable_reason=NASTY)
             for role in ("source", "destination")}
    findings = [
        Finding(rule="NET001", name="dest-name-resolves", status=status, severity=severity, host=scope,
                message=NASTY, file="/etc/" + NASTY, line=3, remediation=NASTY, subject=NASTY,
                evidence={NASTY: [NASTY, {"k": NASTY}], "n": 1}, seed=NASTY)
        for status, severity, scope in [(Status.FAIL, Severity.ERROR, Scope.SOURCE),
                                        (Status.FAIL, Severity.WARNING, Scope.DESTINATION),
                                        (Status.UNKNOWN, Severity.ERROR, Scope.PAIR),
                                        (Status.SKIP, Severity.ERROR, Scope.SOURCE),
                                        (Status.PASS, Severity.ERROR, Scope.DESTINATION)]
    ]
    plan = MigrationPlan(guests=[NASTY], dest_uri="qemu+ssh://" + NASTY + "/system", migrate_uri=NASTY)
    return Report(plan=plan, findings=findings, snapshots=snaps)  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_field_of_every_format_is_escaped(fmt: str) -> None:
    report = _poisoned_report()
    render = {"text": lambda r: text.render(r, None, verbose=True), "json": machine.to_json,
              "sarif": machine.to_sarif, "junit": machine.to_junit}[fmt]
    out = render(report)
    _assert_safe(fmt, out)
    assert "\\x1b[32m READY\\x1b[0m\\x00\\x07\\x0d\\nREADY: all good\\xff" in out.replace("\\\\", "\\")


def test_json_keeps_the_contract_for_clean_values() -> None:
    """Escaping changes only strings that held control characters: the example's JSON is as before."""
    data = json.loads(preflight(*example_args(), "--format", "json").stdout)
    hosts = [f for f in data["findings"] if f["rule"] == "NET001" and f["status"] == "fail"]
    assert hosts and "host2.example.com" in hosts[0]["message"] and "\\" not in hosts[0]["message"]
    assert data["hosts"]["destination"]["spec"] == str(EXAMPLES / "host2")


def test_report_for_a_file_has_no_colour_even_from_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """-o FILE from a terminal: the file gets no escape sequences of ours either."""
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(sys, "stdout", Tty())
    report = _poisoned_report()
    assert "\x1b[" not in text.render(report, None)
    assert "\x1b[1;" in text.render(report, Tty())  # on the terminal itself colour stays
