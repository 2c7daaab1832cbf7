"""`preflight fix` a careful operator trusts (issue 10, item 3): check's selection and output options,
a --diff that `patch -p1 -d ROOT` applies, instructions naming the real target, backups out of a git
checkout, the validating sshd's version named, and no guessed address."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from preflight.model import probes as P
from preflight.model.facts import Availability, HostSnapshot, Probe
from tests.support.skips import requires

TOP = Path(__file__).resolve().parents[2]
EXAMPLES = TOP / "examples"
URI = "qemu+ssh://host2.example.com/system"
PATCH = shutil.which("patch")


def preflight(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "preflight.cli", *args], capture_output=True, text=True, cwd=TOP,
                          timeout=120, env={"PATH": "/usr/sbin:/usr/bin:/bin", "NO_COLOR": "1", **(env or {})})


def plan_args(root: Path) -> list[str]:
    """examples/run.sh's plan, on a copy of the example (changes on both hosts)."""
    return ["--live", "guest1-rhel6-64", URI, "--concurrency", "12",
            "--source", str(root / "host1"), "--source-libvirt", f"test://{root / 'host1.xml'}",
            "--dest", str(root / "host2"), "--dest-libvirt", f"test://{root / 'host2.xml'}"]


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def example(tmp_path: Path) -> Path:
    root = tmp_path / "ex"
    shutil.copytree(EXAMPLES, root, ignore=shutil.ignore_patterns("run.sh"))
    return root


@pytest.fixture(scope="module", autouse=True)
def privsep_dir() -> None:
    if os.geteuid() == 0:  # sshd -t (validation before --write) needs its privilege separation directory
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)


needs_sshd = requires(os.path.exists("/usr/sbin/sshd") and os.geteuid() == 0,
                      "--write validates with sshd -t: needs /usr/sbin/sshd and root")


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("preflight: error: "), done.stderr
    return lines[0]


def changed_files(done: subprocess.CompletedProcess[str]) -> list[str]:
    return re.findall(r"^  (/\S+) \([A-Z0-9, ]+\): (?:changed|new file)", done.stdout, re.M)


# --- 1. check's selection and output options ----------------------------------------------------------------

def test_select_and_ignore_limit_what_fix_changes(example: Path) -> None:
    everything = changed_files(preflight("fix", *plan_args(example), "--no-diff"))
    assert "/etc/hosts" in everything and "/etc/ssh/sshd_config" in everything
    only_net = preflight("fix", *plan_args(example), "--no-diff", "--select", "NET")
    assert changed_files(only_net) == ["/etc/hosts"], only_net.stdout
    assert "would say: READY" in only_net.stdout  # judged by the selected rules, as check does
    no_net = preflight("fix", *plan_args(example), "--no-diff", "--ignore", "NET001,LIM")
    assert changed_files(no_net) == ["/etc/ssh/sshd_config"], no_net.stdout
    assert "NOPE" in one_error_line(preflight("fix", *plan_args(example), "--select", "NOPE"))


def test_format_json_lists_each_planned_change(example: Path) -> None:
    done = preflight("fix", *plan_args(example), "--format", "json")
    doc = json.loads(done.stdout)  # nothing but the document on stdout
    assert doc["exit_code"] == done.returncode == 1
    hosts = {f["path"]: f for f in doc["hosts"]["source"]["files"]}
    etc_hosts = hosts["/etc/hosts"]
    assert etc_hosts["real_path"] == str(example / "host1/etc/hosts")
    assert etc_hosts["diff"].startswith("--- a/etc/hosts\n+++ b/etc/hosts\n")
    assert "+10.0.0.20\thost2.example.com" in etc_hosts["diff"]
    assert etc_hosts["validation"] == {"ok": True, "problem": None, "sshd": None}
    assert etc_hosts["applicable"]["writable"] and not etc_hosts["applicable"]["written"]
    assert doc["hosts"]["source"]["patch_root"] == str(example / "host1")
    sshd = {f["path"]: f for f in doc["hosts"]["destination"]["files"]}["/etc/ssh/sshd_config"]
    assert "OpenSSH" in sshd["validation"]["sshd"]["note"]
    assert doc["verdict_now"] == "not-ready" and doc["verdict_after"] == "ready"
    assert "--diff" in one_error_line(preflight("fix", *plan_args(example), "--format", "json", "--diff"))
    assert "--format" in one_error_line(preflight("fix", *plan_args(example), "--format", "yaml"))


