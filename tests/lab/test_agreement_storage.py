"""Agreement scenarios for --copy-storage-all / --copy-storage-inc (issue 8 item 1, STO004).

g1's disk is a 16 MiB qcow2 in host1's local (not shared) directory, LOCAL_DIR; host2 has the
same directory, empty, and no storage pool. What libvirt 9.0 does on the destination (measured
here, read in qemuMigrationDstPrepareStorage): a path that exists is used as it is; a missing one is
pre-created in the active pool whose target path is the disk's directory (qemu-img with
preallocation=falloc: the full virtual size must be free), else "Storage pool not found"; with
--copy-storage-inc nothing is pre-created ("pre-creation of storage targets for incremental storage
migration is not supported") and the image's backing file must be there. A pre-created image of
another virtual size fails the copy ("Source and target image have different sizes").

A small filesystem on host2 is a tmpfs mounted over LOCAL_DIR in host2's own mount namespace;
reset() does not undo mounts, so every scenario here unmounts it before and after.

An image on host2 that names no backing file "succeeds" with --copy-storage-inc and the guest runs
without its base data: STO004 fails it, a real migration does not, so it cannot agree here; it is
proved by test_inc_image_without_backing_loses_the_base (the base's bytes are gone on host2).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator

import pytest

from .files import LOCAL_DIR, SHARED_DIR, guest_xml
from .lab import Lab
from .test_agreement import Scenario, predict, run_scenario

pytestmark = pytest.mark.lab

DISK = f"{LOCAL_DIR}/g1.qcow2"
BASE = f"{LOCAL_DIR}/base.qcow2"
ALL, INC = ["--copy-storage-all"], ["--copy-storage-inc"]


def unmount_small_fs(lab: Lab) -> None:
    """Undo small_fs(): a lazy unmount, QEMU may still hold a file there until the next reset."""
    lab.exec("host2", f"while mountpoint -q {LOCAL_DIR}; do umount -l {LOCAL_DIR} || break; done")


@pytest.fixture(autouse=True)
def _no_small_fs(lab: Lab) -> Iterator[None]:
    unmount_small_fs(lab)
    yield
    unmount_small_fs(lab)


def dir_pool(active: bool = True) -> Callable[[Lab], None]:
    def fault(lab: Lab) -> None:
        xml = f"<pool type='dir'><name>local</name><target><path>{LOCAL_DIR}</path></target></pool>"
        lab.write_file("host2", "/run/lab/pool-local.xml", xml)
        start = " && virsh -q pool-start local" if active else ""
        lab.exec("host2", "virsh -q pool-define /run/lab/pool-local.xml" + start, check=True)
    return fault


def precreated(size: str = "16M", fmt: str = "qcow2") -> Callable[[Lab], None]:
    def fault(lab: Lab) -> None:
        lab.exec("host2", shlex.join(["qemu-img", "create", "-q", "-f", fmt, DISK, size]), check=True)
    return fault


def small_fs_with_pool(lab: Lab) -> None:
    """A 12 MiB filesystem under a pool: more than the disk holds, less than the 16 MiB volume libvirt
    preallocates (measured: 'Could not preallocate new data: No space left on device')."""
    lab.exec("host2", f"mount -t tmpfs -o size=12M lab-small {LOCAL_DIR}", check=True)
    dir_pool()(lab)


def filled_guest(lab: Lab) -> None:
    """g1's 16 MiB disk made to hold 8 MiB of data (written before QEMU opens it again)."""
    lab.exec("host1", "virsh -q destroy g1", timeout=30)
    lab.exec("host1", f"qemu-io -c 'write -P 0x11 0 8M' {DISK} >/dev/null", check=True)
    lab.exec("host1", "virsh -q start g1", check=True, timeout=60)


def small_fs(size: str, then: Callable[[Lab], None]) -> Callable[[Lab], None]:
    def fault(lab: Lab) -> None:
        filled_guest(lab)
        lab.exec("host2", f"mount -t tmpfs -o size={size} lab-small {LOCAL_DIR}", check=True)
        then(lab)
    return fault


def chained_guest(lab: Lab) -> None:
    """g1 (defined diskless by the scenario) becomes a guest on an overlay over a base, both local."""
    lab.exec("host1", "virsh -q destroy g1; virsh -q undefine g1", timeout=30)
    lab.exec("host1", f"qemu-img create -q -f qcow2 {BASE} 16M && "
                      f"qemu-io -c 'write -P 0x5a 0 1M' {BASE} >/dev/null && "
                      f"qemu-img create -q -f qcow2 -F qcow2 -b {BASE} {DISK}", check=True)
    lab.write_file("host1", "/run/lab/g1-chain.xml", guest_xml("g1", DISK))
    lab.exec("host1", "virsh -q define /run/lab/g1-chain.xml && virsh -q start g1", check=True, timeout=60)


def chain_on_dest(base: bool = True, backing_ref: bool = True) -> Callable[[Lab], None]:
    def fault(lab: Lab) -> None:
        chained_guest(lab)
        # the base copied as it is on host1 (what --copy-storage-inc expects to find)
        script = f"qemu-img create -q -f qcow2 {BASE} 16M && qemu-io -c 'write -P 0x5a 0 1M' {BASE} >/dev/null && "
        script += (f"qemu-img create -q -f qcow2 -F qcow2 -b {BASE} {DISK} 16M" if backing_ref
                   else f"qemu-img create -q -f qcow2 {DISK} 16M")
        if not base:
            script += f" && rm {BASE}"
        lab.exec("host2", script, check=True)
    return fault


