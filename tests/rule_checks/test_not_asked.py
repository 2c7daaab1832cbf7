"""A fact that was not asked for on a live host is UNKNOWN, never a SKIP that lets READY through, and
never a failure it did not see (issue 11's Ansible collection found both)."""

from __future__ import annotations

from preflight.access.local import LocalAccess
from preflight.engine import Verdict, evaluate
from preflight.gather.script import run_gather
from preflight.model import probes as P
from preflight.model.facts import Availability, HostMode, HostSnapshot, LibvirtFacts
from preflight.model.findings import Status
from preflight.model.plan import MigrationPlan
from tests.rule_checks.factory import baseline, run

PLAN = MigrationPlan(guests=["g1"], dest_uri="qemu+ssh://host2.example.com/system", live=True)


def _without_libvirt(mode: HostMode) -> tuple[HostSnapshot, HostSnapshot]:
    src, dst = baseline()
    s, d = src.build(), dst.build()
    d.mode = mode
    d.libvirt = LibvirtFacts(uri="qemu+ssh://root@host2.example.com/system", status=Availability.NOT_AVAILABLE,
                             error="not gathered: libvirt: false")
    return s, d


def test_live_destination_whose_libvirt_was_not_asked_is_never_ready() -> None:
    src, dst = baseline()
    report = run(src, dst)
    assert report.verdict is Verdict.READY  # the healthy twin
    s, d = _without_libvirt(HostMode.SSH)
    report = evaluate(PLAN, s, d)
    assert report.verdict is not Verdict.READY
    gst = [f for f in report.findings if f.rule == "GST003"]
    assert gst and all(f.status is Status.UNKNOWN for f in gst), gst
    dmn = [f for f in report.findings if f.rule == "DMN001" and f.host.value == "destination"]
    assert [f.status for f in dmn] == [Status.UNKNOWN], dmn  # running daemon, libvirt not asked: not a FAIL


def test_image_root_without_libvirt_still_skips_libvirt_rules() -> None:
    s, d = _without_libvirt(HostMode.IMAGE)
    report = evaluate(PLAN, s, d)
    gst = [f for f in report.findings if f.rule == "GST003"]
    assert gst and all(f.status is Status.SKIP for f in gst), gst


def test_probes_of_a_script_that_stopped_early_never_ran() -> None:
    """A gather cut short fills the probes it did not reach with rc None, so no rule reads them as a program
    that ran and failed (GST006 said 'does not run (exit 0)')."""
    probes = run_gather(LocalAccess(), [], [], command_timeout=5, total_timeout=0.01,
                        emulators=["/usr/bin/qemu-system-x86_64"])
    filled = probes[P.emulator_key("/usr/bin/qemu-system-x86_64")]
    assert filled.status is Availability.ERROR and filled.rc is None, filled
