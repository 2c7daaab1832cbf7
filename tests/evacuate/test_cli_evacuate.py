"""Issue 11 item 1 end to end on the example image roots (examples/host1, examples/host2 with libvirt's
test driver): `preflight evacuate` agrees with `check`, prints a runnable plan, and its exit codes."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
EXAMPLES = TOP / "examples"
GUEST = "guest1-rhel6-64"


def preflight(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "preflight.cli", *args], capture_output=True, text=True,
                          cwd=TOP, timeout=120, env={"PATH": "/usr/sbin:/usr/bin:/bin", "NO_COLOR": "1"})


def roots(tmp: Path, names_known: bool) -> Path:
    """A copy of the examples, plus host3 (host2 renamed); names_known: host1's /etc/hosts names both."""
    shutil.copytree(EXAMPLES, tmp / "ex", ignore=shutil.ignore_patterns("run.sh"))
    ex = tmp / "ex"
    shutil.copytree(ex / "host2", ex / "host3")
    (ex / "host3" / "etc" / "hostname").write_text("host3.example.com\n")
    shutil.copy(ex / "host2.xml", ex / "host3.xml")
    if names_known:
        with (ex / "host1" / "etc" / "hosts").open("a") as f:
            f.write("10.0.0.20\thost2.example.com host2\n10.0.0.30\thost3.example.com host3\n")
    return ex


def evacuate(ex: Path, *dests: str, fmt: str = "json") -> subprocess.CompletedProcess[str]:
    args = ["evacuate", str(ex / "host1"), "--source-libvirt", f"test://{ex / 'host1.xml'}"]
    for d in dests:
        args += ["--to", str(ex / d), "--dest-libvirt", f"test://{ex / d}.xml"]
    return preflight(*args, "--format", fmt)


def check_errors(ex: Path, dest: str) -> list[str]:
    out = preflight("check", "--live", GUEST, f"qemu+ssh://{dest}.example.com/system", "--source", str(ex / "host1"),
                    "--source-libvirt", f"test://{ex / 'host1.xml'}", "--dest", str(ex / dest), "--dest-libvirt",
                    f"test://{ex / dest}.xml", "--format", "json")
    report = json.loads(out.stdout)
    return sorted({f["rule"] for f in report["findings"] if f["status"] in ("fail", "unknown")
                   and f["severity"] == "error"})


def test_example_as_shipped_fits_nowhere_for_the_reason_check_gives(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "ex")
    ex = tmp_path / "ex"
    out = evacuate(ex, "host2")
    assert out.returncode == 1, out.stderr
    data = json.loads(out.stdout)
    assert data["verdict"] == "not-ready" and data["exit_code"] == 1 and data["waves"] == []
    (reason,) = data["unplaced"][GUEST]
    assert reason["rules"] == check_errors(ex, "host2") == ["NET001"]
    text = evacuate(ex, "host2", fmt="text")
    assert text.returncode == 1 and "NET001" in text.stdout.split("fit nowhere:")[1]


def test_fixed_example_prints_a_plan_with_the_virsh_command(tmp_path: Path) -> None:
    ex = roots(tmp_path, names_known=True)
    out = evacuate(ex, "host2")
    assert out.returncode == 0, out.stdout + out.stderr
    data = json.loads(out.stdout)
    assert check_errors(ex, "host2") == [] and data["verdict"] == "ready"
    (wave,) = data["waves"]
    (move,) = wave["migrations"]
    want = ["virsh", "-c", "qemu:///system", "migrate", "--live", GUEST, "qemu+ssh://host2.example.com/system"]
    assert move["argv"] == want and shlex.split(move["command"]) == want
    text = evacuate(ex, "host2", fmt="text")
    assert text.returncode == 0 and shlex.join(want) + " &" in text.stdout.splitlines()
    parsed = subprocess.run(["sh", "-n"], input=text.stdout, capture_output=True, text=True, timeout=10)
    assert parsed.returncode == 0, parsed.stderr  # the plan is a shell script a person can run


