"""The declared probes (preflight.model.probes.SPECS) agree with gather.sh, the image reader and the gather args."""

from __future__ import annotations

import re
import time
from pathlib import Path

from preflight.access import LocalAccess
from preflight.gather.image import gather_image
from preflight.gather.plan import probes_for
from preflight.gather.script import expected_keys, gather_args, gather_script, run_gather
from preflight.model import probes as pk
from preflight.model.facts import Availability
from preflight.rules import select


def test_every_section_of_the_table_is_a_section_of_the_script() -> None:
    script = gather_script()
    gated = set(re.findall(r"\bwant ([a-z-]+)", script))
    declared = {s.section for s in pk.SPECS} - {"files", "names", "paths", "ssh"}  # by f:/n:/p: words; ssh: ours
    assert declared == gated
    assert set(pk.SECTIONS) >= {s.section for s in pk.SPECS} - {"ssh"}
    for key in pk.COMMAND_KEYS:  # each fixed key is emitted by a `begin KEY` / cmd_section KEY in the script
        assert re.search(rf"(begin|cmd_section) \"?{re.escape(key)}\b", script), key


def test_local_run_emits_exactly_the_declared_keys(tmp_path: Path) -> None:
    disk = tmp_path / "d.img"
    disk.write_bytes(b"x")
    probes = run_gather(LocalAccess(), ["localhost"], [str(disk)], command_timeout=5)
    for key in probes:
        assert pk.spec_of(key) is not None, f"gather.sh emits {key}, which no probe declares"
    assert set(expected_keys(["localhost"], [str(disk)])) <= set(probes)


def test_image_reader_follows_the_table(tmp_path: Path) -> None:
    (tmp_path / "etc/ssh").mkdir(parents=True)
    (tmp_path / "etc/ssh/sshd_config").write_text("Port 22\n")
    (tmp_path / "etc/hosts").write_text("127.0.0.1 localhost\n")
    probes = gather_image(str(tmp_path), ["host2"], ["/srv/a.img"])
    for key, probe in probes.items():
        spec = pk.spec_of(key)
        assert spec is not None, key
        if spec.image == pk.UNAVAILABLE:
            assert probe.status is Availability.NOT_AVAILABLE, key
        else:
            assert probe.status is not Availability.NOT_AVAILABLE, key
    assert {s.key for s in pk.SPECS if not s.per and s.section != "ssh"} <= set(probes)


def test_select_ssh_runs_only_the_sshd_sections() -> None:
    only = probes_for(n for r in select(["SSH"]) for n in r.NEEDS)
    args = gather_args("tok", 5, [], [], only=only)
    # SSH003 reads root's known_hosts for DESTURI's host on the source, asked beside getent (names)
    assert {a for a in args if a.startswith("s:")} == {"s:sshd-files", "s:sshd", "s:names"}
    assert [a for a in args if a.startswith("f:")] == [f"f:{pk.SSHD_CONFIG}"]
    full = gather_args("tok", 5, [], [])
    assert not any(a.startswith("s:") for a in full) and len([a for a in full if a.startswith("f:")]) == len(pk.FILES)


def test_select_ssh_local_run_skips_the_other_sections() -> None:
    only = probes_for(n for r in select(["SSH"]) for n in r.NEEDS)
    t0 = time.monotonic()
    probes = run_gather(LocalAccess(), [], [], command_timeout=5, only=only)
    assert time.monotonic() - t0 < 5
    assert {pk.SSHD_T, pk.SSHD_VERSION, pk.SSHD_FILES, pk.file_key(pk.SSHD_CONFIG)} <= set(probes)
    for key in (pk.PACKAGES, pk.DAEMONS, pk.MOUNTINFO, pk.IPTABLES, pk.HOSTNAME, pk.file_key(pk.ETC_HOSTS)):
        assert key not in probes, key
    assert set(expected_keys([], [], only=only)) <= set(probes)


def test_gathered_by_section() -> None:
    only = [pk.SSHD_FILES]
    assert pk.gathered("file:/etc/ssh/sshd_config.d/x.conf", only)  # an Include target comes with the index
    assert not pk.gathered(pk.file_key(pk.ETC_HOSTS), only)
    assert pk.gathered(pk.virt_admin_key("virtqemud"), [pk.DAEMONS])  # same section
    assert pk.gathered(pk.getent_key("h"), [pk.GETENT_PREFIX]) and not pk.gathered(pk.getent_key("h"), only)
    assert pk.gathered("anything", None)
