"""Issue 11 item 4 (speed): an ssh host's handshake starts before the heavy imports, and the
connection opened early is the one the gather uses (one login), with the same failure reasons."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from preflight.inspect import inspect_pair
from preflight.model import probes as pk
from preflight.model.plan import MigrationPlan
from tests.support.sshd_server import Sshd, free_port

REPO = Path(__file__).resolve().parents[2]

# A fresh interpreter running the real CLI; when ssh is first started for the master, it records which
# heavy modules were already imported (they should load while the handshake waits, not before).
DRIVER = r"""
import json, sys
import preflight.access.ssh as ssh
seen = {}
start = ssh.SshAccess._start_master
def spy(self, log):
    if not seen:
        seen.update({m: m in sys.modules for m in HEAVY})
        print("EARLY " + json.dumps(seen), file=sys.stderr, flush=True)
    return start(self, log)
ssh.SshAccess._start_master = spy
HEAVY = ("preflight.gather.pair", "preflight.engine", "preflight.rules", "preflight.view", "libvirt",
         "preflight.model.facts")
from preflight.cli import main
sys.argv = ["preflight", *sys.argv[1:]]
main()
"""


def _node(tmp_path: Path) -> str:
    disk = tmp_path / "d.img"
    disk.write_bytes(b"z" * 100)
    xml = f"""<node><domain type='test'><name>g1</name><memory>65536</memory><os><type>hvm</type></os>
      <devices><disk type='file' device='disk'><source file="{disk}"/><target dev='vda'/></disk></devices>
      </domain></node>"""
    (tmp_path / "node.xml").write_text(xml)
    return f"test://{tmp_path}/node.xml"


def test_check_starts_the_ssh_handshake_before_the_heavy_imports(sshd: Sshd, tmp_path: Path) -> None:
    before = sshd.accepted()
    out = subprocess.run(
        [sys.executable, "-c", DRIVER, "check", "--live", "g1", f"qemu+ssh://root@127.0.0.1:{sshd.port}/system",
         "--source", "local", "--source-libvirt", _node(tmp_path), "--dest-libvirt", "test:///default",
         "--ssh-config", str(sshd.client_config), "--timeout", "5", "--format", "json", "--no-config"],
        capture_output=True, text=True, cwd=REPO, timeout=60, check=False)
    early = [line for line in out.stderr.splitlines() if line.startswith("EARLY ")]
    assert early, out.stderr
    loaded = {m: was for m, was in json.loads(early[0][len("EARLY "):]).items() if was}
    assert loaded == {}, f"imported before the handshake started: {sorted(loaded)}"
    report = json.loads(out.stdout)
    dest = report["hosts"]["destination"]
    assert dest["reachable"], out.stderr
    # the early connection is the gather's: one login, one script (libvirt is test:///default here)
    assert (dest["ssh_connections"], dest["remote_commands"]) == (1, 1)
    assert sshd.accepted() - before == 1


def test_early_connection_unreachable_says_why_as_before(sshd: Sshd, tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    plan = MigrationPlan(guests=["g1"], dest_uri=f"qemu+ssh://root@127.0.0.1:{port}/system")
    src, dst = inspect_pair(plan, "local", f"ssh://root@127.0.0.1:{port}", _node(tmp_path), None,
                            ssh_config=str(sshd.client_config), timeout=3)
    assert src.reachable
    assert not dst.reachable
    assert dst.unreachable_reason == f"ssh: connect to host 127.0.0.1 port {port}: Connection refused"
    assert "Connection refused" in (dst.probes[pk.SSHD_T].error or "")
    assert dst.ssh_connections == 0 and dst.remote_commands == 0


def test_early_connection_for_one_host_with_a_saved_snapshot(sshd: Sshd, tmp_path: Path) -> None:
    """--source-facts: only the destination is gathered, over its early connection."""
    plan = MigrationPlan(guests=["g1"], dest_uri=f"qemu+ssh://root@127.0.0.1:{sshd.port}/system", live=True)
    src, _ = inspect_pair(plan, "local", sshd.spec, _node(tmp_path), "test:///default",
                          ssh_config=str(sshd.client_config), timeout=5)
    before = sshd.accepted()
    _, dst = inspect_pair(plan, "local", sshd.spec, None, "test:///default", source_snapshot=src,
                          ssh_config=str(sshd.client_config), timeout=5)
    assert dst.reachable, dst.unreachable_reason
    assert (dst.ssh_connections, dst.remote_commands) == (1, 1)
    assert dst.probes[pk.SSHD_T].ok
    assert sshd.accepted() - before == 1
