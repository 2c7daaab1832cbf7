"""The lab itself works: two hosts, ssh by key, libvirtd in both, real live migrations, clean teardown."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from .conftest import note, require_lab
from .files import HOSTS, LOCAL_DIR, SHARED_DIR
from .lab import Lab, _proc_start

pytestmark = pytest.mark.lab

FLAGS = {"native": (), "p2p": ("--p2p",), "tunnelled": ("--p2p", "--tunnelled")}


def sh(lab: Lab, host: str, cmd: str) -> str:
    res = lab.exec(host, cmd, timeout=30)
    assert res.returncode == 0, f"{host}: {cmd}: {res.stderr}"
    return res.stdout.strip()


def test_hosts_are_up_and_distinct(lab: Lab) -> None:
    for h in HOSTS:
        assert sh(lab, h, "hostname") == h
        assert sh(lab, h, "hostname -f") == lab.hostname(h)
        assert sh(lab, h, "cat /etc/hostname") == h
        assert f"inet {lab.host_addr(h)}/24" in sh(lab, h, "ip -4 addr show dev eth0")
        assert "default" not in sh(lab, h, "ip route; ip -6 route")
        caps = sh(lab, h, "virsh -c qemu:///system capabilities")
        assert f"<uuid>{lab.host_uuid(h)}</uuid>" in caps
        assert sh(lab, h, f"findmnt -n -o FSTYPE {SHARED_DIR}") == "fuse.glusterfs"
    assert lab.host_uuid("host1") != lab.host_uuid("host2")


def test_ssh_by_key_batchmode_strict(lab: Lab) -> None:
    cfg = sh(lab, "host1", "ssh -G host2")
    assert "batchmode yes" in cfg and "stricthostkeychecking true" in cfg
    for name in ("host2", lab.hostname("host2"), lab.host_addr("host2")):
        cmd = f"ssh -o BatchMode=yes -o StrictHostKeyChecking=yes {name} hostname"
        assert sh(lab, "host1", cmd) == "host2"
    assert lab.exec("host1", "ssh -o PubkeyAuthentication=no host2 true").returncode != 0
    # an unknown host key is refused, not accepted
    res = lab.exec("host1", "ssh -o UserKnownHostsFile=/dev/null host2 true")
    assert res.returncode != 0 and "verification failed" in res.stderr


def test_libvirtd_answers_in_both(lab: Lab) -> None:
    for h in HOSTS:
        assert lab.daemon_running(h, "libvirtd") and lab.daemon_running(h, "sshd")
        assert sh(lab, h, "virsh -c qemu:///system uri") == "qemu:///system"
    assert sh(lab, "host1", "virsh -c qemu+ssh://host2/system hostname") == lab.hostname("host2")


def test_shared_store_is_shared_and_local_is_not(lab: Lab) -> None:
    lab.write_file("host1", f"{SHARED_DIR}/probe", "shared\n")
    lab.write_file("host1", f"{LOCAL_DIR}/probe", "local\n")
    assert lab.read_file("host2", f"{SHARED_DIR}/probe") == "shared\n"
    assert lab.exec("host2", f"test -e {LOCAL_DIR}/probe").returncode != 0
    lab.write_file("host2", "/etc/hosts", "# changed\n")  # per-host /etc: host1 is unaffected
    assert "host2" in lab.read_file("host1", "/etc/hosts")


@pytest.mark.parametrize("disk", [None, ("shared", "g1.qcow2")], ids=["diskless", "shared-qcow2"])
@pytest.mark.parametrize("mode", list(FLAGS))
def test_live_migration(lab: Lab, mode: str, disk: tuple[str, str] | None) -> None:
    path = lab.define_guest("host1", "g1", disk=disk)
    if disk:
        assert path == f"{SHARED_DIR}/g1.qcow2"
        assert "file format: qcow2" in sh(lab, "host2", f"qemu-img info -U {path}")
    assert lab.domstate("host1", "g1") == "running"
    [out] = lab.migrate(["g1"], FLAGS[mode], timeout=60)
    assert out.ok, out
    note(f"migrate {mode}", out.seconds)
    assert lab.domstate("host2", "g1") == "running"
    assert lab.domstate("host1", "g1") == "shut off"


def test_concurrent_migrations(lab: Lab) -> None:
    guests = [f"g{i}" for i in range(1, 5)]
    for i, g in enumerate(guests):
        lab.define_guest("host1", g, disk=("shared", f"{g}.qcow2") if i % 2 else None)
    outcomes = lab.migrate(guests, timeout=90)
    assert [o.guest for o in outcomes] == guests
    assert all(o.ok for o in outcomes), outcomes
    note("migrate 4 at once", max(o.seconds for o in outcomes))
    assert sorted(sh(lab, "host2", "virsh -c qemu:///system list --name").split()) == guests


def test_local_disk_is_not_shared_storage(lab: Lab) -> None:
    lab.define_guest("host1", "g1", disk=("local", "g1.qcow2"))
    [out] = lab.migrate(["g1"], timeout=60)
    assert not out.ok and "Unsafe migration" in out.first_error_line, out


def test_hanging_migration_is_bounded_and_killed(lab: Lab) -> None:
    lab.define_guest("host1", "g1")
    sh(lab, "host2", "iptables -A INPUT -p tcp --dport 22 -j DROP")  # ssh connect now hangs
    t0 = time.monotonic()
    [out] = lab.migrate(["g1"], timeout=2)
    assert time.monotonic() - t0 < 10
    assert not out.ok and out.timed_out and "timed out" in out.first_error_line, out
    assert "virsh" not in sh(lab, "host1", "ps -e -o comm=").split()
    assert lab.domstate("host1", "g1") == "running"


def test_exec_timeout_kills_the_command(lab: Lab) -> None:
    with pytest.raises(subprocess.TimeoutExpired):
        lab.exec("host1", "sleep 30", timeout=0.5)
    assert "sleep" not in sh(lab, "host1", "ps -e -o comm=").split()


def test_reset_restores_baseline(lab: Lab) -> None:
    hosts_before = lab.read_file("host1", "/etc/hosts")
    lab.define_guest("host1", "g1", disk=("shared", "g1.qcow2"))
    lab.write_file("host1", "/etc/hosts", "127.0.0.1 localhost\n")
    lab.write_file("host2", "/etc/libvirt/libvirtd.conf", "max_clients = 1\n")
    lab.write_file("host2", "/etc/ssh/sshd_config.d/x.conf", "MaxStartups 1\n")
    lab.exec("host2", "hostname localhost.localdomain", check=True)
    lab.stop_daemon("host2", "libvirtd")
    lab.spawn("host1", "sleep 300")
    assert not lab.daemon_running("host2", "libvirtd")
    lab.reset()
    assert lab.timings["reset"] < 5
    assert lab.read_file("host1", "/etc/hosts") == hosts_before
    conf = lab.read_file("host2", "/etc/libvirt/libvirtd.conf")
    assert not conf.startswith("max_clients") and f'host_uuid = "{lab.host_uuid("host2")}"' in conf
    assert lab.exec("host2", "test -e /etc/ssh/sshd_config.d/x.conf").returncode != 0
    assert sh(lab, "host2", "hostname") == "host2"
    assert sh(lab, "host1", "virsh -c qemu:///system list --all --name") == ""
    assert sh(lab, "host1", f"ls -A {SHARED_DIR}") == ""
    assert "sleep" not in sh(lab, "host1", "ps -e -o comm=").split()
    for h in HOSTS:
        assert lab.daemon_running(h, "libvirtd") and lab.daemon_running(h, "sshd")


def test_restart_and_stop_daemons(lab: Lab) -> None:
    lab.stop_daemon("host2", "sshd")
    assert lab.exec("host1", "ssh host2 true").returncode != 0
    lab.restart_daemon("host2", "sshd")
    lab.restart_daemon("host2", "libvirtd")
    assert sh(lab, "host1", "virsh -c qemu+ssh://host2/system uri") == "qemu+ssh://host2/system"


def test_up_is_idempotent_and_down_leaves_nothing(tmp_path: Path) -> None:
    """A second, independent lab: up twice, then 'crash' (lose the object) and tear down from state.json."""
    require_lab()
    links_before = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    lab = Lab(tmp_path / "lab2")
    try:
        lab.up()
        state = lab.state_file.read_text()
        lab.up()
        assert lab.state_file.read_text() == state and lab.timings["up"] < 1
        pids = [lab._alive(h, role) for h in HOSTS for role in ("init", "unshare")]
        assert all(pids)
        Lab(tmp_path / "lab2").down()  # as after a crash: a fresh object that only has state.json
    finally:
        lab.down()
    assert not (tmp_path / "lab2").exists()
    assert all(_proc_start(p) is None for p in pids if p)
    assert str(tmp_path) not in Path("/proc/self/mountinfo").read_text()
    assert subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout == links_before
    lab.down()  # idempotent


def test_cannot_build_skips_or_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    from . import conftest

    monkeypatch.setattr(conftest, "missing_prerequisites", lambda: ["no /dev/fuse"])
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no /dev/fuse"):
        conftest.require_lab()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no /dev/fuse"):
        conftest.require_lab()
