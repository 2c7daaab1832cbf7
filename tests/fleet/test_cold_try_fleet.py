"""Problems found by trying `preflight fleet` cold, as a new operator would; each test failed before its fix."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
EXAMPLES = TOP / "examples"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "preflight.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120, env={"PATH": "/usr/sbin:/usr/bin:/bin", "NO_COLOR": "1"})


def test_image_host_whose_name_is_no_host_name_is_refused_not_judged_as_localhost(tmp_path: Path) -> None:
    """An image-root host named `kvm_02` (no host name: '_') and no preflight_dest_name: migrations to it
    were judged as qemu+ssh://localhost/system (NET001 "localhost resolves to loopback"); now exit 2 with
    the inventory's file:line and the variable to set."""
    for h in ("host1", "host2"):
        shutil.copytree(EXAMPLES / h, tmp_path / h)
        shutil.copy(EXAMPLES / f"{h}.xml", tmp_path / f"{h}.xml")
    (tmp_path / "hosts.ini").write_text(
        "[kvm]\nhost1.example.com preflight_root=host1 preflight_libvirt=test://host1.xml\n"
        "kvm_02 preflight_root=host2 preflight_libvirt=test://host2.xml\n")
    out = run("fleet", "-i", "hosts.ini", "--format", "json", cwd=tmp_path)
    assert out.returncode == 2, out.stdout
    assert out.stderr.startswith("preflight: error: hosts.ini:3: host 'kvm_02': the name others migrate to"), out.stderr
    assert "set preflight_dest_name" in out.stderr and "localhost" not in out.stdout + out.stderr
    (tmp_path / "hosts.ini").write_text(
        "[kvm]\nhost1.example.com preflight_root=host1 preflight_libvirt=test://host1.xml\n"
        "kvm_02 preflight_root=host2 preflight_libvirt=test://host2.xml preflight_dest_name=host2.example.com\n")
    out = run("fleet", "-i", "hosts.ini", "-q", cwd=tmp_path)
    assert out.returncode in (0, 1), out.stderr


def test_report_written_over_a_saved_snapshot_is_a_usage_error(tmp_path: Path) -> None:
    """`fleet --save-facts DIR -o DIR/host1.json`: the report replaced host1's snapshot (a later `--facts
    DIR` was refused); it is exit 2 before any host is gathered, nothing written. Another name is fine."""
    for h in ("host1", "host2"):
        shutil.copytree(EXAMPLES / h, tmp_path / h)
        shutil.copy(EXAMPLES / f"{h}.xml", tmp_path / f"{h}.xml")
    (tmp_path / "hosts.ini").write_text(
        "[kvm]\nhost1 preflight_root=host1 preflight_libvirt=test://host1.xml\n"
        "host2 preflight_root=host2 preflight_libvirt=test://host2.xml\n")
    (tmp_path / "facts").mkdir()
    out = run("fleet", "-i", "hosts.ini", "--save-facts", "facts", "--format", "json", "-o", "facts/host1.json",
              cwd=tmp_path)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "facts/host1.json: written twice in one run (--save-facts facts writes it too)" in out.stderr
    assert list((tmp_path / "facts").iterdir()) == []
    out = run("fleet", "-i", "hosts.ini", "--save-facts", "facts", "--format", "json", "-o", "facts/report.json",
              cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    assert run("fleet", "-i", "hosts.ini", "--facts", "facts", "-q", cwd=tmp_path).returncode == 1