def test_two_destinations_one_excluded_by_a_host_level_failure(tmp_path: Path) -> None:
    ex = roots(tmp_path, names_known=True)
    hosts = ex / "host1" / "etc" / "hosts"
    hosts.write_text(hosts.read_text().replace("host3.example.com host3", "other"))  # host3 unresolvable
    out = evacuate(ex, "host3", "host2")
    assert out.returncode == 0, out.stdout + out.stderr
    data = json.loads(out.stdout)
    first, second = data["destinations"]
    assert first["excluded"] and {f["rule"] for f in first["host_blocking"]} == {"NET001"}
    assert not second["excluded"] and data["placement"] == {GUEST: "dest2"}


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    ex = tmp_path
    for args in (["evacuate", "local"],  # no destination
                 ["evacuate", "local", "--to", "local"],  # local is no destination
                 ["evacuate", "local", "--to", "ssh://-oProxyCommand=x"],
                 ["evacuate", "local", "--to", "ssh://h2", "--dest-libvirt", "test:///a", "--dest-libvirt",
                  "test:///b"],
                 ["evacuate", "local", "--to", "ssh://h2", "--tunnelled"],
                 ["evacuate", "local", "--to", "ssh://h2", "ssh://h2"]):
        out = preflight(*args)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        assert out.stderr.startswith("preflight: error:"), out.stderr
    del ex


def test_saved_facts_give_the_same_plan_as_gathering(tmp_path: Path) -> None:
    ex = roots(tmp_path, names_known=True)
    for host, role in (("host1", "source"), ("host2", "destination"), ("host3", "destination")):
        saved = preflight("facts", str(ex / host), "--libvirt", f"test://{ex / host}.xml", "--role", role,
                          "-o", str(tmp_path / f"{host}.json"),
                          *(["--resolve", "host2.example.com", "--resolve", "host3.example.com"] if role == "source"
                            else ["--disk", "/var/lib/libvirt/images/guest1-rhel6-64.qcow2"]))
        assert saved.returncode == 0, saved.stderr
    gathered = json.loads(evacuate(ex, "host2", "host3").stdout)
    out = preflight("evacuate", str(ex / "host1"), "--source-facts", str(tmp_path / "host1.json"),
                    "--to", str(ex / "host2"), "--dest-facts", str(tmp_path / "host2.json"),
                    "--to", str(ex / "host3"), "--dest-facts", str(tmp_path / "host3.json"), "--format", "json")
    assert out.returncode == 0, out.stdout + out.stderr
    data = json.loads(out.stdout)
    assert data["placement"] == gathered["placement"] and data["waves"] == gathered["waves"]
    assert [d["excluded"] for d in data["destinations"]] == [False, False]
    # a destination saved without the guest's disk: STO002 could not be seen there, nothing refused it
    (tmp_path / "host2.json").unlink()
    assert preflight("facts", str(ex / "host2"), "--libvirt", f"test://{ex / 'host2'}.xml", "--role", "destination",
                     "-o", str(tmp_path / "host2.json")).returncode == 0
    out = preflight("evacuate", str(ex / "host1"), "--source-facts", str(tmp_path / "host1.json"),
                    "--to", str(ex / "host2"), "--dest-facts", str(tmp_path / "host2.json"), "--format", "json")
    data = json.loads(out.stdout)
    (reason,) = data["unplaced"][GUEST]
    assert out.returncode == 3 and not reason["definite"] and "STO002" in reason["rules"], data["unplaced"]


def test_progress_on_a_terminal_only_and_not_with_quiet(tmp_path: Path) -> None:
    from tests.cli.ptyrun import run

    ex = roots(tmp_path, names_known=True)
    args = ["evacuate", str(ex / "host1"), "--source-libvirt", f"test://{ex / 'host1.xml'}", "--to", str(ex / "host2"),
            "--dest-libvirt", f"test://{ex / 'host2.xml'}"]
    shown = run(*args, stdout_tty=False)
    assert shown.returncode == 0 and "hosts done" in shown.tty, shown.tty
    assert "virsh -c qemu:///system migrate" in shown.stdout
    quiet = run(*args, "--quiet", stdout_tty=False)
    assert quiet.returncode == 0 and "hosts done" not in quiet.tty
    assert quiet.stdout.startswith("# preflight evacuate") and quiet.stdout.count("\n") == 1
