"""Issue 7 item 6: when a daemon's live limits (virt-admin) differ from its config file, say so.

The verdict uses the live value; the finding names the file's value, that it takes effect only
after a restart, and the advice says whether a restart (the file already holds enough) or a live
`virt-admin srv-clients-set` is needed. A live value a restart would lower is a warning.
"""

from __future__ import annotations

from preflight.engine import ExitCode
from preflight.model import probes as P
from preflight.model.findings import Severity, Status
from preflight.model.plan import MigrationPlan
from tests.rule_checks.factory import baseline, of, run

SSH = "qemu+ssh://host2.example.com/system"


def plan(n: int) -> MigrationPlan:
    return MigrationPlan(guests=["g1"], dest_uri=SSH, live=True, concurrency=n)


def live(max_clients: int, max_workers: int | None = None, clients: int = 0) -> str:
    text = f"nclients_max          : {max_clients}\nnclients              : {clients}\n"
    return text + (f"maxWorkers            : {max_workers}\n" if max_workers is not None else "")


def finding(report, rule: str, host: str):  # type: ignore[no-untyped-def]
    return [f for f in of(report, rule) if f.host.value == host][0]


def test_file_already_enough_needs_only_a_restart() -> None:
    src, dst = baseline()
    dst.files[P.LIBVIRTD_CONF] = "max_clients = 50\nmax_workers = 50\n"
    dst.cmds[P.virt_admin_key("libvirtd")] = live(5)  # edited, never restarted
    f = finding(run(src, dst, plan(10)), "LIM001", "destination")
    assert f.status is Status.FAIL and "max_clients = 5 (live value from virt-admin)" in f.message
    assert "the verdict used the live value: max_clients = 50 (set at /etc/libvirt/libvirtd.conf:1) takes " \
           "effect only when libvirtd restarts" in f.message
    assert f.remediation.startswith("max_clients = 50 (set at /etc/libvirt/libvirtd.conf:1) already: restart "
                                    "libvirtd to apply it, or live: virt-admin srv-clients-set libvirtd "
                                    "--max-clients 50"), f.remediation
    assert (f.evidence["live_value"], f.evidence["after_restart"], f.evidence["after_restart_origin"]) == \
        (5, 50, "file")


def test_live_raise_a_restart_would_undo_is_a_warning() -> None:
    src, dst = baseline()
    dst.files[P.LIBVIRTD_CONF] = "# tuned\nmax_clients = 5\nmax_anonymous_clients = 5\n"
    dst.cmds[P.virt_admin_key("libvirtd")] = live(50)  # raised live with srv-clients-set only
    report = run(src, dst, plan(10))
    f = finding(report, "LIM001", "destination")
    assert f.status is Status.FAIL and f.severity is Severity.WARNING, f.message
    assert "is enough now, but max_clients = 5 (set at /etc/libvirt/libvirtd.conf:2) takes effect when " \
           "libvirtd restarts" in f.message and f.line == 2
    assert "survives a restart" in f.remediation
    assert report.exit_code is ExitCode.READY  # the migration works now: a warning, not NOT READY


def test_equal_live_and_file_say_nothing_more() -> None:
    src, dst = baseline()
    dst.files[P.LIBVIRTD_CONF] = "max_clients = 50\n"
    dst.cmds[P.virt_admin_key("libvirtd")] = live(50)
    f = finding(run(src, dst, plan(10)), "LIM001", "destination")
    assert f.status is Status.PASS and "restart" not in f.message and "live_value" not in f.evidence


def test_live_differs_from_the_default_too() -> None:
    src, dst = baseline()  # no max_clients in the file: the release default (5000) comes back at a restart
    dst.cmds[P.virt_admin_key("libvirtd")] = live(50)
    f = finding(run(src, dst, plan(10)), "LIM001", "destination")
    assert f.status is Status.PASS and "takes effect only when libvirtd restarts" in f.message
    assert f.evidence["after_restart_origin"] == "default"


def test_lim002_workers_live_vs_file() -> None:
    src, dst = baseline()
    src.files[P.LIBVIRTD_CONF] = "max_clients = 50\nmax_workers = 50\n"
    src.cmds[P.virt_admin_key("libvirtd")] = live(50, max_workers=2)
    f = finding(run(src, dst, plan(4)), "LIM002", "source")
    assert f.status is Status.FAIL and "takes effect only when libvirtd restarts" in f.message
    assert "restart libvirtd to apply it, or live: virt-admin srv-threadpool-set libvirtd --max-workers 50" \
        in f.remediation
    src.files[P.LIBVIRTD_CONF] = "max_clients = 50\nmax_workers = 2\n"
    src.cmds[P.virt_admin_key("libvirtd")] = live(50, max_workers=50)
    f = finding(run(src, dst, plan(4)), "LIM002", "source")
    assert f.status is Status.FAIL and "takes effect when libvirtd restarts" in f.message and f.line == 2
