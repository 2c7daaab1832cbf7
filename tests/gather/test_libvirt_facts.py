"""libvirt facts from the test driver and from a real libvirtd started by the test."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import libvirt
import pytest

from preflight.gather.libvirt_facts import gather_libvirt
from preflight.model.facts import Availability, HostMode, HostSnapshot
from preflight.parsers.commands import parse_virt_admin
from tests.support.libvirtd_server import GUEST_XML, HOST_UUID, Libvirtd

NODE_XML = """<node>
  <domain type='test'>
    <name>guest1</name>
    <uuid>11111111-2222-3333-4444-555555555555</uuid>
    <memory>65536</memory>
    <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>
    <cpu mode='host-model'/>
    <devices>
      <disk type='file' device='disk'>
        <driver name='qemu' type='qcow2' cache='none'/>
        <source file='/var/lib/libvirt/images/shared/guest 1.qcow2'/>
        <target dev='vda' bus='virtio'/>
      </disk>
      <disk type='block' device='disk'>
        <source dev='/dev/vg0/data'/>
        <target dev='vdb' bus='virtio'/>
        <shareable/>
      </disk>
      <disk type='network' device='disk'>
        <source protocol='rbd' name='pool/image'/>
        <target dev='vdc' bus='virtio'/>
      </disk>
      <disk type='volume' device='cdrom'>
        <source pool='isos' volume='rhel.iso'/>
        <target dev='sda' bus='sata'/>
        <readonly/>
      </disk>
      <interface type='bridge'>
        <mac address='52:54:00:aa:bb:cc'/>
        <source bridge='br0'/>
      </interface>
      <interface type='network'>
        <source network='default'/>
      </interface>
      <hostdev mode='subsystem' type='pci' managed='yes'>
        <source><address domain='0x0000' bus='0x01' slot='0x00' function='0x1'/></source>
      </hostdev>
    </devices>
  </domain>
  <domain type='test'>
    <name>second</name>
    <memory>65536</memory>
    <os><type>hvm</type></os>
  </domain>
</node>
"""


def _node(tmp_path: Path) -> str:
    path = tmp_path / "host.xml"
    path.write_text(NODE_XML)
    return f"test://{path}"


def test_default_test_driver() -> None:
    facts = gather_libvirt("test:///default")
    assert facts.status is Availability.OK
    assert facts.hypervisor_type == "TEST"
    assert facts.lib_version and facts.lib_version.count(".") == 2
    assert [g.name for g in facts.guests] == ["test"]
    assert facts.guests[0].state == "running"
    assert "host_uuid" in facts.errors  # the test driver's capabilities carry none


def test_node_xml_guest_details(tmp_path: Path) -> None:
    facts = gather_libvirt(_node(tmp_path))
    g = facts.guest("guest1")
    assert g is not None and g.state == "running" and g.persistent
    assert (g.machine, g.cpu_mode) == ("pc-q35-7.2", "host-model")
    disks = {d.target: d for d in g.disks}
    assert disks["vda"].source == "/var/lib/libvirt/images/shared/guest 1.qcow2"
    assert (disks["vda"].type, disks["vda"].cache) == ("file", "none")
    assert (disks["vdb"].type, disks["vdb"].source, disks["vdb"].shareable) == (
        "block",
        "/dev/vg0/data",
        True,
    )
    assert (disks["vdc"].source, disks["vdc"].protocol) == ("rbd:pool/image", "rbd")
    assert (disks["sda"].device, disks["sda"].source, disks["sda"].readonly) == (
        "cdrom",
        "isos/rhel.iso",
        True,
    )
    assert [(i.type, i.source, i.mac) for i in g.interfaces][0] == ("bridge", "br0", "52:54:00:aa:bb:cc")
    assert g.interfaces[1].source == "default"
    assert g.hostdevs == ["pci 0000:01:00.1"]
    assert facts.guest("second") is not None
    # the snapshot keeps all of it through JSON
    snap = HostSnapshot(role="source", spec="local", mode=HostMode.LOCAL, libvirt=facts)
    assert HostSnapshot.from_json(snap.to_json()) == snap


def test_cannot_open_is_error_with_message_and_silent(
    capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    facts = gather_libvirt(f"qemu:///system?socket={tmp_path}/absent-sock")
    assert facts.status is Availability.ERROR
    assert facts.error and "absent-sock" in facts.error
    assert capfd.readouterr().err == ""  # libvirt's default handler would print here


def test_hanging_daemon_is_bounded(tmp_path: Path) -> None:
    # A socket that accepts and never answers: what a daemon with every client slot held looks like.
    path = str(tmp_path / "mute-sock")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(5)
    try:
        t0 = time.monotonic()
        facts = gather_libvirt(f"qemu:///system?socket={path}", timeout=1.0)
        assert time.monotonic() - t0 < 3
        assert facts.status is Availability.ERROR
        assert facts.error and "no answer" in facts.error
    finally:
        srv.close()


@pytest.mark.libvirtd
def test_real_libvirtd(libvirtd: Libvirtd, tmp_path: Path) -> None:
    disk = tmp_path / "disk one.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "16M"], check=True)
    rw = libvirt.open(libvirtd.rw_uri)
    try:
        running = rw.defineXML(GUEST_XML.format(name="live1", disk=disk))
        rw.defineXML(GUEST_XML.format(name="off1", disk=disk))
        running.create()
        t0 = time.monotonic()
        facts = gather_libvirt(libvirtd.ro_uri)
        seconds = time.monotonic() - t0
    finally:
        for dom in rw.listAllDomains():
            if dom.isActive():
                dom.destroy()
            dom.undefine()
        rw.close()
    assert facts.status is Availability.OK, facts.error
    assert facts.hypervisor_type == "QEMU"
    assert facts.hypervisor_version and facts.hypervisor_version.startswith("7.")
    assert facts.lib_version and facts.lib_version.startswith("9.")
    assert facts.hostname == os.uname().nodename
    assert facts.host_uuid == HOST_UUID
    states = {g.name: (g.state, g.persistent) for g in facts.guests}
    assert states == {"live1": ("running", True), "off1": ("shutoff", True)}
    live = facts.guest("live1")
    assert live and live.machine and live.machine.startswith("pc-i440fx")
    assert [(d.source, d.cache) for d in live.disks] == [(str(disk), "none")]
    assert facts.errors == {}
    assert seconds < 5, f"gather took {seconds:.1f} s"


@pytest.mark.libvirtd
def test_real_virt_admin_output_parses(libvirtd: Libvirtd) -> None:
    out = ""
    for cmd in ("srv-clients-info", "srv-threadpool-info"):
        res = subprocess.run(
            ["virt-admin", "-c", libvirtd.admin_uri, cmd, "libvirtd"],
            capture_output=True,
            text=True,
            check=True,
        )
        out += res.stdout
    got = parse_virt_admin(out)
    assert got["nclients_max"] == 7 and got["nclients_unauth_max"] == 5 and got["maxWorkers"] == 9
    assert {"nclients", "nclients_unauth", "minWorkers", "nWorkers", "freeWorkers", "prioWorkers"} <= set(got)
    assert "jobQueueDepth" in got
