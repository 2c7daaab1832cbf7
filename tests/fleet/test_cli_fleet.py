"""Issue 11 item 2 (and 5): `preflight fleet` end to end on image roots and a real sshd.

Pairs judged from once-gathered snapshots must say what `preflight check` says for the same pair;
a host that cannot be reached is reported and its pairs are UNKNOWN while the rest are judged;
each host is one ssh connection whatever the number of pairs; hostile inventories never reach ssh.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import preflight
from tests.cli import ptyrun
from tests.support.sshd_server import Sshd

TOP = Path(preflight.__file__).resolve().parent.parent
EXAMPLES = TOP / "examples"


def run(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "preflight.cli", *args], capture_output=True, text=True,
                          cwd=cwd or TOP, timeout=timeout)


def fleet_json(*args: str) -> tuple[int, dict]:
    out = run("fleet", *args, "--format", "json")
    assert out.returncode in (0, 1, 3), out.stderr
    data = json.loads(out.stdout)
    assert data["exit_code"] == out.returncode
    return out.returncode, data


@pytest.fixture
def roots(tmp_path: Path) -> Path:
    """The example's two image roots, with /etc/hosts naming both hosts (so NET001 passes)."""
    for h in ("host1", "host2"):
        shutil.copytree(EXAMPLES / h, tmp_path / h)
        shutil.copy(EXAMPLES / f"{h}.xml", tmp_path / f"{h}.xml")
        with open(tmp_path / h / "etc/hosts", "a") as f:
            f.write("10.0.0.10\thost1.example.com host1\n10.0.0.20\thost2.example.com host2\n")
    return tmp_path


def image_inventory(roots: Path, extra: str = "") -> Path:
    path = roots / "hosts.ini"
    path.write_text("[kvm]\n" + "".join(
        f"{h}.example.com preflight_root={h} preflight_libvirt=test://{h}.xml\n" for h in ("host1", "host2")) + extra)
    return path


def check_pair(roots: Path, src: str, dst: str, *flags: str) -> dict:
    guests = [g for g in ("guest1-rhel6-64",) if src == "host1"]
    out = run("check", "--live", *(guests or ["--all-running"]), f"qemu+ssh://{dst}.example.com/system", *flags,
              "--source", str(roots / src), "--source-libvirt", f"test://{roots / src}.xml",
              "--dest", str(roots / dst), "--dest-libvirt", f"test://{roots / dst}.xml", "--format", "json")
    return json.loads(out.stdout)


def failing(findings: list[dict]) -> list[str]:
    return sorted({f["rule"] for f in findings if f["status"] == "fail" and f["severity"] == "error"})


@pytest.mark.parametrize("flags", [(), ("--concurrency", "12"), ("--p2p",)])
def test_pair_verdicts_agree_with_check(roots: Path, flags: tuple[str, ...]) -> None:
    code, data = fleet_json("-i", str(image_inventory(roots)), *flags)
    pairs = {(p["source"], p["destination"]): p for p in data["pairs"]}
    assert set(pairs) == {("host1.example.com", "host2.example.com"), ("host2.example.com", "host1.example.com")}
    src2dst = pairs[("host1.example.com", "host2.example.com")]
    theirs = check_pair(roots, "host1", "host2", *flags)
    assert src2dst["plan"]["guests"] == ["guest1-rhel6-64"]
    assert src2dst["verdict"] == theirs["verdict"]
    assert src2dst["failing_rules"] == failing(theirs["findings"])
    expected = {(): 0, ("--concurrency", "12"): 1, ("--p2p",): 0}[flags]
    assert code == expected, data
    if flags:  # 12 migrations at once: the destination's MaxStartups drops some (SSH001); the reason is named
        assert ("SSH001" in src2dst["failing_rules"]) == (flags[0] == "--concurrency")


def test_example_as_shipped_is_not_ready_on_names(roots: Path) -> None:
    for h in ("host1", "host2"):
        shutil.copy(EXAMPLES / h / "etc/hosts", roots / h / "etc/hosts")
    out = run("fleet", "-i", str(image_inventory(roots)))
    assert out.returncode == 1, out.stderr
    assert "host1.example.com  -               NET001" in out.stdout
    assert "host1.example.com -> host2.example.com: NET001" in out.stdout
    assert out.stdout.rstrip().splitlines()[-1].startswith("NOT READY: 2 pair(s): 0 ready, 2 not ready")