# --- 2. --diff: only a diff, applied by patch -p1 -d ROOT ---------------------------------------------------

@pytest.mark.parametrize("via_symlink", [False, True], ids=["root", "root-named-through-a-symlink"])
def test_diff_applies_with_patch_and_a_second_fix_has_nothing_to_change(example: Path, tmp_path: Path,
                                                                         via_symlink: bool) -> None:
    assert PATCH, "patch(1) is needed (scripts/setup.sh should install the 'patch' package)"
    if via_symlink:  # paths in the diff stay relative to the root however it was named
        (tmp_path / "link").symlink_to(example)
        example = tmp_path / "link"
    for role, root in (("source", example / "host1"), ("destination", example / "host2")):
        done = preflight("fix", *plan_args(example), "--diff", "--host", role)
        assert done.returncode == 1 and done.stdout.startswith("--- a/etc/"), done.stdout + done.stderr
        assert "preflight fix" not in done.stdout and "preflight fix:" in done.stderr  # prose on stderr
        applied = subprocess.run([PATCH, "-p1", "-d", str(root), "--forward", "--batch"], input=done.stdout,
                                 capture_output=True, text=True, timeout=60)
        assert applied.returncode == 0, applied.stdout + applied.stderr
        assert not list(root.rglob("*.orig")) and not list(root.rglob("*.rej"))
    again = preflight("fix", *plan_args(example))
    assert again.returncode == 0 and "Nothing to change" in again.stdout, again.stdout
    assert preflight("fix", *plan_args(example), "--diff", "--host", "source").stdout == ""
    assert preflight("check", *plan_args(example)).returncode == 0


def test_diff_for_two_hosts_needs_host(example: Path) -> None:
    done = preflight("fix", *plan_args(example), "--diff")
    assert "--host source" in one_error_line(done) and done.stdout == ""
    assert "--host" in one_error_line(preflight("fix", *plan_args(example), "--diff", "--host", "both"))


# --- 3. instructions name the real target ------------------------------------------------------------------

def test_image_root_instructions_name_files_under_the_root(example: Path) -> None:
    done = preflight("fix", *plan_args(example), "--no-diff")
    steps = done.stdout.split("\nTo apply on the source")[1]
    assert f"files: {example}/host1/etc/libvirt/libvirtd.conf, {example}/host1/etc/hosts" in steps
    assert f"patch -p1 -d {example}/host1" in steps and f"patch -p1 -d {example}/host2" in steps
    assert "systemctl" not in steps and "virt-admin" not in steps and " to /etc/" not in steps
    assert "the host booted from this image reads them when it starts" in steps


def test_remote_instructions_copy_to_the_remote_host(example: Path, tmp_path: Path) -> None:
    facts = tmp_path / "facts"
    preflight("check", *plan_args(example), "--save-facts", str(facts))
    doc = json.loads((facts / "destination.json").read_text())
    doc["spec"] = "ssh://root@host2.example.com:2222"
    (facts / "destination.json").write_text(json.dumps(doc))
    out = tmp_path / "out"
    done = preflight("fix", "--live", "guest1-rhel6-64", URI, "--concurrency", "12", "--source-facts",
                     str(facts / "source.json"), "--dest-facts", str(facts / "destination.json"), "--no-diff",
                     "--output-dir", str(out))
    steps = done.stdout.split("\nTo apply on the destination")[1]
    assert (f"scp -P 2222 {out}/destination/etc/ssh/sshd_config root@host2.example.com:/etc/ssh/sshd_config"
            in steps), steps
    assert "ssh -p 2222 root@host2.example.com 'sshd -t && systemctl reload sshd'" in steps
    assert "ssh -p 2222 root@host2.example.com 'systemctl restart libvirtd'" in steps


