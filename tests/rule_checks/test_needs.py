"""Every rule declares what it reads (NEEDS): cut to those facts, it must say exactly what it says with all.

The gather of a ``--select`` collects only the selected rules' needs (preflight.gather.plan); a rule
that reads an undeclared fact would turn into UNKNOWN under a selection. This runs each rule on
snapshots cut the way that gather cuts them (probes.gathered) and compares with the full facts.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from preflight.engine import evaluate
from preflight.gather.plan import probes_for
from preflight.model import probes as P
from preflight.model.facts import HostSnapshot
from preflight.model.plan import MigrationPlan
from preflight.rules import ALL_RULES
from preflight.view.needs import FACTS, probe_keys
from tests.rule_checks.factory import DST_ADDR, HostBuilder, baseline, file_disk, guest, modular, path_stat

PLAN = MigrationPlan(guests=["g1"], dest_uri="qemu+ssh://host2.example.com/system", live=True, concurrency=3)


def _failing() -> tuple[HostBuilder, HostBuilder]:
    src, dst = baseline()
    dst.cmds[P.SSHD_T] = "port 22\nmaxstartups 1:30:10\npersourcemaxstartups 1\n"
    dst.cmds[P.IPTABLES] = ("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp --dport 49152:49215 -j REJECT\n"
                            "COMMIT\n")
    dst.files[P.LIBVIRTD_CONF] = "max_clients = 1\nmax_workers = 1\nmax_requests = 5\n"
    dst.files[P.QEMU_CONF] = 'migration_host = "mig.example.com"\n'
    src.cmds[P.getent_key("mig.example.com")] = "127.0.0.1 STREAM mig.example.com\n"
    local = "/var/lib/libvirt/images/local/g1.qcow2"
    src.guests = [guest(disks=[file_disk(local)])]
    src.cmds[P.path_key(local)] = dst.cmds[P.path_key(local)] = path_stat(local)
    dst.lib_version = "8.0.0"
    dst.cmds[P.SSH_DROPPED] = "2"
    return src, dst


def _files_only() -> tuple[HostBuilder, HostBuilder]:
    """No sshd -T, no virt-admin, no libvirt hostname: the rules fall back to files and packages."""
    src, dst = baseline()
    for b in (src, dst):
        b.cmds[P.SSHD_T] = None
        b.files[P.SSHD_CONFIG] = "MaxStartups 3\nInclude /etc/ssh/sshd_config.d/*.conf\n"
        b.files["/etc/ssh/sshd_config.d/a.conf"] = "PerSourceMaxStartups 2\n"
        b.cmds[P.SSHD_FILES] = f"{P.SSHD_CONFIG}\n/etc/ssh/sshd_config.d/a.conf\n"
        b.libvirt_ok = False
    src.cmds[P.getent_key("host2.example.com")] = None
    return src, dst


def _modular() -> tuple[HostBuilder, HostBuilder]:
    src, dst = baseline()
    modular(dst)
    dst.files[P.VIRTQEMUD_CONF] = "max_clients = 2\nhost_uuid = \"aaaaaaaa-0000-0000-0000-000000000001\"\n"
    dst.cmds[P.virt_admin_key("virtqemud")] = "nclients_max : 2\nnclients : 0\nmaxWorkers : 3\n"
    return src, dst


SCENARIOS: dict[str, Callable[[], tuple[HostBuilder, HostBuilder]]] = {
    "baseline": baseline, "failing": _failing, "files-only": _files_only, "modular": _modular,
}


def _cut(snap: HostSnapshot, only: list[str]) -> HostSnapshot:
    out = copy.deepcopy(snap)
    out.probes = {k: p for k, p in snap.probes.items() if P.gathered(k, only)}
    return out


def _said(findings: list) -> list[tuple[str, str, str, str]]:  # type: ignore[type-arg]
    return [(f.rule, f.status.value, f.severity.value, f.message) for f in findings]


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.ID)
def test_rule_says_the_same_on_its_declared_needs(rule, scenario: str) -> None:  # type: ignore[no-untyped-def]
    src, dst = (b.build() for b in SCENARIOS[scenario]())
    only = probes_for(rule.NEEDS)
    full = evaluate(PLAN, src, dst, [rule]).findings
    cut = evaluate(PLAN, _cut(src, only), _cut(dst, only), [rule]).findings
    assert _said(cut) == _said(full)


def test_scenarios_exercise_failures() -> None:
    """The comparison above means something only if the scenarios reach non-pass outcomes."""
    src, dst = (b.build() for b in _failing())
    failed = {f.rule for f in evaluate(PLAN, src, dst).findings if f.status.value == "fail"}
    assert {"SSH001", "SSH002", "NET005", "LIM001", "NET001", "STO001", "VER002"} <= failed


def test_needs_name_declared_facts() -> None:
    for rule in ALL_RULES:
        assert probe_keys(rule.NEEDS) or set(rule.NEEDS) <= set(FACTS), rule.ID  # KeyError for an unknown name


def test_a_missing_declaration_is_caught() -> None:
    """SSH001 cut to the facts of another rule loses its sshd facts: the comparison would fail."""
    src, dst = (b.build() for b in baseline())
    ssh001 = next(r for r in ALL_RULES if r.ID == "SSH001")
    only = probes_for(("os_release",))
    full = evaluate(PLAN, src, dst, [ssh001]).findings
    cut = evaluate(PLAN, _cut(src, only), _cut(dst, only), [ssh001]).findings
    assert _said(cut) != _said(full)
    assert DST_ADDR  # the factory's addresses are the ones the scenarios resolve to