def test_unreachable_host_is_reported_and_its_pairs_unknown(roots: Path, tmp_path: Path) -> None:
    inv = image_inventory(roots, "down.example.com ansible_host=127.0.0.1 ansible_port=1 ansible_user=root\n")
    for h in ("host1", "host2"):  # image roots resolve on /etc/hosts alone
        with open(roots / h / "etc/hosts", "a") as f:
            f.write("10.0.0.30\tdown.example.com\n")
    code, data = fleet_json("-i", str(inv), "--timeout", "3")
    assert code == 3
    down = data["hosts"]["down.example.com"]
    assert down["status"] == "failed" and "refused" in down["reason"].lower()
    verdicts = {(p["source"], p["destination"]): p["verdict"] for p in data["pairs"]}
    assert len(verdicts) == 6
    for (s, d), v in verdicts.items():
        assert v == ("unknown" if "down.example.com" in (s, d) else "ready"), (s, d, v)
    assert data["hosts"]["host1.example.com"]["lint"]["verdict"] == "ready"


def test_each_host_is_one_ssh_connection_whatever_the_pairs(sshd: Sshd, tmp_path: Path) -> None:
    """Three hosts (the same real sshd under three names): 6 pairs judged, 3 ssh logins."""
    inv = tmp_path / "hosts.yml"
    inv.write_text("all:\n  children:\n    kvm:\n      vars: {ansible_host: 127.0.0.1, ansible_user: root, "
                   f"ansible_port: {sshd.port}}}\n      hosts:\n        a.example.com:\n        b.example.com:\n"
                   "        c.example.com:\n")
    before = sshd.accepted()
    code, data = fleet_json("-i", str(inv), "--ssh-config", str(sshd.client_config), "--timeout", "5")
    assert sshd.accepted() - before == 3
    assert len(data["pairs"]) == 6
    for h in data["hosts"].values():
        assert h["status"] == "gathered" and h["ssh_connections"] == 1, h
    assert code in (1, 3)  # this machine's libvirt is not the lab's: never READY without libvirt facts


