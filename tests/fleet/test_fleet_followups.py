"""`preflight fleet` follow-ups from a cold try; each test failed before its fix.

Real inventories, the real command line; the live host is a real ssh to a closed port, seen through
an `ssh` first on PATH that records its argv and runs the real ssh (an observer, not a mock).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
EXAMPLES = TOP / "examples"
SECRET = "s3cr3t-never-shown"
BASTION = "bastion-never-used.invalid"


def run(*args: str, cwd: Path, path: str = "/usr/sbin:/usr/bin:/bin") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "preflight.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120, env={"PATH": path, "NO_COLOR": "1", "HOME": str(cwd)})


def images(tmp: Path) -> None:
    for h in ("host1", "host2"):
        shutil.copytree(EXAMPLES / h, tmp / h)
        shutil.copy(EXAMPLES / f"{h}.xml", tmp / f"{h}.xml")


def observed_ssh(tmp: Path) -> tuple[str, Path]:
    """A directory holding `ssh` that appends its argv to a log, then runs the real ssh."""
    real = shutil.which("ssh", path="/usr/bin:/bin")
    assert real, "ssh is a test dependency (openssh-client)"
    bin_dir, log = tmp / "bin", tmp / "ssh-argv.log"
    bin_dir.mkdir()
    (bin_dir / "ssh").write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\nexec {real} "$@"\n')
    (bin_dir / "ssh").chmod(0o755)
    return f"{bin_dir}:/usr/sbin:/usr/bin:/bin", log


def test_ignored_ssh_variables_are_warned_with_file_line_and_named_in_the_failure(tmp_path: Path) -> None:
    """A bastion (group_vars/kvm.yml), a key and a password (host vars): each is a warning naming the variable
    and its file:line and --ssh-config, on stderr and in JSON notes; the host that fails says why; no value
    reaches ssh nor any output. Image-root hosts (no ssh) get no such note."""
    images(tmp_path)
    (tmp_path / "hosts.ini").write_text(
        "[kvm]\n"
        "img1 preflight_root=host1 preflight_libvirt=test://host1.xml\n"
        "img2 preflight_root=host2 preflight_libvirt=test://host2.xml\n"
        f"live1 ansible_host=127.0.0.1 ansible_port=1 ansible_ssh_private_key_file=/k/{SECRET} "
        f"ansible_password={SECRET}\n")
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "kvm.yml").write_text(
        f"---\nansible_ssh_common_args: '-o ProxyJump={BASTION}'\nansible_ssh_executable: /opt/{SECRET}/ssh\n")
    path, log = observed_ssh(tmp_path)
    out = run("fleet", "-i", "hosts.ini", "--format", "json", "--timeout", "5", cwd=tmp_path, path=path)
    assert out.returncode in (1, 3), out.stderr
    data = json.loads(out.stdout)
    notes = {(n["host"], n["variable"]): n for n in data["notes"]}
    assert set(notes) == {("live1", v) for v in ("ansible_ssh_common_args", "ansible_ssh_executable",
                                                  "ansible_ssh_private_key_file", "ansible_password")}
    assert notes[("live1", "ansible_ssh_common_args")]["where"] == f"{tmp_path / 'group_vars' / 'kvm.yml'}:2"
    assert notes[("live1", "ansible_password")]["where"] == "hosts.ini:4"
    assert all(n["level"] == "warning" and "--ssh-config FILE" in n["message"] for n in notes.values())
    for variable in ("ansible_ssh_common_args", "ansible_password"):
        assert any(line.startswith("preflight: warning: ") and variable in line and "--ssh-config FILE" in line
                   for line in out.stderr.splitlines()), out.stderr
    live = data["hosts"]["live1"]
    assert live["status"] == "failed"
    assert "ansible_ssh_common_args" in live["reason"] and "kvm.yml:2" in live["reason"], live["reason"]
    assert data["hosts"]["img1"]["status"] == "gathered"
    argv = log.read_text()
    assert "127.0.0.1" in argv  # the live host was tried
    assert "ProxyJump" not in argv
    for hidden in (SECRET, BASTION):
        assert hidden not in argv and hidden not in out.stdout + out.stderr, hidden
    text = run("fleet", "-i", "hosts.ini", "--timeout", "5", cwd=tmp_path, path=path).stdout
    assert "FAILED:" in text and "ansible_ssh_common_args" in text


def test_a_become_password_is_noted_only_for_a_host_that_uses_sudo(tmp_path: Path) -> None:
    images(tmp_path)
    (tmp_path / "hosts.ini").write_text(
        "[kvm]\nimg1 preflight_root=host1\nimg2 preflight_root=host2\n"
        "live1 ansible_host=127.0.0.1 ansible_port=1 ansible_become=yes\n"
        "live2 ansible_host=127.0.0.1 ansible_port=1\n"
        f"[kvm:vars]\nansible_become_password={SECRET}\n")
    out = run("fleet", "-i", "hosts.ini", "--format", "json", "--timeout", "5", cwd=tmp_path)
    notes = json.loads(out.stdout)["notes"]
    assert [(n["host"], n["variable"], n["where"]) for n in notes] == [
        ("live1", "ansible_become_password", "hosts.ini:7")]
    assert "NOPASSWD" in notes[0]["message"] and SECRET not in out.stdout + out.stderr


def test_an_image_root_host_with_an_invalid_port_is_refused_with_its_file_line(tmp_path: Path) -> None:
    images(tmp_path)
    for port in ("0", "99999", "65536", "x", "-1", "22x"):
        (tmp_path / "hosts.ini").write_text(
            f"[kvm]\nimg1 preflight_root=host1 ansible_port={port}\nimg2 preflight_root=host2\n")
        out = run("fleet", "-i", "hosts.ini", "-q", cwd=tmp_path)
        assert out.returncode == 2, (port, out.stdout)
        assert out.stderr.startswith("preflight: error: hosts.ini:2: host 'img1': ansible_port"), out.stderr
    (tmp_path / "hosts.yml").write_text(
        "all:\n  children:\n    kvm:\n      vars:\n        ansible_port: 0\n      hosts:\n"
        "        img1: {preflight_root: host1}\n        img2: {preflight_root: host2}\n")
    out = run("fleet", "-i", "hosts.yml", "-q", cwd=tmp_path)
    assert out.returncode == 2 and "hosts.yml:5: host 'img1': ansible_port" in out.stderr, out.stderr


def test_an_image_root_host_keeps_its_port_in_the_desturi(tmp_path: Path) -> None:
    """`ansible_port=2222` on an image root: others migrate to qemu+ssh://img1:2222/system, and each pair's plan
    says so; a local host too (its port is the sshd others reach)."""
    images(tmp_path)
    (tmp_path / "hosts.ini").write_text(
        "[kvm]\nimg1 preflight_root=host1 preflight_libvirt=test://host1.xml ansible_port=2222\n"
        "img2 preflight_root=host2 preflight_libvirt=test://host2.xml\n"
        "[other]\nme ansible_connection=local ansible_port=2200\n")
    out = run("fleet", "-i", "hosts.ini", "--format", "json", "--group", "kvm", cwd=tmp_path)
    assert out.returncode in (0, 1), out.stderr
    data = json.loads(out.stdout)
    assert data["hosts"]["img1"]["dest_uri"] == "qemu+ssh://img1:2222/system"
    assert data["hosts"]["img2"]["dest_uri"] == "qemu+ssh://img2/system"
    assert data["hosts"]["me"]["dest_uri"] == "qemu+ssh://me:2200/system"
    to_img1 = next(p for p in data["pairs"] if p["destination"] == "img1")
    assert to_img1["plan"]["dest_uri"] == "qemu+ssh://img1:2222/system"
    assert os.path.isdir(tmp_path / "host1")