# --- 4. --output-dir: help and behaviour agree ---------------------------------------------------------------

def test_output_dir_help_says_what_it_writes(example: Path, tmp_path: Path) -> None:
    shown = re.sub(r"[\s│]+", " ", preflight("fix", "--help", env={"COLUMNS": "200"}).stdout)
    assert "DIR/source/PATH and DIR/destination/PATH" in shown and "files under DIR/HOST/PATH" not in shown
    out = tmp_path / "out"
    preflight("fix", *plan_args(example), "--no-diff", "--output-dir", str(out))
    assert {p.relative_to(out).parts[0] for p in out.rglob("*") if p.is_file()} == {"source", "destination"}


# --- 5. backups never inside a git-tracked image root --------------------------------------------------------

@needs_sshd
def test_write_in_a_git_work_tree_puts_no_backup_in_it(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLES, repo / "ex", ignore=shutil.ignore_patterns("run.sh"))
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "images"], check=True)
    state = tmp_path / "state"
    done = preflight("fix", *plan_args(repo / "ex"), "--write", "--no-diff", env={"XDG_STATE_HOME": str(state)})
    assert done.returncode == 0, done.stdout + done.stderr
    status = subprocess.run([*git, "status", "--porcelain", "--untracked-files=all"], capture_output=True,
                            text=True, check=True).stdout.splitlines()
    assert status and all(line.startswith(" M ") for line in status), status  # changed, nothing new
    backups = sorted(p.relative_to(state) for p in state.rglob("*.preflight-*"))
    assert len(backups) == 4 and f"backups under {state}/preflight/backups/" in done.stdout, backups
    hosts_backup = next(p for p in backups if p.parts[-3:-1] == ("source", "etc"))
    assert (state / hosts_backup).read_bytes() == (EXAMPLES / "host1/etc/hosts").read_bytes()


@needs_sshd
def test_backup_dir_holds_the_backups(example: Path, tmp_path: Path) -> None:
    keep = tmp_path / "keep"
    done = preflight("fix", *plan_args(example), "--write", "--no-diff", "--backup-dir", str(keep))
    assert done.returncode == 0, done.stdout + done.stderr
    assert not list(example.rglob("*.preflight-*"))
    backup = next((keep / "destination/etc/ssh").glob("sshd_config.preflight-*"))
    assert backup.read_bytes() == (EXAMPLES / "host2/etc/ssh/sshd_config").read_bytes()


# --- 6. validation names the sshd it used --------------------------------------------------------------------

def test_validation_names_this_machines_sshd_and_the_image_version_unknown(example: Path) -> None:
    done = preflight("fix", *plan_args(example), "--no-diff", "-v")
    line = next(ln for ln in done.stdout.splitlines() if "destination sshd files" in ln)
    assert re.search(r"this machine's sshd -t \(OpenSSH \d+\.\d+", line), line
    assert "the image's OpenSSH version is unknown" in line and line.lstrip().startswith("warning:")
    assert "cmd:" not in line  # no internal keys
    assert "  source /etc/hosts: passes\n" in done.stdout  # -v: every file's validation result


def test_validation_warns_when_the_hosts_sshd_is_another_release(example: Path, tmp_path: Path) -> None:
    from preflight.fix.validate import local_sshd_version

    here = local_sshd_version()
    assert here is not None and tuple(map(int, re.findall(r"\d+", here)[:2])) > (7, 4), here
    facts = tmp_path / "facts"
    preflight("check", *plan_args(example), "--save-facts", str(facts))
    dest = HostSnapshot.load(facts / "destination.json")
    dest.add(Probe(P.SSHD_VERSION, "sshd -V", Availability.OK, text="OpenSSH_7.4p1, OpenSSL 1.0.2k-fips\n", rc=0))
    dest.save(facts / "destination.json")
    done = preflight("fix", "--live", "guest1-rhel6-64", URI, "--concurrency", "12", "--source-facts",
                     str(facts / "source.json"), "--dest-facts", str(facts / "destination.json"), "--no-diff", "-v")
    line = next(ln for ln in done.stdout.splitlines() if "destination sshd files" in ln)
    assert f"(OpenSSH {here}), which is newer than the destination's OpenSSH 7.4p1 (sshd -V)" in line, line


