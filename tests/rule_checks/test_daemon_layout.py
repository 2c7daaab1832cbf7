"""Each libvirt daemon is judged on its own config file, and the finding says which, where and why.

Issue 12: on a modular host only libvirtd.conf was ever judged, silently. The
migration's connections reach virtqemud (every QEMU connection ends there)
and, on the destination, virtproxyd when the connection lands there
(qemu+tcp/tls always; qemu+ssh when virtproxyd is up, for clients relayed by
nc to the legacy socket).
"""

from __future__ import annotations

from preflight.engine import ExitCode
from preflight.model import probes as P
from preflight.model.findings import Severity, Status
from preflight.model.plan import MigrationPlan
from tests.rule_checks.factory import baseline, modular, of, run

TLS = "qemu+tls://host2.example.com/system"
SSH = "qemu+ssh://host2.example.com/system"


def plan(uri: str = SSH, n: int = 1) -> MigrationPlan:
    return MigrationPlan(guests=["g1"], dest_uri=uri, live=True, concurrency=n)


def subjects(report, rule: str, host: str) -> list[str | None]:  # type: ignore[no-untyped-def]
    return [f.subject for f in of(report, rule) if f.host.value == host]


def test_modular_destination_judges_virtproxyd_on_its_own_file() -> None:
    src, dst = baseline()
    modular(src)
    modular(dst, proxy="socket")
    dst.files[P.VIRTPROXYD_CONF] = "# proxy\nmax_clients = 1\n"
    report = run(src, dst, plan(TLS))
    assert subjects(report, "LIM001", "source") == ["virtqemud"]  # the local client connects to virtqemud
    assert subjects(report, "LIM001", "destination") == ["virtqemud", "virtproxyd"]
    bad = [f for f in of(report, "DMN002") if f.status is Status.FAIL]
    assert len(bad) == 1 and bad[0].host.value == "destination" and bad[0].severity is Severity.ERROR
    assert bad[0].file == P.VIRTPROXYD_CONF and bad[0].line == 2 and "virtproxyd refuses to start" in bad[0].message
    assert "qemu+tls connections are accepted by virtproxyd" in bad[0].message  # why it was judged
    lim = [f for f in of(report, "LIM001") if f.subject == "virtproxyd"][0]
    assert lim.file == P.VIRTPROXYD_CONF and lim.line == 2 and lim.evidence["daemon"] == "virtproxyd"
    lim = [f for f in of(run(src, dst, plan(TLS, n=3)), "LIM001") if f.subject == "virtproxyd"][0]
    assert lim.status is Status.FAIL and "virt-admin -c virtproxyd:///system srv-clients-set" in (lim.remediation or "")
    assert report.exit_code is ExitCode.NOT_READY


def test_ssh_reaches_virtproxyd_only_when_it_is_up() -> None:
    src, dst = baseline()
    modular(dst, proxy="socket")
    dst.files[P.VIRTPROXYD_CONF] = "max_clients = 1\n"
    report = run(src, dst, plan(SSH))
    assert subjects(report, "LIM001", "destination") == ["virtqemud", "virtproxyd"]
    why = [f for f in of(report, "LIM001") if f.subject == "virtproxyd"][0].message
    assert "without virt-ssh-helper" in why and "virtproxyd runs (seen by systemd)" in why
    modular(dst, proxy="stopped")
    report = run(src, dst, plan(SSH))
    assert subjects(report, "LIM001", "destination") == ["virtqemud"]  # virt-ssh-helper goes to virtqemud
    assert report.exit_code is ExitCode.READY
    assert subjects(run(src, dst, plan(TLS)), "LIM001", "destination") == ["virtqemud", "virtproxyd"]


def test_virtqemud_limits_read_from_its_file_and_live_values() -> None:
    src, dst = baseline()
    modular(dst, proxy="stopped")
    dst.files[P.VIRTQEMUD_CONF] = "max_clients = 2\nmax_anonymous_clients = 2\n"
    f = [x for x in of(run(src, dst, plan(n=3)), "LIM001") if x.host.value == "destination"][0]
    assert f.status is Status.FAIL and f.file == P.VIRTQEMUD_CONF and f.line == 1
    assert "virtqemud judged on /etc/libvirt/virtqemud.conf: modular host: virtqemud runs" in f.message
    dst.cmds[P.virt_admin_key("virtqemud")] = "nclients_max          : 1\nnclients              : 1\n"
    dst.libvirt_ok = False  # a long-lived client holds the slot, so preflight's own connection never answered
    f = [x for x in of(run(src, dst, plan(n=1)), "LIM001") if x.host.value == "destination"][0]
    assert f.status is Status.FAIL and f.severity is Severity.ERROR and "hangs" in f.message


def test_both_daemons_running_judges_both() -> None:
    src, dst = baseline()
    modular(dst, proxy="stopped", libvirtd="running")
    dst.files[P.VIRTQEMUD_CONF] = "max_requests = 5\n"
    report = run(src, dst, plan())
    assert subjects(report, "LIM001", "destination") == ["libvirtd", "virtqemud"]
    obsolete = [f for f in of(report, "DMN003") if f.status is Status.FAIL]
    assert [(f.file, f.host.value) for f in obsolete] == [(P.VIRTQEMUD_CONF, "destination")]
    assert "both run" in obsolete[0].message


def test_unreadable_daemon_config_is_unknown_with_reason() -> None:
    src, dst = baseline()
    modular(dst, proxy="stopped")
    snap = dst.build()
    from preflight.engine import evaluate
    from preflight.model.facts import Availability, Probe

    snap.add(Probe(P.file_key(P.VIRTQEMUD_CONF), "read", Availability.ERROR,
                   error=f"{P.VIRTQEMUD_CONF}: is not a regular file"))
    report = evaluate(plan(), src.build(), snap)
    lim = [f for f in of(report, "LIM001") if f.host.value == "destination"]
    assert [f.status for f in lim] == [Status.UNKNOWN] and "is not a regular file" in lim[0].message
    assert report.exit_code is ExitCode.COULD_NOT_INSPECT
