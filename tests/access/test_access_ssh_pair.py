"""gather_pair with the destination over ssh to the test's own sshd on 127.0.0.1."""

from __future__ import annotations

import time
from pathlib import Path

from preflight.access import AccessOptions, parse_host_spec
from preflight.gather import gather_pair
from preflight.model import probes as pk
from preflight.model.facts import Availability
from preflight.model.plan import MigrationPlan
from tests.support.sshd_server import Sshd, free_port


def _node(tmp_path: Path, disk: Path) -> str:
    xml = f"""<node><domain type='test'><name>g1</name><memory>65536</memory><os><type>hvm</type></os>
      <devices><disk type='file' device='disk'><source file="{disk}"/><target dev='vda'/></disk></devices>
      </domain></node>"""
    (tmp_path / "node.xml").write_text(xml)
    return f"test://{tmp_path}/node.xml"


def test_pair_over_ssh_one_connection_one_command(sshd: Sshd, tmp_path: Path) -> None:
    disk = tmp_path / "it's a disk.img"
    disk.write_bytes(b"z" * 100)
    plan = MigrationPlan(guests=["g1"], dest_uri=f"qemu+ssh://root@127.0.0.1:{sshd.port}/system", live=True)
    options = AccessOptions(timeout=5, ssh_config=str(sshd.client_config))
    t0 = time.monotonic()
    src, dst = gather_pair(
        parse_host_spec("local"),
        parse_host_spec(sshd.spec),
        plan,
        source_libvirt=_node(tmp_path, disk),
        dest_libvirt="test:///default",  # libvirt's own ssh would not read our -F config
        options=options,
    )
    seconds = time.monotonic() - t0
    assert dst.reachable, dst.unreachable_reason
    assert (dst.ssh_connections, dst.remote_commands) == (1, 1)
    assert dst.probes[pk.path_key(str(disk))].ok  # same machine: the path exists "on the destination"
    assert dst.probes[pk.SSHD_T].ok and dst.probes[pk.file_key(pk.ETC_HOSTS)].ok
    assert src.probes[pk.getent_key("127.0.0.1")].ok
    assert seconds < 5


def test_pair_with_unreachable_destination(sshd: Sshd, tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    plan = MigrationPlan(guests=["g1"], dest_uri=f"qemu+ssh://root@127.0.0.1:{port}/system")
    options = AccessOptions(timeout=3, ssh_config=str(sshd.client_config))
    src, dst = gather_pair(
        parse_host_spec("local"),
        parse_host_spec(f"ssh://root@127.0.0.1:{port}"),
        plan,
        source_libvirt=_node(tmp_path, tmp_path / "d.img"),
        options=options,
    )
    assert src.reachable and src.probes[pk.HOSTNAME].ok
    assert not dst.reachable
    assert dst.unreachable_reason == f"ssh: connect to host 127.0.0.1 port {port}: Connection refused"
    assert dst.probes[pk.SSHD_T].status is Availability.ERROR
    assert "Connection refused" in (dst.probes[pk.SSHD_T].error or "")
    # libvirt rides our ssh master: with no master it is not even tried, and says why
    assert dst.libvirt is not None and dst.libvirt.status is Availability.ERROR
    assert "Connection refused" in (dst.libvirt.error or "")
    assert dst.ssh_connections == 0 and dst.remote_commands == 0
