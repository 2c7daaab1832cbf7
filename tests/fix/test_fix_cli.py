"""`preflight fix` end to end on the built-in example and on broken image roots."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.skips import requires

TOP = Path(__file__).resolve().parents[2]
EXAMPLES = TOP / "examples"
URI = "qemu+ssh://host2.example.com/system"


def preflight(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "preflight.cli", *args], capture_output=True, text=True,
                          cwd=TOP, timeout=120, env={"PATH": "/usr/sbin:/usr/bin:/bin", "NO_COLOR": "1"})


def plan_args(root: Path, guest: str = "guest1-rhel6-64") -> list[str]:
    """The arguments of examples/run.sh, on a copy of the example."""
    return ["--live", guest, URI, "--concurrency", "12",
            "--source", str(root / "host1"), "--source-libvirt", f"test://{root / 'host1.xml'}",
            "--dest", str(root / "host2"), "--dest-libvirt", f"test://{root / 'host2.xml'}"]


def snapshot_tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def example(tmp_path: Path) -> Path:
    root = tmp_path / "ex"
    shutil.copytree(EXAMPLES, root)
    return root


@pytest.fixture(scope="module", autouse=True)
def privsep_dir() -> None:
    # sshd -t (the validation before --write) refuses to run without its privilege separation directory.
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)


needs_sshd = requires(os.path.exists("/usr/sbin/sshd") and os.geteuid() == 0,
                      "--write validates with sshd -t: needs /usr/sbin/sshd and root")


@needs_sshd
def test_done_example_becomes_ready_after_fix_write(example: Path, local_host: Any) -> None:
    before = preflight("check", *plan_args(example))
    assert before.returncode == 1 and "NOT READY" in before.stdout.splitlines()[-1]
    fixed = preflight("fix", *plan_args(example), "--write")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "would say: READY" in fixed.stdout
    after = preflight("check", *plan_args(example))
    assert after.returncode == 0, after.stdout
    assert after.stdout.splitlines()[-1].startswith("READY")
    assert local_host.file(str(example / "host1/etc/hosts")).contains("^10\\.0\\.0\\.20\thost2\\.example\\.com")
    assert local_host.file(str(example / "host2/etc/ssh/sshd_config")).contains("^MaxStartups 14:30:100$")
    backups = sorted(p.name for p in example.rglob("*.preflight-*"))
    assert len(backups) == 4, backups
    assert not list(example.rglob("*.preflight-tmp"))
    again = preflight("fix", *plan_args(example), "--write")  # idempotent
    assert again.returncode == 0 and "Nothing to change" in again.stdout
    assert sorted(p.name for p in example.rglob("*.preflight-*")) == backups


def test_diff_is_the_default_and_changes_nothing(example: Path) -> None:
    files = snapshot_tree(example)
    out = preflight("fix", *plan_args(example))
    assert out.returncode == 1, out.stderr
    # one diff per host, paths relative to that host's root (issue 10: patch -p1 -d ROOT applies them)
    source, dest = out.stdout.split("\nDiff for the source (")[1].split("\nDiff for the destination (")
    assert source.startswith(f"preflight fix ... --diff --host source | patch -p1 -d {example / 'host1'}):")
    assert "--- a/etc/hosts\n+++ b/etc/hosts\n" in source and "sshd_config" not in source
    assert "--- a/etc/ssh/sshd_config\n+++ b/etc/ssh/sshd_config\n" in dest
    assert "--- a/etc/libvirt/libvirtd.conf\n" in dest
    assert "+max_clients = 29" in out.stdout and "+MaxStartups 14:30:100" in out.stdout
    # image roots: nothing to restart or run on this machine (virt-admin would change this machine's daemon)
    assert "virt-admin" not in out.stdout and "systemctl" not in out.stdout
    assert snapshot_tree(example) == files


def test_output_dir_holds_the_fixed_files(example: Path, tmp_path: Path) -> None:
    files = snapshot_tree(example)
    out_dir = tmp_path / "out"
    out = preflight("fix", *plan_args(example), "--no-diff", "--output-dir", str(out_dir))
    assert out.returncode == 1
    assert sorted(str(p.relative_to(out_dir)) for p in out_dir.rglob("*") if p.is_file()) == [
        "destination/etc/libvirt/libvirtd.conf", "destination/etc/ssh/sshd_config",
        "source/etc/hosts", "source/etc/libvirt/libvirtd.conf"]
    assert "10.0.0.20\thost2.example.com\n" in (out_dir / "source/etc/hosts").read_text()
    # the real target: the file under the image root, never this machine's /etc (issue 10)
    root = example / "host2"
    assert f"cp {out_dir}/destination/etc/ssh/sshd_config {root}/etc/ssh/sshd_config" in out.stdout
    steps = out.stdout.split("\nTo apply on the source")[1].splitlines()
    copies = [line.split() for line in steps if line.startswith("  cp ")]
    assert len(copies) == 4 and all(cp[1].startswith(f"{out_dir}/") and cp[2].startswith(f"{example}/")
                                    for cp in copies), steps
    assert not [line for line in steps if "/etc/" in line and not line.startswith("  cp ")], steps
    assert snapshot_tree(example) == files


@needs_sshd
def test_write_refused_when_validation_fails_leaves_everything_untouched(example: Path) -> None:
    sshd = example / "host2/etc/ssh/sshd_config"
    sshd.write_text(sshd.read_text() + "BogusOption yes\n")  # the lens reads it, sshd -t does not
    files = snapshot_tree(example)
    out = preflight("fix", *plan_args(example), "--write", "--no-diff")
    assert out.returncode == 1, out.stdout
    assert "Not written" in out.stdout and "sshd -t" in out.stdout and "BogusOption" in out.stdout
    assert snapshot_tree(example) == files  # byte-identical, no backups, no temporary files


def test_facts_from_files_are_never_written(example: Path, tmp_path: Path) -> None:
    facts = tmp_path / "facts"
    preflight("check", *plan_args(example), "--save-facts", str(facts))
    files = snapshot_tree(example)
    out = preflight("fix", "--live", "guest1-rhel6-64", URI, "--concurrency", "12",
                    "--source-facts", str(facts / "source.json"), "--dest-facts", str(facts / "destination.json"),
                    "--write", "--no-diff")
    assert out.returncode == 1
    assert "judged from a facts file" in out.stdout and "systemctl reload sshd" in out.stdout
    assert snapshot_tree(example) == files


def test_policy_cis_does_not_loosen_max_startups(example: Path) -> None:
    out = preflight("fix", *plan_args(example), "--policy", "cis")
    assert out.returncode == 1
    assert "b/destination/etc/ssh/sshd_config" not in out.stdout
    assert "SSH001" in out.stdout.split("Not fixed mechanically:")[1]
    assert "not allowed within a Match block" in out.stdout and "PerSourceMaxStartups" in out.stdout
    assert "--concurrency 8" in out.stdout
    assert preflight("fix", *plan_args(example), "--policy", "lax").returncode == 2


def test_unparseable_libvirt_conf_is_reported_and_left_alone(example: Path) -> None:
    conf = example / "host2/etc/libvirt/libvirtd.conf"
    conf.write_text(conf.read_text() + 'max_clients = "twenty\n')
    out = preflight("fix", *plan_args(example))
    assert "b/destination/etc/libvirt/libvirtd.conf" not in out.stdout
    assert "/etc/libvirt/libvirtd.conf:81: unterminated string" in out.stdout and "left untouched" in out.stdout


def test_findings_without_a_mechanical_fix_are_listed(example: Path) -> None:
    out = preflight("fix", *plan_args(example, guest="no-such-guest"))
    listed = out.stdout.split("Not fixed mechanically:")[1]
    assert "GST001" in listed


def test_write_keeps_mode_and_owner(tmp_path: Path, local_host: Any) -> None:
    from preflight.fix.apply import Target, write_all
    from preflight.fix.model import FileChange

    root = tmp_path / "img"
    (root / "etc/ssh").mkdir(parents=True)
    f = root / "etc/ssh/sshd_config"
    f.write_text("Port 22\n")
    f.chmod(0o600)
    owner = 65534 if os.geteuid() == 0 else os.geteuid()  # as root: a file someone else owns
    os.chown(f, owner, owner)
    target = Target("destination", "image", str(root), str(root))
    lines = write_all([(target, FileChange("destination", "/etc/ssh/sshd_config", "Port 22\n", "Port 2222\n", []))],
                      stamp="20240101000000")
    fixed, backup = local_host.file(str(f)), local_host.file(f"{f}.preflight-20240101000000")
    assert fixed.content_string == "Port 2222\n" and fixed.mode == 0o600
    assert (fixed.uid, fixed.gid) == (owner, owner)
    assert backup.content_string == "Port 22\n"
    assert "backup" in lines[0]


def test_line_style_round_trip() -> None:
    from preflight.fix.textstyle import LineStyle

    style = LineStyle.of("a\r\nb")
    assert style.crlf and not style.final_newline
    assert style.normalise("a\r\nb") == "a\nb\n"
    assert style.restore("a\nb\nc\n") == "a\r\nb\r\nc"
    assert style.restore("a\nb\n", keep_crlf=False) == "a\nb"
    assert LineStyle.of("a\r\nb\n").crlf is False  # mixed: treated as LF, the CR kept


def test_remote_hosts_are_never_writable() -> None:
    from preflight.fix.command import target_for

    assert not target_for("destination", "ssh://root@host2", False).writable
    assert not target_for("source", "local", True).writable
    assert target_for("source", "local", False).writable
    assert target_for("source", "/srv/img", False).writable


def test_backup_dir_without_write_is_refused(example: Path, tmp_path: Path) -> None:
    """issue 13: fix silently ignored --backup-dir without --write; now a usage error, nothing written."""
    before = snapshot_tree(example)
    done = preflight("fix", *plan_args(example), "--backup-dir", str(tmp_path / "bk"))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "--backup-dir only applies with --write" in done.stderr
    assert snapshot_tree(example) == before and not (tmp_path / "bk").exists()
