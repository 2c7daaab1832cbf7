"""GST006 (emulator on the destination) and GST007 (KVM on the destination), issue 8 items 2 and 3.

Fact fixtures for the verdicts, and real local gathers (gather.sh on this machine, real binaries written
to a temp dir) for the probes the rules read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from preflight.access import LocalAccess
from preflight.engine import Report, Verdict, evaluate
from preflight.gather.plan import guest_emulators, probes_for
from preflight.gather.script import gather_args, run_gather
from preflight.model import probes as P
from preflight.model.facts import Availability, HostMode, HostSnapshot, LibvirtFacts, Probe
from preflight.model.findings import Status
from preflight.model.plan import MigrationPlan
from preflight.rules import select
from preflight.view import HostView
from preflight.view.guests import emulator_of, emulator_run, kvm, virt_type_of
from tests.rule_checks.factory import baseline, guest, of, run, statuses

QEMU = "/usr/bin/qemu-system-x86_64"
KVM_OK = "dev\tchar\nmodule\tpresent\nmode\t660 root kvm\n"


def domain_xml(vtype: str = "kvm", emulator: str | None = QEMU) -> str:
    emu = f"<emulator>{emulator}</emulator>" if emulator else ""
    return (f"<domain type='{vtype}' id='1'><name>g1</name><uuid>11111111-1111-1111-1111-111111111111</uuid>"
            "<memory unit='KiB'>1048576</memory><os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type></os>"
            f"<devices>{emu}<disk type='file' device='disk'><source file='/var/lib/libvirt/images/shared/"
            "g1.qcow2'/><target dev='vda' bus='virtio'/></disk></devices></domain>")


DATA = Path(__file__).with_name("data")
MACHINE_HELP = (DATA / "qemu-7.2-machine-help.txt").read_text()  # this machine's QEMU 7.2, captured
ACCEL_HELP = (DATA / "qemu-7.2-accel-help.txt").read_text()


def hosts(xml: str, emu: Probe | None = None, kvm_text: str | None = KVM_OK, accels: str | None = ACCEL_HELP,
          machines: str | None = MACHINE_HELP) -> tuple[HostSnapshot, HostSnapshot]:
    """Source with one guest of this XML; destination with `emu` and, when it ran, its -accel/-machine help."""
    src, dst = baseline()
    src.guests[0].xml = xml
    if kvm_text is not None:
        dst.cmds[P.KVM] = kvm_text
    s, d = src.build(), dst.build()
    if emu is not None:
        d.add(emu)
        path = emu.key.removeprefix(P.EMULATOR_PREFIX)
        for key, text in ((P.emulator_accels_key(path), accels), (P.emulator_machines_key(path), machines)):
            if emu.status is Availability.OK and text is not None:  # the script asks only a binary that ran
                d.add(Probe(key, f"{path} help", Availability.OK, text=text, rc=0))
    return s, d


def runs(path: str = QEMU) -> Probe:
    return Probe(P.emulator_key(path), f"{path} -version", Availability.OK,
                 text="QEMU emulator version 7.2.0 (Debian 1:7.2+dfsg-7)\nCopyright (c) 2003-2022\n", rc=0)


PLAN = MigrationPlan(guests=["g1"], dest_uri="qemu+ssh://host2.example.com/system", live=True)


RULES = select(["GST005", "GST006", "GST007"])  # these rules' verdicts, whatever other rules come to need


def report(s: HostSnapshot, d: HostSnapshot) -> Report:
    return evaluate(PLAN, s, d, rules=RULES)


# --- GST006 -------------------------------------------------------------------------------

def test_gst006_emulator_runs_passes_and_says_what_judged() -> None:
    r = report(*hosts(domain_xml(), runs()))
    [f] = of(r, "GST006")
    assert f.status is Status.PASS and "QEMU emulator version 7.2.0" in f.message
    assert "EMULATOR -version" in f.message and f.evidence["judged_by"] == "EMULATOR -version"
    assert r.verdict == Verdict.READY


def test_gst006_emulator_missing_fails_as_libvirt_would() -> None:
    missing = Probe(P.emulator_key(QEMU), "x", Availability.MISSING, rc=1, error=f"{QEMU}: No such file or directory")
    r = report(*hosts(domain_xml(), missing))
    [f] = of(r, "GST006")
    assert f.status is Status.FAIL and f"Failed to start QEMU binary {QEMU} for probing" in f.message
    assert QEMU in (f.remediation or "") and r.verdict == Verdict.NOT_READY


def test_gst006_emulator_that_fails_to_run_fails_with_its_stderr_line() -> None:
    broken = Probe(P.emulator_key(QEMU), "x", Availability.ERROR, rc=127,
                   error=f"{QEMU}: error while loading shared libraries: libgnutls.so.30: cannot open shared object")
    [f] = of(report(*hosts(domain_xml(), broken)), "GST006")
    assert f.status is Status.FAIL and "libgnutls.so.30" in f.message and "exit 127" in f.message


@pytest.mark.parametrize("probe", [None, Probe(P.emulator_key(QEMU), "x", Availability.ERROR, rc=124,
                                               error="timed out after 10 s")])
def test_gst006_not_gathered_or_timed_out_is_unknown(probe: Probe | None) -> None:
    r = report(*hosts(domain_xml(), probe))
    assert statuses(r, "GST006") == {Status.UNKNOWN} and r.verdict != Verdict.READY


def test_gst006_judges_the_guests_own_path_not_another() -> None:
    r = report(*hosts(domain_xml(emulator="/usr/libexec/qemu-kvm"), runs(QEMU)))
    assert statuses(r, "GST006") == {Status.UNKNOWN}  # /usr/libexec/qemu-kvm itself was never probed


def test_gst006_image_mode_skips() -> None:
    s, d = hosts(domain_xml())
    d.mode = HostMode.IMAGE
    assert statuses(report(s, d), "GST006") == {Status.SKIP}


# --- GST007 -------------------------------------------------------------------------------

@pytest.mark.parametrize("text,why", [
    ("dev\tabsent\nmodule\tabsent\nmode\t-\n", "no /dev/kvm"),
    ("dev\tother\nmodule\tpresent\nmode\t644 root root\n", "not a character device"),
    ("dev\tchar\nmodule\tabsent\nmode\t660 root kvm\n", "kvm module is not loaded"),
])
def test_gst007_kvm_guest_without_kvm_fails_as_libvirt_would(text: str, why: str) -> None:
    r = report(*hosts(domain_xml("kvm"), runs(), kvm_text=text))
    [f] = of(r, "GST007")
    assert f.status is Status.FAIL and why in f.message
    assert f"Emulator '{QEMU}' does not support virt type 'kvm'" in f.message and "/dev/kvm" in f.message
    assert "modprobe" in (f.remediation or "") and r.verdict == Verdict.NOT_READY


def test_gst007_kvm_present_passes() -> None:
    [f] = of(report(*hosts(domain_xml("kvm"), runs())), "GST007")
    assert f.status is Status.PASS and "judged from /dev/kvm" in f.message and f.evidence["mode"] == "660 root kvm"


def test_gst007_qemu_guest_needs_no_kvm() -> None:
    r = report(*hosts(domain_xml("qemu"), runs(), kvm_text="dev\tabsent\nmodule\tabsent\nmode\t-\n"))
    assert statuses(r, "GST007") == {Status.SKIP} and r.verdict == Verdict.READY


def test_gst007_not_gathered_is_unknown_and_image_mode_skips() -> None:
    r = report(*hosts(domain_xml("kvm"), runs(), kvm_text=None))
    assert statuses(r, "GST007") == {Status.UNKNOWN} and r.verdict != Verdict.READY
    s, d = hosts(domain_xml("kvm"), runs(), kvm_text=None)
    d.mode = HostMode.IMAGE
    assert statuses(report(s, d), "GST007") == {Status.SKIP}


def test_no_guest_xml_is_skipped_not_passed() -> None:
    src, dst = baseline()  # fixture guests without XML (never so from a real libvirt)
    r = run(src, dst)
    assert statuses(r, "GST006") == {Status.SKIP} and statuses(r, "GST007") == {Status.SKIP}


# --- the view and the gather plan ---------------------------------------------------------

def test_view_reads_emulator_and_type_from_the_stored_xml() -> None:
    g = guest(xml=domain_xml("kvm", "/usr/libexec/qemu-kvm"))
    assert emulator_of(g).value == "/usr/libexec/qemu-kvm" and virt_type_of(g).value == "kvm"
    assert not emulator_of(guest(xml=domain_xml(emulator=None))).ok
    assert not virt_type_of(guest(xml="<domain")).ok


def test_plan_passes_the_guests_emulators_to_the_script() -> None:
    facts = LibvirtFacts(uri="qemu:///system", status=Availability.OK,
                         guests=[guest(xml=domain_xml()), guest("g2", xml=domain_xml(emulator="relative/qemu")),
                                 guest("g3", xml=domain_xml(emulator="/sbin/reboot")),
                                 guest("g4", xml=domain_xml(emulator="/usr/libexec/qemu-kvm"))])
    plan = MigrationPlan(guests=["g1", "g2", "g3", "g4"], dest_uri="x")
    assert guest_emulators(facts, plan) == [QEMU, "/usr/libexec/qemu-kvm"]  # hostile XML: only QEMU-named paths
    assert f"e:{QEMU}" in gather_args("tok", 5, [], [], emulators=[QEMU])
    only = probes_for(n for r in select(["GST006", "GST007"]) for n in r.NEEDS)
    assert P.EMULATOR_PREFIX in only and P.KVM in only
    assert "s:kvm" in gather_args("tok", 5, [], [], only=only)


# --- real local gathers -------------------------------------------------------------------

def _script(path: Path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_local_gather_probes_emulators_for_real(tmp_path: Path) -> None:
    good = _script(tmp_path / "qemu-good", 'echo "QEMU emulator version 9.9.9"\necho second line\n')
    bad = _script(tmp_path / "qemu-bad", 'echo "qemu-bad: cannot open shared object libfoo.so" >&2\nexit 127\n')
    reads_stdin = _script(tmp_path / "qemu-stdin", 'read x && echo "read $x"\necho "QEMU emulator version 1"\n')
    plain = tmp_path / "qemu-not-exec"
    plain.write_text("x")
    missing = str(tmp_path / "qemu-nowhere")
    other = _script(tmp_path / "touch-me", f'touch "{tmp_path}/ran"\n')  # not named like QEMU: never run
    emus = [good, bad, reads_stdin, str(plain), missing]
    probes = run_gather(LocalAccess(), [], [], command_timeout=5, only=[P.EMULATOR_PREFIX, P.KVM], emulators=emus)
    snap = HostSnapshot(role="destination", spec="local", mode=HostMode.LOCAL, probes=probes)
    view = HostView(snap)
    seen = {e: emulator_run(view, e).get() for e in emus}
    refused = run_gather(LocalAccess(), [], [], command_timeout=5, only=[P.EMULATOR_PREFIX],
                         emulators=[other, str(tmp_path / "qemu/../touch-me"), "relative/qemu"])
    assert not (tmp_path / "ran").exists()  # the script itself refuses, whatever preflight passes
    assert all("refusing" in (p.error or "") for p in refused.values()) and len(refused) == 3
    assert (seen[good].state, seen[good].line) == ("runs", "QEMU emulator version 9.9.9")
    assert seen[bad].state == "fails" and seen[bad].rc == 127 and "libfoo.so" in seen[bad].line
    assert seen[reads_stdin].line == "QEMU emulator version 1"  # stdin is /dev/null: never waits for input
    assert seen[str(plain)].state == "fails" and "not an executable" in seen[str(plain)].line
    assert seen[missing].state == "missing"
    for path in (other, "relative/qemu"):  # the view never judges a path it would not run: UNKNOWN
        assert not emulator_run(view, path).ok and "not run" in emulator_run(view, path).reason


def test_local_gather_kvm_matches_this_machine() -> None:
    probes = run_gather(LocalAccess(), [], [], command_timeout=5, only=[P.KVM])
    k = kvm(HostView(HostSnapshot(role="destination", spec="local", mode=HostMode.LOCAL, probes=probes))).get()
    is_char = os.path.exists("/dev/kvm") and stat.S_ISCHR(os.stat("/dev/kvm").st_mode)
    assert (k.dev == "char") == is_char
    assert (k.module == "present") == os.path.isdir("/sys/module/kvm")
    if os.path.exists("/dev/kvm"):
        assert k.mode.split()[0] == format(stat.S_IMODE(os.stat("/dev/kvm").st_mode), "o")
    else:
        assert k.mode == "-"


@pytest.mark.parametrize("mode,conf,warns", [
    ("600 root root", "", True),  # this machine's /dev/kvm, QEMU as the default non-root user
    ("600 root root", 'user = "root"\n', False),
    ("660 root kvm", "", False),  # the udev rule's mode: the kvm group
    ("666 root root", 'user = "qemu"\n', False),
    ("600 qemu qemu", 'user = "qemu"\n', False),
    ("660 root root", 'user = "libvirt-qemu"\n', True),
])
def test_gst007_dev_kvm_closed_to_qemus_user_warns(mode: str, conf: str, warns: bool) -> None:
    s, d = hosts(domain_xml("kvm"), runs(), kvm_text=f"dev\tchar\nmodule\tpresent\nmode\t{mode}\n")
    d.probes[P.file_key(P.QEMU_CONF)] = Probe(P.file_key(P.QEMU_CONF), "cat", Availability.OK, text=conf, rc=0)
    r = report(s, d)
    [f] = of(r, "GST007")
    if warns:
        assert f.status is Status.FAIL and f.severity == "warning" and "cannot open it" in f.message
        assert r.verdict == Verdict.READY  # a warning: libvirt's own ACLs/udev may differ from what was seen
    else:
        assert f.status is Status.PASS


def test_gst006_guest_naming_a_non_qemu_binary_is_unknown_not_run() -> None:
    r = report(*hosts(domain_xml(emulator="/sbin/reboot")))
    [f] = of(r, "GST006")
    assert f.status is Status.UNKNOWN and "not run" in f.message and r.verdict != Verdict.READY