# --- 7. an address is never guessed ---------------------------------------------------------------------------

def several_addresses(example: Path, tmp_path: Path) -> list[str]:
    """The destination as a facts file whose `ip -o addr show` lists two networks (none is 10.0.0.20,
    the address its own /etc/hosts names)."""
    facts = tmp_path / "facts"
    preflight("check", *plan_args(example), "--save-facts", str(facts))
    dest = HostSnapshot.load(facts / "destination.json")
    dest.add(Probe(P.ADDRESSES, "ip -o addr show", Availability.OK, rc=0, text=(
        "1: lo    inet 127.0.0.1/8 scope host lo\n2: eth0    inet 192.0.2.2/24 scope global eth0\n"
        "3: eth1    inet 198.51.100.2/24 scope global eth1\n3: eth1    inet6 fe80::1/64 scope link\n")))
    dest.save(facts / "destination.json")
    return ["--live", "guest1-rhel6-64", URI, "--concurrency", "12", "--source", str(example / "host1"),
            "--dest-facts", str(facts / "destination.json"), "--select", "NET001"]


def test_several_candidate_addresses_are_listed_and_not_written(example: Path, tmp_path: Path) -> None:
    args = several_addresses(example, tmp_path)
    before = tree(example)
    done = preflight("fix", *args, "--write")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "192.0.2.2, 198.51.100.2" in done.stdout and "--dest-address" in done.stdout, done.stdout
    assert "/etc/hosts (NET001)" not in done.stdout  # no change planned for it
    assert tree(example) == before
    brief = preflight("fix", *args, "--diff")
    assert brief.stdout == "" and "--dest-address" in brief.stderr and brief.returncode == 1


