"""A real libvirtd for the tests, with its own config, sockets and pid file.

It runs in a private mount namespace: tmpfs over /run, /var/lib/libvirt,
/var/cache/libvirt, /var/log/libvirt and a copy of /etc/libvirt bound over the
real one, so it shares no state with a system daemon or another test's daemon
(the qemu driver locks /run/libvirt/qemu/driver.pid: two daemons in one
namespace would collide). Its sockets live in a temp dir we can reach.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.lab.files import QEMU_CONF  # the lab's qemu.conf: root, no security driver, no virtlogd
from tests.support.skips import skip_or_fail

HOST_UUID = "5e1f0c2a-7b7d-4c0e-9d8a-0123456789ab"
GUEST_XML = """<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='none'/>
      <source file='{disk}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <video><model type='none'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
"""


@dataclass
class Libvirtd:
    dir: Path
    pid: int

    @property
    def ro_uri(self) -> str:
        return f"qemu:///system?socket={self.dir}/sock/libvirt-sock-ro"

    @property
    def rw_uri(self) -> str:
        return f"qemu:///system?socket={self.dir}/sock/libvirt-sock"

    @property
    def admin_uri(self) -> str:
        return f"libvirtd:///system?socket={self.dir}/sock/libvirt-admin-sock"


def _destroy_guests(uri: str) -> None:
    import libvirt

    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError:
        return
    try:
        for dom in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
            dom.destroy()
    finally:
        conn.close()


@contextmanager
def start_libvirtd(d: Path) -> Iterator[Libvirtd]:
    if os.geteuid() != 0 or not shutil.which("libvirtd") or not shutil.which("unshare"):
        skip_or_fail("needs root, libvirtd and unshare")
    (d / "sock").mkdir()
    etc = d / "etc"
    shutil.copytree("/etc/libvirt", etc, symlinks=True, ignore=shutil.ignore_patterns("*.xml", "autostart"))
    (etc / "qemu.conf").write_text(QEMU_CONF)
    (etc / "libvirtd.conf").write_text(
        f'unix_sock_dir = "{d}/sock"\nauth_unix_ro = "none"\nauth_unix_rw = "none"\n'
        f'unix_sock_rw_perms = "0700"\nhost_uuid = "{HOST_UUID}"\n'
        "max_clients = 7\nmax_anonymous_clients = 5\nmax_workers = 9\n"
    )
    mounts = " && ".join(
        [
            f"mount -t tmpfs tmpfs {p}"
            for p in ("/run", "/var/lib/libvirt", "/var/cache/libvirt", "/var/log/libvirt")
        ]
        + [f"mount --bind {etc} /etc/libvirt"]
    )
    pidfile = d / "libvirtd.pid"
    inner = f"{mounts} && exec libvirtd -f /etc/libvirt/libvirtd.conf -p {pidfile}"
    with open(d / "libvirtd.log", "wb") as log:
        proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", inner], stderr=log
        )
    try:
        deadline = time.monotonic() + 20
        while not (d / "sock" / "libvirt-sock-ro").exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("libvirtd did not start: " + (d / "libvirtd.log").read_text())
            time.sleep(0.05)
        yield Libvirtd(d, proc.pid)
    finally:
        _destroy_guests(f"qemu:///system?socket={d}/sock/libvirt-sock")  # QEMU outlives libvirtd otherwise
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)  # exec'd: this pid is libvirtd itself
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
