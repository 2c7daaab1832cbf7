"""The whole pipeline against a real libvirtd started by the test.

CLI -> gathering (libvirt-python read-only + the local gather script) ->
snapshot -> rules -> JSON, with a running TCG guest on a local (not shared)
disk and a shut-off one. Source and destination are the same daemon here, so
the tool must say what libvirt would: same host UUID, disk not shared.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import libvirt
import pytest

from tests.support.libvirtd_server import GUEST_XML, HOST_UUID, Libvirtd

pytestmark = pytest.mark.libvirtd


@pytest.fixture()
def guests(libvirtd: Libvirtd, tmp_path: Path):  # type: ignore[no-untyped-def]
    disk = tmp_path / "disk.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "16M"], check=True)
    conn = libvirt.open(libvirtd.rw_uri)
    running = conn.defineXML(GUEST_XML.format(name="pipe-live", disk=disk))
    conn.defineXML(GUEST_XML.format(name="pipe-off", disk=disk))
    running.create()
    try:
        yield disk
    finally:
        for name in ("pipe-live", "pipe-off"):
            dom = conn.lookupByName(name)
            if dom.isActive():
                dom.destroy()
            dom.undefine()
        conn.close()


def run_check(libvirtd: Libvirtd, *guests: str, save: Path | None = None) -> tuple[int, dict]:
    args = [sys.executable, "-m", "preflight.cli", "check", "--live", *guests,
            "qemu+ssh://host2.example.invalid/system", "--source", "local", "--dest", "local",
            "--source-libvirt", libvirtd.ro_uri, "--dest-libvirt", libvirtd.ro_uri, "--format", "json"]
    if save:
        args += ["--save-facts", str(save)]
    out = subprocess.run(args, capture_output=True, text=True, timeout=180)
    assert out.returncode in (0, 1, 3), out.stderr
    return out.returncode, json.loads(out.stdout)


def by_rule(report: dict, rule: str) -> list[dict]:
    return [f for f in report["findings"] if f["rule"] == rule]


def test_pipeline_on_real_libvirtd(libvirtd: Libvirtd, guests: Path, tmp_path: Path) -> None:
    rc, report = run_check(libvirtd, "pipe-live", save=tmp_path)
    assert rc == 1 and report["verdict"] == "not-ready"
    # libvirt facts really came from the daemon
    assert {f["status"] for f in by_rule(report, "GST002")} == {"pass"}
    uuid = by_rule(report, "NET003")[0]
    assert uuid["status"] == "fail" and HOST_UUID in uuid["message"]
    ver = by_rule(report, "VER002")[0]
    daemon_version = subprocess.run(["libvirtd", "--version"], capture_output=True, text=True).stdout.split()[-1]
    assert ver["status"] == "pass" and ver["evidence"]["source"] == daemon_version
    # the disk is on this machine's local filesystem: libvirt would say "Unsafe migration"
    sto = by_rule(report, "STO001")[0]
    assert sto["status"] == "fail" and "Unsafe migration" in sto["message"] and str(guests) in sto["message"]
    assert {f["status"] for f in by_rule(report, "DMN001")} == {"pass"}
    # machine types come from the real QEMU's capabilities (the guest runs as pc-i440fx-*)
    assert {f["status"] for f in by_rule(report, "GST005")} == {"pass"}
    # the saved snapshot holds the real guest XML and replays to the same findings
    snap = json.loads((tmp_path / "source.json").read_text())
    assert any(g["name"] == "pipe-live" and g["state"] == "running" for g in snap["libvirt"]["guests"])


def test_shut_off_guest_on_real_libvirtd(libvirtd: Libvirtd, guests: Path) -> None:
    rc, report = run_check(libvirtd, "pipe-off")
    f = by_rule(report, "GST002")[0]
    assert rc == 1 and f["status"] == "fail" and "shutoff" in f["message"]
    assert "virsh dumpxml pipe-off" in f["remediation"]