def test_dest_address_is_what_gets_written(example: Path, tmp_path: Path) -> None:
    args = several_addresses(example, tmp_path)
    done = preflight("fix", *args, "--write", "--dest-address", "198.51.100.2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "198.51.100.2\thost2.example.com" in (example / "host1/etc/hosts").read_text()
    assert "given with --dest-address" in done.stdout
    for bad in ("host2.example.com", "127.0.0.1", "0.0.0.0", "10.0.0.300"):
        assert "--dest-address" in one_error_line(preflight("fix", *args, "--dest-address", bad))


# --- 8. examples/run.sh sets up once ----------------------------------------------------------------------------

def test_run_sh_sets_up_once_then_only_checks(tmp_path: Path) -> None:
    top = tmp_path / "top"
    shutil.copytree(EXAMPLES, top / "examples")
    shutil.copy(TOP / "pyproject.toml", top / "pyproject.toml")
    (top / "scripts").mkdir()
    setup = top / "scripts/setup.sh"  # stands in for the installer: counts its runs, links the real preflight
    setup.write_text("#!/bin/sh\nset -eu\ncd \"$(dirname \"$0\")/..\"\necho x >> setup-runs\nmkdir -p .venv/bin\n"
                     f"ln -sf {TOP / '.venv/bin/preflight'} .venv/bin/preflight\n")
    setup.chmod(0o755)
    run = [str(top / "examples/run.sh")]
    first = subprocess.run(run, capture_output=True, text=True, timeout=120)
    assert first.returncode == 1 and "NOT READY" in first.stdout, first.stdout + first.stderr
    start = time.monotonic()
    second = subprocess.run(run, capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - start
    assert second.returncode == 1 and (top / "setup-runs").read_text() == "x\n"
    assert elapsed < 1.0, elapsed
    shown = [ln for ln in second.stderr.splitlines() if ln.startswith("$ preflight check ")]
    assert len(shown) == 1 and f"--source {top}/examples/host1 " in shown[0], second.stderr
    setup.write_text(setup.read_text() + "# changed\n")  # a new set-up script: set up again
    subprocess.run(run, capture_output=True, text=True, timeout=120)
    assert (top / "setup-runs").read_text() == "x\nx\n"


def test_rollback_restores_a_file_whose_backup_is_on_another_file_system(tmp_path: Path) -> None:
    # --backup-dir on another file system: the backup is a copy; a later failure must still put it back.
    from preflight.fix.apply import Target, WriteError, write_all
    from preflight.fix.model import FileChange

    root = tmp_path / "img"
    (root / "etc/ssh").mkdir(parents=True)
    (root / "etc/ssh/sshd_config").write_text("Port 22\n")
    (root / "etc/blocker").write_text("a file where a directory is needed\n")
    elsewhere = Path(tempfile.mkdtemp(dir="/dev/shm"))
    try:
        assert os.stat(elsewhere).st_dev != os.stat(root).st_dev
        target = Target("destination", "image", str(root), str(root), str(elsewhere))
        with pytest.raises(WriteError, match="nothing was changed"):
            write_all([(target, FileChange("destination", "/etc/ssh/sshd_config", "Port 22\n", "Port 2222\n", [])),
                       (target, FileChange("destination", "/etc/blocker/x.conf", None, "x\n", []))], stamp="1")
        assert (root / "etc/ssh/sshd_config").read_text() == "Port 22\n"
        assert not [p for p in elsewhere.rglob("*") if p.is_file()]
        assert sorted(p.name for p in (root / "etc/ssh").iterdir()) == ["sshd_config"]
    finally:
        shutil.rmtree(elsewhere)


def test_fix_exits_1_when_what_it_cannot_change_still_blocks(example: Path) -> None:
    """Nothing for fix to write, but the destination already has another guest of the same name (GST003,
    display-only): the check after the fix still says NOT READY, so fix must not exit 0 (a script
    running `fix --write && virsh migrate` stops there)."""
    (example / "host2.xml").write_text(
        "<node>\n  <domain type='kvm'>\n    <name>guest1-rhel6-64</name>\n"
        "    <uuid>11111111-2222-3333-4444-555555555555</uuid>\n    <memory unit='KiB'>65536</memory>\n"
        "    <os><type>hvm</type></os>\n  </domain>\n</node>\n")
    done = preflight("fix", *plan_args(example), "--select", "GST003", "--format", "json")
    doc = json.loads(done.stdout)
    assert doc["verdict_after"] == "not-ready", doc
    assert doc["exit_code"] == done.returncode == 1, done.stderr
    healthy = preflight("fix", *plan_args(EXAMPLES.parent / "examples"), "--select", "GST003")
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr


def test_fix_leaves_a_waived_finding_alone(example: Path) -> None:
    """A finding the config waives (accepted on purpose, with a reason) is not 'fixed' behind the operator's
    back: its file is not changed, fix says why, and the check after the fix counts it as waived, as check does."""
    (example / "preflight.toml").write_text(
        '[[waivers]]\nrule = "SSH001"\nreason = "host2 takes 5 migrations at once, ticket OPS-7"\n')
    done = subprocess.run([sys.executable, "-m", "preflight.cli", "fix", *plan_args(example), "--format", "json"],
                          capture_output=True, text=True, cwd=example, timeout=120,
                          env={"PATH": "/usr/sbin:/usr/bin:/bin", "NO_COLOR": "1"})
    doc = json.loads(done.stdout)
    paths = [f["path"] for h in doc["hosts"].values() for f in h["files"]]
    assert "/etc/ssh/sshd_config" not in paths and "/etc/hosts" in paths, paths
    [waived] = [n for n in doc["not_fixed"] if n["rule"] == "SSH001"]
    assert "waived" in waived["why"] and "OPS-7" in waived["why"]
    assert doc["verdict_after"] == "ready" and doc["exit_code"] == done.returncode == 1  # changes not written yet
    unwaived = preflight("fix", *plan_args(example), "--format", "json", "--no-config")
    assert "/etc/ssh/sshd_config" in [f["path"] for h in json.loads(unwaived.stdout)["hosts"].values()
                                      for f in h["files"]]
