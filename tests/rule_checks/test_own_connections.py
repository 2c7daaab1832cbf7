"""Issue 7 item 2: preflight never counts its own connections in a live figure.

The destination's virt-admin runs beside preflight's own read-only libvirt
connection (preflight.gather.pair), so its `nclients` may include it: the lab's
`max_clients = 1` with no other client said "all slots are held by 1 connected
clients" — that client was preflight.
"""

from __future__ import annotations

from preflight.engine import ExitCode
from preflight.model import probes as P
from preflight.model.findings import Severity, Status
from preflight.model.plan import MigrationPlan
from tests.rule_checks.factory import baseline, modular, of, run

SSH = "qemu+ssh://host2.example.com/system"
ONE_SLOT_ONE_CLIENT = "nclients_max          : 1\nnclients              : 1\n"


def plan(n: int = 1) -> MigrationPlan:
    return MigrationPlan(guests=["g1"], dest_uri=SSH, live=True, concurrency=n)


def lim001(report, host: str, subject: str | None = None):  # type: ignore[no-untyped-def]
    return [f for f in of(report, "LIM001") if f.host.value == host and (subject is None or f.subject == subject)][0]


def test_destination_own_connection_is_not_a_client_holding_the_slot() -> None:
    src, dst = baseline()
    dst.cmds[P.virt_admin_key("libvirtd")] = ONE_SLOT_ONE_CLIENT  # the one client is preflight's libvirt
    report = run(src, dst, plan(n=2))
    f = lim001(report, "destination")
    assert not (f.status is Status.FAIL and f.severity is Severity.ERROR), f.message
    assert "held" not in f.message and "less preflight's own read-only libvirt connection" in f.message
    assert (f.evidence["virt_admin_nclients"], f.evidence["own_connections_not_counted"],
            f.evidence["connected_now"]) == (1, 1, 0)
    assert report.exit_code is ExitCode.READY  # 2 migrations on 1 slot queue: a warning at most


def test_other_clients_still_count() -> None:
    src, dst = baseline()
    dst.cmds[P.virt_admin_key("libvirtd")] = "nclients_max          : 2\nnclients              : 2\n"
    f = lim001(run(src, dst, plan(n=1)), "destination")
    # 2 counted = preflight + 1 other: the other leaves one slot, enough for one migration
    assert f.status is Status.PASS and f.evidence["connected_now"] == 1, f.message
    dst.cmds[P.virt_admin_key("libvirtd")] = "nclients_max          : 1\nnclients              : 2\n"
    f = lim001(run(src, dst, plan(n=1)), "destination")
    assert f.status is Status.FAIL and f.severity is Severity.ERROR and "held by 1 connected" in f.message


def test_no_subtraction_when_our_connection_never_opened() -> None:
    src, dst = baseline()
    dst.cmds[P.virt_admin_key("libvirtd")] = ONE_SLOT_ONE_CLIENT
    dst.libvirt_ok = False  # a held slot queues our connection unanswered: it was not counted
    f = lim001(run(src, dst), "destination")
    assert f.status is Status.FAIL and f.severity is Severity.ERROR and f.evidence["own_connections_not_counted"] == 0


def test_source_connection_is_closed_before_its_script_runs() -> None:
    src, dst = baseline()
    src.cmds[P.virt_admin_key("libvirtd")] = ONE_SLOT_ONE_CLIENT
    f = lim001(run(src, dst), "source")
    assert f.status is Status.FAIL and f.severity is Severity.ERROR and f.evidence["own_connections_not_counted"] == 0


def test_modular_own_connection_lands_on_virtqemud_only() -> None:
    src, dst = baseline()
    modular(dst, proxy="running")
    dst.cmds[P.virt_admin_key("virtqemud")] = ONE_SLOT_ONE_CLIENT
    dst.cmds[P.virt_admin_key("virtproxyd")] = ONE_SLOT_ONE_CLIENT
    report = run(src, dst, plan())
    assert lim001(report, "destination", "virtqemud").evidence["own_connections_not_counted"] == 1
    proxy = lim001(report, "destination", "virtproxyd")  # virt-ssh-helper bypasses virtproxyd
    assert proxy.evidence["own_connections_not_counted"] == 0 and proxy.status is Status.FAIL
