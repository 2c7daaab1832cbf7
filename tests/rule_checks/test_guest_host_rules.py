"""GST005 (machine type), GST006 (emulator) and GST007 (KVM) on the destination, issue 8 items 2 and 3.

Fact fixtures for the verdicts (the binary's own `-machine help` / `-accel help` captured from this
machine's QEMU 7.2 in tests/rule_checks/data), and real local gathers (gather.sh on this machine, real
binaries written to a temp dir, and the real QEMU) for the probes the rules read.
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
from preflight.view.guests import (
    emulator_accels,
    emulator_machines,
    emulator_of,
    emulator_run,
    kvm,
    parse_accel_help,
    parse_machine_help,
    virt_type_of,
)
from tests.rule_checks.factory import baseline, guest, of, run, statuses
from tests.support.skips import skip_or_fail

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
          machines: str | None = MACHINE_HELP, machine: str = "pc-i440fx-7.2",
          caps: list[str] | None = None) -> tuple[HostSnapshot, HostSnapshot]:
    """Source with one guest of this XML and machine type; destination with `emu` and, when it ran, its
    -accel/-machine help, and `caps` as libvirt's (cached) capabilities machine list (None: the factory's)."""
    src, dst = baseline()
    src.guests[0].xml = xml
    src.guests[0].machine = machine
    if caps is not None:
        dst.machine_types = caps
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
    assert f.status is Status.FAIL and f"Cannot check QEMU binary {QEMU}: No such file" in f.message  # measured
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
    if is_char:
        rdev = os.stat("/dev/kvm").st_rdev
        assert k.rdev == f"{os.major(rdev):x}:{os.minor(rdev):x}" and not k.wrong_device


def test_gst007_dev_null_over_dev_kvm_fails() -> None:
    """/dev/null bind-mounted over /dev/kvm is a character device too: the migration fails with 'kvm
    version too old' (measured in the lab), so the device numbers are judged, not only the type."""
    text = "dev\tchar\nmodule\tpresent\nmode\t666 root root\nrdev\t1:3\n"
    r = report(*hosts(domain_xml("kvm"), runs(), kvm_text=text))
    [f] = of(r, "GST007")
    assert f.status is Status.FAIL and "1:3" in f.message and "kvm version too old" in f.message
    assert r.verdict == Verdict.NOT_READY
    ok = "dev\tchar\nmodule\tpresent\nmode\t660 root kvm\nrdev\ta:e8\n"
    [g] = of(report(*hosts(domain_xml("kvm"), runs(), kvm_text=ok)), "GST007")
    assert g.status is Status.PASS


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


# --- the binary's own lists (-machine help, -accel help) ------------------------------------

def test_machine_help_of_real_qemu_parses_names_and_aliases() -> None:
    m = parse_machine_help(MACHINE_HELP)
    assert m is not None
    listed = [ln.split()[0] for ln in MACHINE_HELP.splitlines()[1:] if ln.strip()]
    assert list(m.names) == listed and "Supported" not in m.names  # every line but the header, in order
    assert m.aliases == {"pc": "pc-i440fx-7.2", "q35": "pc-q35-7.2"}  # "(alias of ...)" in QEMU 7.2's own words
    assert {"pc-i440fx-7.2", "pc-q35-7.2", "pc-i440fx-1.4", "isapc", "microvm", "none"} <= set(m.names)


def test_machine_help_hostile_output_is_bounded_and_never_a_name() -> None:
    text = ("Supported machines are:\n" + "pc-\x1b[31mred  bad\n" + "a;rm -rf /  x\n" + ("x" * 500) + "  long\n"
            + "good-1.0   fine (alias of evil;name)\n" + "".join(f"m{i}  x\n" for i in range(10000)))
    m = parse_machine_help(text)
    assert m is not None and m.names[0] == "good-1.0" and m.aliases == {}
    assert len(m.names) < 5000  # bounded
    assert parse_machine_help("") is None and parse_machine_help("Supported machines are:\n") is None
    assert parse_machine_help("pc  Standard PC\n") is None  # no header: not the answer to -machine help


def test_accel_help_of_real_qemu() -> None:
    assert parse_accel_help(ACCEL_HELP) == ("tcg", "kvm")
    assert parse_accel_help("Accelerators supported in QEMU binary:\ntcg\n") == ("tcg",)
    assert parse_accel_help("kvm\n") is None  # not the answer to -accel help


def test_local_gather_asks_the_real_qemu_for_its_lists() -> None:
    if not os.access(QEMU, os.X_OK):
        skip_or_fail(f"{QEMU} is not installed here (the lab needs it too)")
    probes = run_gather(LocalAccess(), [], [], command_timeout=10, only=[P.EMULATOR_PREFIX], emulators=[QEMU])
    view = HostView(HostSnapshot(role="destination", spec="local", mode=HostMode.LOCAL, probes=probes))
    m, accels = emulator_machines(view, QEMU).get(), emulator_accels(view, QEMU).get()
    assert "tcg" in accels and m.aliases.get("pc", "").startswith("pc-i440fx-")  # x86: pc is i440fx
    assert m.aliases["pc"] in m.names


# --- GST005 judged by the binary's own list -----------------------------------------------

def gst005(**kw: object) -> object:
    [f] = of(report(*hosts(domain_xml("qemu"), **kw)), "GST005")  # type: ignore[arg-type]
    return f


