"""Image mode and the pair orchestration, on real local parts (no mocks)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from preflight.access import HostSpecError, parse_host_spec
from preflight.gather import default_libvirt_uri, gather_host, gather_pair
from preflight.gather.image import NOT_AVAILABLE, gather_image, path_in_root
from preflight.model import probes as pk
from preflight.model.facts import Availability, HostMode, HostSnapshot
from preflight.model.plan import MigrationPlan


def _image(root: Path) -> None:
    files = {
        "etc/hosts": "127.0.0.1 localhost\n198.18.0.12 host2.example.com host2\n",
        "etc/hostname": "host1.example.com\n",
        "usr/lib/os-release": 'NAME="Red Hat Enterprise Linux"\nVERSION_ID="9.4"\n',
        "etc/ssh/sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\nMaxStartups 10:30:100\n",
        "etc/ssh/sshd_config.d/50-redhat.conf": "UsePAM yes\n",
        "etc/libvirt/libvirtd.conf": "max_clients = 20\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    # An absolute link must resolve inside the image, never to this machine's /usr/lib/os-release.
    os.symlink("/usr/lib/os-release", root / "etc/os-release")


def test_host_specs(tmp_path: Path) -> None:
    assert parse_host_spec("local").kind == "local"
    s = parse_host_spec("ssh://Admin@Host2.Example.com:2222")
    assert (s.kind, s.user, s.host, s.port) == ("ssh", "Admin", "Host2.Example.com", 2222)
    assert parse_host_spec("ssh://[fd00::2]").host == "fd00::2"
    assert str(parse_host_spec("ssh://root@h:22")) == "ssh://root@h:22"
    assert parse_host_spec(str(tmp_path)).root == str(tmp_path)
    for bad in ("ssh://", "ssh://h/path", "tcp://h", str(tmp_path / "absent")):
        with pytest.raises(HostSpecError):
            parse_host_spec(bad)


def test_default_libvirt_uris(tmp_path: Path) -> None:
    assert default_libvirt_uri(parse_host_spec("local")) == "qemu:///system"
    assert (
        default_libvirt_uri(parse_host_spec("ssh://root@host2:2222"))
        == "qemu+ssh://root@host2:2222/system?no_tty=1&no_verify=0"
    )
    assert default_libvirt_uri(parse_host_spec(str(tmp_path))) is None


def test_image_mode(tmp_path: Path) -> None:
    _image(tmp_path)
    probes = gather_image(str(tmp_path), names=["host2"], paths=["/srv/a.img"])
    assert probes[pk.file_key(pk.OS_RELEASE)].text == 'NAME="Red Hat Enterprise Linux"\nVERSION_ID="9.4"\n'
    assert probes[pk.file_key(pk.REDHAT_RELEASE)].status is Availability.MISSING
    assert probes[pk.SSHD_FILES].text == "/etc/ssh/sshd_config\n/etc/ssh/sshd_config.d/50-redhat.conf\n"
    assert probes[pk.file_key("/etc/ssh/sshd_config.d/50-redhat.conf")].text == "UsePAM yes\n"
    for key in (pk.SSHD_T, pk.PACKAGES, pk.DAEMONS, pk.getent_key("host2"), pk.path_key("/srv/a.img")):
        assert probes[key].status is Availability.NOT_AVAILABLE and probes[key].error == NOT_AVAILABLE
    assert path_in_root(str(tmp_path), "/etc/../../../etc/hosts") == str(tmp_path / "etc/hosts")


def _node(tmp_path: Path, disk: Path) -> str:
    xml = f"""<node><domain type='test'><name>guest1</name><memory>65536</memory>
      <os><type>hvm</type></os><devices>
      <disk type='file' device='disk'><source file='{disk}'/><target dev='vda'/></disk>
      <disk type='network' device='disk'><source protocol='rbd' name='p/i'/><target dev='vdb'/></disk>
      </devices></domain></node>"""
    path = tmp_path / "node.xml"
    path.write_text(xml)
    return f"test://{path}"


def test_pair_local_to_image(tmp_path: Path) -> None:
    disk = tmp_path / "shared dir" / "guest 1.img"
    disk.parent.mkdir()
    disk.write_bytes(b"x" * 1000)
    image = tmp_path / "host2"
    _image(image)
    plan = MigrationPlan(
        guests=["guest1"], dest_uri="qemu+ssh://localhost/system", migrate_uri="tcp:127.0.0.1"
    )
    src, dst = gather_pair(
        parse_host_spec("local"), parse_host_spec(str(image)), plan, source_libvirt=_node(tmp_path, disk)
    )
    assert (src.mode, dst.mode, src.reachable, dst.reachable) == (HostMode.LOCAL, HostMode.IMAGE, True, True)
    assert src.probes[pk.path_key(str(disk))].ok  # only the file disk: rbd has no local path
    assert not any(k.startswith(pk.PATH_PREFIX) and "p/i" in k for k in src.probes)
    assert dst.probes[pk.path_key(str(disk))].status is Availability.NOT_AVAILABLE
    # names: the URI's host, the dest libvirt's hostname (none in image mode), the --migrateuri host,
    # then what only the destination's answers reveal (its /etc/hostname is not a command: not asked)
    assert src.probes[pk.getent_key("localhost")].ok
    assert src.probes[pk.getent_key("127.0.0.1")].ok
    assert dst.libvirt is not None and dst.libvirt.status is Availability.NOT_AVAILABLE
    assert "--dest-libvirt" in (dst.libvirt.error or "")
    assert (src.ssh_connections, src.remote_commands, dst.ssh_connections) == (0, 0, 0)
    assert src.gathered_at and 0 < src.gather_seconds < 10
    for snap in (src, dst):
        assert HostSnapshot.from_json(snap.to_json()) == snap


def test_gather_host_local_takes_every_guest_disk(tmp_path: Path) -> None:
    disk = tmp_path / "d.img"
    disk.write_bytes(b"y")
    snap = gather_host(parse_host_spec("local"), libvirt_uri=_node(tmp_path, disk))
    assert snap.libvirt is not None and snap.libvirt.ok
    assert snap.probes[pk.path_key(str(disk))].ok
