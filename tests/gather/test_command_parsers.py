"""The command-output parsers, on this machine's real outputs and on edge cases."""

from __future__ import annotations

import doctest
import os
import shutil
import subprocess

import pytest

import preflight.access.spec
import preflight.gather.libvirt_facts
import preflight.parsers.commands
from preflight.parsers.commands import (
    Mount,
    mount_for,
    parse_addresses,
    parse_getent_ahosts,
    parse_mountinfo,
    parse_path_stat,
    parse_sshd_version,
)
from tests.support.skips import skip_or_fail


@pytest.mark.parametrize(
    "module", [preflight.parsers.commands, preflight.access.spec, preflight.gather.libvirt_facts]
)
def test_doctests(module: object) -> None:
    assert doctest.testmod(module).failed == 0  # type: ignore[arg-type]


def test_addresses_from_ip_and_hostname_agree() -> None:
    if not shutil.which("ip"):
        skip_or_fail("no ip")
    ip = parse_addresses(subprocess.run(["ip", "-o", "addr", "show"], capture_output=True, text=True).stdout)
    hostname_i = parse_addresses(subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout)
    assert "127.0.0.1" in ip
    assert set(hostname_i) <= set(ip)  # hostname -I leaves out loopback and link-local


def test_getent_unique_in_order() -> None:
    text = "fd00::2 STREAM h\nfd00::2 DGRAM\n198.18.0.12 STREAM\n198.18.0.12 RAW\n"
    assert parse_getent_ahosts(text) == ["fd00::2", "198.18.0.12"]
    assert parse_getent_ahosts("") == []


def test_mountinfo_real_and_escaped() -> None:
    with open("/proc/self/mountinfo") as f:
        mounts = parse_mountinfo(f.read())
    assert mount_for(os.getcwd(), mounts) is not None
    text = (
        "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
        "2 1 0:40 / /var/lib/libvirt/images/shared rw,nosuid - fuse.glusterfs store rw\n"
        "3 1 0:41 / /mnt/with\\040space rw - nfs4 srv:/e\\134x rw\n"
        "4 2 0:42 / /var/lib/libvirt/images/shared rw - ext4 /dev/sdb rw\n"  # mounted over: wins
    )
    mounts = parse_mountinfo(text)
    assert mounts[2] == Mount("/mnt/with space", "nfs4", "srv:/e\\x", "rw")
    assert mount_for("/mnt/with space/a.img", mounts) == mounts[2]
    assert mount_for("/var/lib/libvirt/images/shared/g.qcow2", mounts) == mounts[3]
    assert mount_for("/var/lib/libvirt/images/sharedX", mounts) == mounts[0]


def test_path_stat_with_tab_in_path_and_bad_text() -> None:
    st = parse_path_stat("/a\tb.img\t1\t2\t3\t4\t5\t" + "0" * 64 + "\n")
    assert (st.realpath, st.dev, st.ctime) == ("/a\tb.img", 1, 5)
    with pytest.raises(ValueError):
        parse_path_stat("garbage")


def test_sshd_version_old_usage_text() -> None:
    # OpenSSH 7.4 has no -V: it complains, then prints the version before the usage
    assert parse_sshd_version("OpenSSH_7.4p1, OpenSSL 1.0.2k-fips  26 Jan 2017") == "7.4p1"
    assert parse_sshd_version("sshd: illegal option -- V") is None
