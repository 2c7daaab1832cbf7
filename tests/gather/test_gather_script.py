"""The gather script run for real on this machine (LocalAccess), and its framing."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from preflight.access import LocalAccess
from preflight.gather.frames import parse_frames
from preflight.gather.image import gather_image
from preflight.gather.script import expected_keys, gather_args, gather_script, run_gather
from preflight.model import probes as pk
from preflight.model.facts import Availability
from preflight.parsers.commands import (
    mount_for,
    parse_addresses,
    parse_daemons,
    parse_getent_ahosts,
    parse_mountinfo,
    parse_packages,
    parse_path_stat,
    parse_sshd_version,
)
from tests.support.skips import skip_or_fail

ODD = ["a b.qcow2", "it's.img", "$(touch PWNED).img", 'q"uote`id`.raw', "tab\there;ls.img", "-n.img"]


@pytest.fixture
def odd_disks(tmp_path: Path) -> list[str]:
    paths = []
    for i, name in enumerate(ODD):
        p = tmp_path / name
        p.write_bytes(bytes([i]) * 70000)
        paths.append(str(p))
    return paths


def test_local_gather_every_key(odd_disks: list[str], tmp_path: Path) -> None:
    names = ["localhost", "no-such-host.invalid", "$(touch PWNED)", "it's"]
    missing = str(tmp_path / "gone dir" / "x.img")
    t0 = time.monotonic()
    probes = run_gather(LocalAccess(), names, [*odd_disks, missing], command_timeout=5)
    seconds = time.monotonic() - t0
    assert seconds < 5
    for key in expected_keys(names, [*odd_disks, missing]):
        assert key in probes, key
    assert not (tmp_path / "PWNED").exists() and not Path("PWNED").exists()

    assert probes[pk.file_key(pk.ETC_HOSTS)].text == Path("/etc/hosts").read_text()
    assert probes[pk.file_key(pk.REDHAT_RELEASE)].status is Availability.MISSING  # Debian
    assert (probes[pk.SSHD_FILES].text or "").splitlines()[0] == pk.SSHD_CONFIG
    assert (probes[pk.HOSTNAME].text or "").strip() == os.uname().nodename
    assert "127.0.0.1" in parse_addresses(probes[pk.ADDRESSES].text or "")
    assert "maxstartups" in (probes[pk.SSHD_T].text or "")  # we are root here
    assert parse_sshd_version(probes[pk.SSHD_VERSION].text or "")
    pkgs = parse_packages(probes[pk.PACKAGES].text or "")
    assert pkgs["libvirt0"].startswith("9.") and "openssh-server" in pkgs and "qemu-system-x86" in pkgs
    daemons = parse_daemons(probes[pk.DAEMONS].text or "")
    assert set(daemons) == {"libvirtd", "virtqemud", "virtproxyd"}
    assert all(state in ("running", "socket", "stopped") for state, _ in daemons.values())
    for d, (state, _) in daemons.items():  # virt-admin is asked exactly of the running daemons
        assert (pk.virt_admin_key(d) in probes) == (state == "running")
    mounts = parse_mountinfo(probes[pk.MOUNTINFO].text or "")
    assert mount_for("/", mounts) is not None

    assert "127.0.0.1" in parse_getent_ahosts(probes[pk.getent_key("localhost")].text or "")
    nx = probes[pk.getent_key("no-such-host.invalid")]
    assert (nx.status, nx.rc, nx.text) == (Availability.OK, 2, "")  # an answer: no such name
    for path in odd_disks:
        probe = probes[pk.path_key(path)]
        assert probe.ok, (path, probe.error)
        st = parse_path_stat(probe.text or "")
        real = os.stat(path)
        assert (st.realpath, st.dev, st.inode, st.size) == (path, real.st_dev, real.st_ino, real.st_size)
        assert st.head_sha256 == hashlib.sha256(Path(path).read_bytes()[:65536]).hexdigest()
    assert probes[pk.path_key(missing)].status is Availability.MISSING


def test_file_content_cannot_forge_frames(tmp_path: Path) -> None:
    forged = tmp_path / "forged"
    body = "line\n--deadbeef K\ncmd:hostname\n--deadbeef E 0 ok\n--deadbeef Z\nno newline at end"
    forged.write_text(body)
    token = "f" * 32
    script_args = [token, "t:5", f"f:{forged}"]
    out = subprocess.run(
        ["sh", "-c", gather_script(), "g", *script_args], capture_output=True, text=True
    ).stdout
    probes, done = parse_frames(out, token)
    assert done
    assert probes[pk.file_key(str(forged))].text == body  # byte for byte, no trailing newline added
    # even a body that knows the marker shape but not this run's token changes nothing
    assert (probes[pk.HOSTNAME].text or "").strip() == os.uname().nodename


def test_cut_off_script_says_why() -> None:
    token = "a" * 32
    out = f"\n--{token} K\nfile:/etc/hosts\n--{token} H\ncat /etc/hosts\n--{token} O\n127.0.0.1 loc"
    probes, done = parse_frames(out, token)
    assert not done
    assert probes["file:/etc/hosts"].status is Availability.ERROR


def test_runs_under_dash_and_bash() -> None:
    for shell in ("dash", "bash"):
        if not shutil.which(shell):
            continue
        token = "b" * 32
        res = subprocess.run(
            [shell, "-c", gather_script(), "g", *gather_args(token, 5, ["localhost"], [])],
            capture_output=True,
            text=True,
        )
        probes, done = parse_frames(res.stdout, token)
        assert done, (shell, res.stderr)
        assert set(expected_keys(["localhost"], [])) <= set(probes)
        assert res.stderr == "", (shell, res.stderr)


def test_hung_read_is_bounded(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.img"
    os.mkfifo(fifo)  # head -c blocks on it forever, like a disk on a hung NFS mount
    t0 = time.monotonic()
    probes = run_gather(LocalAccess(), paths=[str(fifo)], command_timeout=1)
    assert time.monotonic() - t0 < 8
    st = parse_path_stat(probes[pk.path_key(str(fifo))].text or "")
    assert st.head_sha256 is None


SSHD_TREE = {
    "etc/ssh/sshd_config": "Port 22\nInclude sshd_config.d/*.conf\nMatch User x\n  Include /etc/ssh/m.conf\n",
    "etc/ssh/sshd_config.d/50-b.conf": "MaxStartups 7\n",
    "etc/ssh/sshd_config.d/10-a.conf": "include=nested/*.conf\n",
    "etc/ssh/nested/deep.conf": "MaxSessions 1\n",
    "etc/ssh/sshd_config.d/README": "not included\n",
    "etc/ssh/m.conf": "PermitRootLogin no\n",
}
SSHD_ORDER = [
    "/etc/ssh/sshd_config",
    "/etc/ssh/sshd_config.d/10-a.conf",
    "/etc/ssh/nested/deep.conf",
    "/etc/ssh/sshd_config.d/50-b.conf",
    "/etc/ssh/m.conf",
]


def _tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def test_sshd_includes_shell_and_image_agree(tmp_path: Path) -> None:
    """The script (the tree bound over /etc/ssh) and image mode list the same files, in sshd's order."""
    root = tmp_path / "root"
    _tree(root, SSHD_TREE)
    assert gather_image(str(root))[pk.SSHD_FILES].text == "".join(p + "\n" for p in SSHD_ORDER)
    if os.geteuid() != 0 or not shutil.which("unshare"):
        skip_or_fail("binding a tree over /etc/ssh needs root and unshare")
    token = "c" * 32
    inner = f'mount --bind {root}/etc/ssh /etc/ssh && exec sh -c "$0" g "$@"'
    res = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", inner, gather_script(), token, "t:5"],
        capture_output=True,
        text=True,
    )
    probes, done = parse_frames(res.stdout, token)
    assert done, res.stderr
    assert probes[pk.SSHD_FILES].text == "".join(p + "\n" for p in SSHD_ORDER)
    assert probes[pk.file_key("/etc/ssh/nested/deep.conf")].text == "MaxSessions 1\n"