def test_gst005_offered_by_the_binary_passes_and_names_its_source() -> None:
    f = gst005(emu=runs(), caps=[])  # libvirt's list plays no part once the binary answered
    assert f.status is Status.PASS and "EMULATOR -machine help" in f.message and QEMU in f.message
    assert "EMULATOR -machine help" in f.evidence["judged_by"]


def test_gst005_an_alias_is_offered_and_says_what_it_stands_for() -> None:
    f = gst005(emu=runs(), machine="q35")
    assert f.status is Status.PASS and "alias of pc-q35-7.2" in f.message


def test_gst005_machine_the_binary_lacks_fails_even_when_libvirts_cache_lists_it() -> None:
    # QEMU 7.2 has no RHEL machine types; libvirt's cached capabilities (as after a downgrade) still list one
    r = report(*hosts(domain_xml("qemu"), emu=runs(), machine="pc-q35-rhel9.4.0",
                      caps=["pc", "pc-q35-rhel9.4.0"]))
    [f] = of(r, "GST005")
    assert f.status is Status.FAIL and "pc-q35-rhel9.4.0" in f.message and "pc-q35-7.2" in f.message
    assert "EMULATOR -machine help" in f.message and r.verdict == Verdict.NOT_READY


def test_gst005_falls_back_to_libvirts_capabilities_only_when_the_list_was_not_gathered() -> None:
    f = gst005(emu=runs(), machines=None, caps=["pc-i440fx-7.2"])  # e.g. a snapshot of an older preflight
    assert f.status is Status.PASS and "capabilities XML" in f.message and "not gathered" in f.message
    f = gst005(emu=runs(), machines=None, caps=["pc-q35-7.2"])
    assert f.status is Status.FAIL and "capabilities XML" in f.message
    f = gst005(emu=runs(), machines=None, caps=None)
    assert f.status is Status.PASS  # the factory's capabilities list pc-i440fx-7.2
    s, d = hosts("<domain type='qemu'><name>g1</name></domain>", emu=runs())  # no <emulator>: libvirt's default
    [f] = of(report(s, d), "GST005")
    assert f.status is Status.PASS and "capabilities XML" in f.message


@pytest.mark.parametrize("probe,why", [
    (Probe(P.emulator_machines_key(QEMU), "x", Availability.ERROR, error="timed out", rc=124), "timed out"),
    (Probe(P.emulator_machines_key(QEMU), "x", Availability.OK, text="garbage\n", rc=0), "not understood"),
])
def test_gst005_machine_help_that_failed_is_unknown_not_the_cache(probe: Probe, why: str) -> None:
    s, d = hosts(domain_xml("qemu"), emu=runs(), machines=None)
    d.add(probe)
    r = report(s, d)
    [f] = of(r, "GST005")
    assert f.status is Status.UNKNOWN and why in f.message and r.verdict != Verdict.READY


def test_gst005_binary_that_does_not_run_is_unknown_pointing_at_gst006() -> None:
    broken = Probe(P.emulator_key(QEMU), "x", Availability.ERROR, error="libslirp.so.0: cannot open", rc=127)
    r = report(*hosts(domain_xml("qemu"), broken))
    [f] = of(r, "GST005")
    assert f.status is Status.UNKNOWN and "GST006" in f.message and "does not run" in f.message
    assert statuses(r, "GST006") == {Status.FAIL} and r.verdict == Verdict.NOT_READY


# --- GST007 and the binary's -accel help --------------------------------------------------

def test_gst007_emulator_without_kvm_accelerator_fails() -> None:
    r = report(*hosts(domain_xml("kvm"), runs(), accels="Accelerators supported in QEMU binary:\ntcg\n"))
    [f] = of(r, "GST007")
    assert f.status is Status.FAIL and f.severity == "error" and "-accel help lists: tcg" in f.message
    assert "no KVM accelerator" in f.message and f.evidence["accelerators"] == ["tcg"]
    assert r.verdict == Verdict.NOT_READY


def test_gst007_passes_only_with_kvm_in_the_binarys_list_and_says_so() -> None:
    [f] = of(report(*hosts(domain_xml("kvm"), runs())), "GST007")
    assert f.status is Status.PASS and "-accel help" in f.message and f.evidence["accelerators"] == ["tcg", "kvm"]


def test_gst007_accel_list_not_seen_is_unknown() -> None:
    r = report(*hosts(domain_xml("kvm"), runs(), accels=None))
    [f] = of(r, "GST007")
    assert f.status is Status.UNKNOWN and "-accel help" in f.message and r.verdict != Verdict.READY


def test_gst007_binary_that_does_not_run_is_unknown_unless_kvm_itself_is_missing() -> None:
    broken = Probe(P.emulator_key(QEMU), "x", Availability.ERROR, error="libslirp.so.0: cannot open", rc=127)
    [f] = of(report(*hosts(domain_xml("kvm"), broken)), "GST007")
    assert f.status is Status.UNKNOWN and "GST006" in f.message
    [f] = of(report(*hosts(domain_xml("kvm"), broken, kvm_text="dev\tabsent\nmodule\tabsent\nmode\t-\n")), "GST007")
    assert f.status is Status.FAIL and "no /dev/kvm" in f.message  # what is seen to be missing still fails