def test_hostile_inventory_never_reaches_ssh(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    inv = tmp_path / "hosts"
    inv.write_text(f"[kvm]\nok.example.com\nevil ansible_host='-oProxyCommand=touch {marker}'\n")
    out = run("fleet", "-i", str(inv))
    assert out.returncode == 2
    assert f"{inv}:3: host 'evil': ansible_host" in out.stderr and len(out.stderr.splitlines()) == 1
    assert out.stdout == "" and not marker.exists()


def test_host_text_is_escaped_in_every_format(roots: Path) -> None:
    inv = roots / "hosts.yml"
    inv.write_text("all:\n  children:\n    kvm:\n      hosts:\n"
                   '        "evil\\e[32mREADY":\n          preflight_root: host1\n'
                   "          preflight_libvirt: test://host1.xml\n          preflight_dest_name: host1.example.com\n"
                   "        host2.example.com:\n          preflight_root: host2\n"
                   "          preflight_libvirt: test://host2.xml\n")
    for fmt in ("text", "json"):
        out = run("fleet", "-i", str(inv), "--format", fmt)
        assert out.returncode in (0, 1), out.stderr
        assert "\x1b" not in out.stdout
        shown = out.stdout if fmt == "text" else json.dumps(json.loads(out.stdout), ensure_ascii=False)
        assert "\x1b" not in shown and "evil\\x1b[32mREADY" in shown.replace("\\\\", "\\")


@pytest.mark.parametrize(("args", "words"), [
    (["--limit", "nosuch"], "no host left"),
    (["--limit", "kvm[0]"], "subscripts"),
    (["--limit", "host1.example.com"], "no pair to judge"),
    (["--group", "nosuch"], "no such group"),
    (["--forks", "0"], "--forks"),
    (["--tunnelled"], "--p2p"),
])
def test_usage_errors_exit_2(roots: Path, args: list[str], words: str) -> None:
    out = run("fleet", "-i", str(image_inventory(roots)), *args)
    assert out.returncode == 2, out.stdout + out.stderr
    assert words in out.stderr and out.stdout == ""


def test_missing_or_unparsable_inventory_exit_2(tmp_path: Path) -> None:
    out = run("fleet", "-i", str(tmp_path / "nope.ini"))
    assert out.returncode == 2 and "cannot read the inventory" in out.stderr
    bad = tmp_path / "bad.yml"
    bad.write_text("all:\n  hosts: [a\n")
    out = run("fleet", "-i", str(bad))
    assert out.returncode == 2 and f"{bad}:" in out.stderr


def test_group_option_chooses_the_pairing(roots: Path) -> None:
    inv = image_inventory(roots, "[west]\nhost1.example.com\n[east]\nhost2.example.com\n")
    inv.write_text(inv.read_text().replace("[kvm]\n", "[kvm]\n", 1))
    _, data = fleet_json("-i", str(inv), "--group", "west", "--group", "kvm")
    assert {(p["source"], p["destination"]) for p in data["pairs"]} == {
        ("host1.example.com", "host2.example.com"), ("host2.example.com", "host1.example.com")}
    out = run("fleet", "-i", str(inv), "--group", "west")
    assert out.returncode == 2 and "no pair" in out.stderr


def test_progress_on_a_terminal_only(roots: Path) -> None:
    inv = str(image_inventory(roots))
    on_tty = ptyrun.run("fleet", "-i", inv, stdout_tty=False, env={"NO_COLOR": "1", **_venv_path()})
    assert on_tty.returncode == 0, on_tty.tty
    assert "preflight: fleet: " in on_tty.tty and "hosts done" in on_tty.tty
    assert "hosts done" not in on_tty.stdout
    quiet = ptyrun.run("fleet", "-i", inv, "-q", stdout_tty=False, env={"NO_COLOR": "1", **_venv_path()})
    assert "hosts done" not in quiet.tty and quiet.stdout.startswith("READY: 2 pair(s)")


def _venv_path() -> dict[str, str]:
    return {"PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}


def test_select_and_ignore_apply_to_every_pair(roots: Path) -> None:
    inv = str(image_inventory(roots))
    code, data = fleet_json("-i", inv, "--concurrency", "12", "--select", "SSH")
    assert code == 1 and {r for p in data["pairs"] for r in p["failing_rules"]} == {"SSH001"}
    assert {f["rule"] for p in data["pairs"] for f in p["findings"]} <= {"SSH001", "SSH002", "SSH003", "INS001"}
    code, data = fleet_json("-i", inv, "--concurrency", "12", "--ignore", "SSH001")
    assert code == 0 and all(p["verdict"] == "ready" for p in data["pairs"]), data["pairs"]


def test_json_findings_failures_only_unless_verbose(roots: Path) -> None:
    inv = str(image_inventory(roots))
    _, short = fleet_json("-i", inv, "--concurrency", "12")
    _, full = fleet_json("-i", inv, "--concurrency", "12", "-v")
    assert {f["status"] for p in short["pairs"] for f in p["findings"]} == {"fail"}
    assert "pass" in {f["status"] for p in full["pairs"] for f in p["findings"]}
    assert [p["failing_rules"] for p in short["pairs"]] == [p["failing_rules"] for p in full["pairs"]]


def test_a_failed_host_is_shown_on_the_terminal_as_it_fails(roots: Path) -> None:
    inv = str(image_inventory(roots, "down.example.com ansible_host=127.0.0.1 ansible_port=1\n"))
    run = ptyrun.run("fleet", "-i", inv, "--timeout", "3", stdout_tty=False, env={"NO_COLOR": "1", **_venv_path()})
    assert run.returncode in (1, 3), run.tty
    assert "preflight: down.example.com: failed: ssh: connect to host 127.0.0.1 port 1" in run.tty
    assert "1 failed" in run.tty  # the live line's count


def test_saved_facts_are_judged_again_without_any_host(roots: Path, tmp_path: Path) -> None:
    """--save-facts DIR, then --facts DIR: the same pairs and findings, with the image roots gone; the
    plan can change offline (--concurrency)."""
    inv = image_inventory(roots)
    saved = tmp_path / "facts"
    code, first = fleet_json("-i", str(inv), "--save-facts", str(saved))
    assert sorted(p.name for p in saved.iterdir()) == ["host1.example.com.json", "host2.example.com.json"]
    for h in ("host1", "host2"):
        shutil.rmtree(roots / h / "etc")  # nothing left to read: the verdicts come from the snapshots
        (roots / h / "etc").mkdir()
    again_code, again = fleet_json("-i", str(inv), "--facts", str(saved))
    assert again_code == code == 0
    assert [(p["source"], p["destination"], p["verdict"], p["findings"]) for p in again["pairs"]] == \
        [(p["source"], p["destination"], p["verdict"], p["findings"]) for p in first["pairs"]]
    code12, offline = fleet_json("-i", str(inv), "--facts", str(saved), "--concurrency", "12")
    assert code12 == 1 and "SSH001" in offline["pairs"][0]["failing_rules"]


def test_facts_dir_problems_are_usage_errors(roots: Path, tmp_path: Path) -> None:
    inv = str(image_inventory(roots))
    out = run("fleet", "-i", inv, "--facts", str(tmp_path / "none"))
    assert out.returncode == 2 and "not a directory" in out.stderr
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "host1.example.com.json").write_text("{}")
    out = run("fleet", "-i", inv, "--facts", str(tmp_path / "f"))
    assert out.returncode == 2 and "host1.example.com.json: not a usable facts snapshot" in out.stderr
    (tmp_path / "f" / "host1.example.com.json").unlink()
    out = run("fleet", "-i", inv, "--facts", str(tmp_path / "f"))
    assert out.returncode == 2 and "no snapshot of host 'host1.example.com'" in out.stderr


def test_hostile_host_names_never_become_paths() -> None:
    from preflight.fleet.facts import file_name

    assert file_name("kvm01.example.com") == "kvm01.example.com.json"
    for hostile in ("../../etc/passwd", ".hidden", "a/b", "x\x1b[31m", "", "-rf"):
        name = file_name(hostile)
        assert name.startswith("host-") and "/" not in name and name.endswith(".json")