def guest_with(device: str, where: str, on_dest: bool) -> Callable[[Lab], None]:
    """g1 with its local qcow2 (copied: a pool on host2 takes it) and a disk libvirt never copies: a
    read-only ISO ("cdrom") or a <shareable/> raw disk ("shareable"), in LOCAL_DIR or SHARED_DIR, also
    on host2 when on_dest."""
    base = {"local": LOCAL_DIR, "shared": SHARED_DIR}[where]
    path = f"{base}/extra.{'iso' if device == 'cdrom' else 'raw'}"
    xml_dev = (f"    <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='{path}'/>"
               "<target dev='hdc' bus='ide'/><readonly/></disk>\n" if device == "cdrom" else
               f"    <disk type='file' device='disk'><driver name='qemu' type='raw' cache='none'/>"
               f"<source file='{path}'/><target dev='vdb' bus='virtio'/><shareable/></disk>\n")

    def fault(lab: Lab) -> None:
        lab.exec("host1", "virsh -q destroy g1; virsh -q undefine g1", timeout=30)
        lab.exec("host1", f"qemu-img create -q -f qcow2 {DISK} 16M && truncate -s 1M {path}", check=True)
        xml = guest_xml("g1", DISK).replace("    <controller", xml_dev + "    <controller", 1)
        lab.write_file("host1", "/run/lab/g1-extra.xml", xml)
        lab.exec("host1", "virsh -q define /run/lab/g1-extra.xml && virsh -q start g1", check=True, timeout=60)
        dir_pool()(lab)
        if on_dest and where == "local":
            lab.exec("host2", f"truncate -s 1M {path}", check=True)
    return fault


SCENARIOS = [
    Scenario("--copy-storage-all, local disk, nothing on dest", disk="local", flags=ALL, expect=("STO004",)),
    Scenario("--copy-storage-all, local disk, inactive dir pool on dest", dir_pool(active=False), disk="local",
             flags=ALL, expect=("STO004",)),
    Scenario("--copy-storage-all, local disk, active dir pool on dest", dir_pool(), disk="local", flags=ALL),
    Scenario("--copy-storage-all, local disk, same image pre-created on dest", precreated(), disk="local",
             flags=ALL),
    Scenario("--copy-storage-all, local disk, 32 MiB image pre-created on dest", precreated("32M"), disk="local",
             flags=ALL, expect=("STO004",)),
    Scenario("--copy-storage-all, local disk, raw file pre-created on dest", precreated(fmt="raw"), disk="local",
             flags=ALL, expect=("STO004",)),
    Scenario("--copy-storage-all, dir pool on a 12 MiB filesystem", small_fs_with_pool, disk="local", flags=ALL,
             expect=("STO004",)),
    Scenario("--copy-storage-all, 8 MiB used, image pre-created on a 4 MiB filesystem", small_fs("4M", precreated()),
             disk="local", flags=ALL, expect=("STO004",)),
    Scenario("--copy-storage-all, 8 MiB used, image pre-created on a 12 MiB filesystem",
             small_fs("12M", precreated()), disk="local", flags=ALL),
    Scenario("--copy-storage-all, 8 MiB used, dir pool on a 24 MiB filesystem", small_fs("24M", dir_pool()),
             disk="local", flags=ALL),
    Scenario("--copy-storage-inc, overlay on a base, nothing on dest", chained_guest, disk=None, flags=INC,
             expect=("STO004",)),
    Scenario("--copy-storage-inc, base and overlay on dest", chain_on_dest(), disk=None, flags=INC),
    Scenario("--copy-storage-inc, overlay on dest, its base missing", chain_on_dest(base=False), disk=None,
             flags=INC, expect=("STO004",)),
    # disks the copy leaves out (qemuMigrationAnyCopyDisk): read-only ones must be on the destination,
    # shareable ones on shared storage (qemuMigrationSrcIsSafe still judges them)
    Scenario("--copy-storage-all, read-only ISO missing on dest", guest_with("cdrom", "local", on_dest=False),
             disk=None, flags=ALL, expect=("STO002",)),
    Scenario("--copy-storage-all, read-only ISO on dest too", guest_with("cdrom", "local", on_dest=True),
             disk=None, flags=ALL),
    Scenario("--copy-storage-all, shareable disk in a local directory", guest_with("shareable", "local", True),
             disk=None, flags=ALL, expect=("STO001",)),
    Scenario("--copy-storage-all, shareable disk on shared storage", guest_with("shareable", "shared", True),
             disk=None, flags=ALL),
]


@pytest.mark.parametrize("sc", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_copy_storage_prediction_agrees_with_real_migration(lab: Lab, sc: Scenario) -> None:
    run_scenario(lab, sc)


def test_inc_image_without_backing_loses_the_base(lab: Lab) -> None:
    """The one case where libvirt does not fail: STO004 says NOT READY, the migration 'succeeds', and
    the guest's disk on host2 no longer reads the base's bytes (0x5a) at offset 0."""
    sc = Scenario("--copy-storage-inc, overlay on dest without a backing file", chain_on_dest(backing_ref=False),
                  disk=None, flags=INC, expect=("STO004",))
    sc.fault(lab)
    report = predict(lab, sc, ["g1"])
    assert report["verdict"] == "not-ready", report["verdict"]
    assert any(f["rule"] == "STO004" and f["status"] == "fail" and "without its base data" in f["message"]
               for f in report["findings"])
    [out] = lab.migrate(["g1"], INC)
    assert out.ok, out.first_error_line  # libvirt lets it through
    lab.exec("host2", "virsh -q destroy g1", timeout=30)
    read = lab.exec("host2", f"qemu-io -r -c 'read -P 0x5a 0 1M' {DISK}")
    assert "Pattern verification failed" in read.stdout + read.stderr, read.stdout + read.stderr
