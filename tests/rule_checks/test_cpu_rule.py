"""GST008 cpu-on-dest (issue 8 item 4).

The lab's two hosts share one CPU, so a mismatch cannot be built there: the rule is proven on this machine's
real capabilities XML (data/caps-x86-broadwell.xml, `virsh capabilities` of a local libvirtd 9.0.0), its
real libvirt CPU map (data/cpu_map-libvirt-9.0.0.txt, the cmd:cpumap probe's output here) and a real running
host-model guest's live XML (data/guest-host-model-live.xml), then edited: another model, a feature
removed, another vendor. The comparison itself is checked against libvirt's own virConnectCompareCPU on a
real libvirtd (it compares with the same capabilities host CPU, and works read-only).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from preflight.engine import Report, Verdict, evaluate
from preflight.model import probes as P
from preflight.model.facts import Availability, HostMode, HostSnapshot, Probe
from preflight.model.findings import Severity, Status
from preflight.model.plan import MigrationPlan
from preflight.rules import select
from preflight.view.cpu import CPU_MAP_DIR, GuestCpu, compare, cpu_map, guest_cpu, host_cpu, parse_cpu_map
from preflight.view.host import HostView
from tests.rule_checks.factory import baseline, guest, of
from tests.support.skips import skip_or_fail

DATA = Path(__file__).with_name("data")
CAPS = (DATA / "caps-x86-broadwell.xml").read_text()
CPU_MAP = (DATA / "cpu_map-libvirt-9.0.0.txt").read_text()
HOST_MODEL_LIVE = (DATA / "guest-host-model-live.xml").read_text().replace("<name>hm</name>", "<name>g1</name>")


def edit_caps(caps: str = CAPS, model: str | None = None, vendor: str | None = None, drop: tuple[str, ...] = (),
              add: tuple[str, ...] = ()) -> str:
    root = ET.fromstring(caps)
    cpu = root.find("host/cpu")
    assert cpu is not None
    if model is not None:
        cpu.find("model").text = model  # type: ignore[union-attr]
    if vendor is not None:
        cpu.find("vendor").text = vendor  # type: ignore[union-attr]
    for f in list(cpu.findall("feature")):
        if f.get("name") in drop:
            cpu.remove(f)
    for name in add:
        ET.SubElement(cpu, "feature", name=name)
    return ET.tostring(root, encoding="unicode")


def custom(model: str, vtype: str = "kvm", features: str = "", extra: str = "") -> str:
    return (f"<domain type='{vtype}'><name>g1</name><currentMemory unit='MiB'>64</currentMemory>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
            f"<cpu mode='custom' match='exact' check='partial'{extra}><model fallback='forbid'>{model}</model>"
            f"{features}</cpu><devices/></domain>")


PASSTHROUGH = ("<domain type='kvm'><name>g1</name><os><type arch='x86_64' machine='pc'>hvm</type></os>"
               "<cpu mode='host-passthrough' check='none' migratable='on'/><devices/></domain>")


def hosts(guest_xml: str, dest_caps: str | None = CAPS, src_caps: str | None = CAPS,
          dest_map: str | None = CPU_MAP, src_map: str | None = CPU_MAP) -> tuple[HostSnapshot, HostSnapshot]:
    src, dst = baseline()
    src.guests = [guest(xml=guest_xml)]
    for b, m in ((src, src_map), (dst, dest_map)):
        if m is not None:
            b.cmds[P.CPU_MAP] = m
    s, d = src.build(), dst.build()
    assert s.libvirt is not None and d.libvirt is not None
    s.libvirt.capabilities, d.libvirt.capabilities = src_caps, dest_caps
    return s, d


def report(s: HostSnapshot, d: HostSnapshot) -> Report:
    plan = MigrationPlan(guests=["g1"], dest_uri="qemu+ssh://host2.example.com/system", live=True)
    return evaluate(plan, s, d, select(["GST008"]))  # the verdict is GST008's alone


def one(r: Report) -> tuple[Status, str, Severity]:
    [f] = of(r, "GST008")
    return f.status, f.message, f.severity


# --- custom models (and the expanded host-model of a running guest) ---------------------------------
def test_running_host_model_guest_on_the_same_cpu_passes_and_names_the_method() -> None:
    cpu = guest_cpu(guest(xml=HOST_MODEL_LIVE)).get()
    assert (cpu.mode, cpu.model, cpu.vendor) == ("custom", "kvm64", "Intel")  # libvirt expanded it at start
    status, msg, _ = one(report(*hosts(HOST_MODEL_LIVE)))
    assert status is Status.PASS and "judged from the destination's capabilities XML and its libvirt CPU map" in msg


def test_a_required_feature_missing_on_the_destination_fails() -> None:
    r = report(*hosts(HOST_MODEL_LIVE, edit_caps(drop=("la57", "movdiri"))))
    status, msg, sev = one(r)
    assert status is Status.FAIL and sev is Severity.ERROR and r.verdict == Verdict.NOT_READY
    assert "Host CPU does not provide required features: la57, movdiri" in msg


def test_an_older_model_on_the_destination_fails_with_the_features_it_lacks() -> None:
    status, msg, _ = one(report(*hosts(custom("Broadwell"), edit_caps(model="Nehalem"))))
    assert status is Status.FAIL and "avx2" in msg and "adx" in msg
    assert one(report(*hosts(custom("Nehalem"), edit_caps(model="Nehalem"))))[0] is Status.PASS


def test_another_vendor_fails_on_the_required_vendor() -> None:
    amd = edit_caps(model="EPYC-Rome", vendor="AMD")
    status, msg, _ = one(report(*hosts(HOST_MODEL_LIVE, amd)))
    assert status is Status.FAIL and "host CPU vendor does not match required CPU vendor Intel" in msg
    assert "AMD" in msg


def test_a_model_the_destinations_map_lacks_is_refused() -> None:
    status, msg, _ = one(report(*hosts(custom("Sapphire-Rapids"))))
    assert status is Status.FAIL and "Unknown CPU model Sapphire-Rapids" in msg


def test_disable_optional_and_forbid_policies_count_as_libvirt_counts_them() -> None:
    lacks = edit_caps(drop=("la57",))
    needs_la57 = custom("Broadwell", features="<feature policy='require' name='la57'/>")
    assert one(report(*hosts(needs_la57, lacks)))[0] is Status.FAIL
    for policy in ("disable", "optional"):
        ok = custom("Broadwell", features=f"<feature policy='{policy}' name='la57'/>")
        assert one(report(*hosts(ok, lacks)))[0] is Status.PASS, policy
    no_avx = edit_caps(model="Nehalem")  # Broadwell minus Nehalem: disable what is missing, it passes
    missing = sorted(cpu_map_of(CPU_MAP).expand("Broadwell") - cpu_map_of(CPU_MAP).expand("Nehalem"))  # type: ignore[operator]
    feats = "".join(f"<feature policy='disable' name='{f}'/>" for f in missing)
    assert one(report(*hosts(custom("Broadwell", features=feats), no_avx)))[0] is Status.PASS
    forbid = custom("Broadwell", features="<feature policy='forbid' name='avx512f'/>")
    status, msg, _ = one(report(*hosts(forbid)))
    assert status is Status.FAIL and "forbidden features: avx512f" in msg


def test_strict_match_refuses_extra_host_features() -> None:
    status, msg, _ = one(report(*hosts(custom("Broadwell", extra=" match='strict'").replace("match='exact' ", ""))))
    assert status is Status.FAIL and "strictly" in msg


def test_check_none_still_fails_and_says_the_guest_loses_the_features() -> None:
    xml = custom("Broadwell").replace("check='partial'", "check='none'")
    status, msg, _ = one(report(*hosts(xml, edit_caps(model="Nehalem"))))
    assert status is Status.FAIL and "check='none'" in msg


# --- host-passthrough -------------------------------------------------------------------------------------
def test_passthrough_between_identical_cpus_passes() -> None:
    status, msg, _ = one(report(*hosts(PASSTHROUGH)))
    assert status is Status.PASS and "judged from both hosts' capabilities XML" in msg


def test_passthrough_to_a_cpu_without_a_source_feature_fails() -> None:
    status, msg, sev = one(report(*hosts(PASSTHROUGH, edit_caps(drop=("avx512f",)))))
    assert status is Status.FAIL and sev is Severity.ERROR and "lacks avx512f" in msg


def test_passthrough_to_another_vendor_fails() -> None:
    status, msg, _ = one(report(*hosts(PASSTHROUGH, edit_caps(vendor="AMD"))))
    assert status is Status.FAIL and "vendor Intel vs AMD" in msg


def test_passthrough_to_a_larger_cpu_is_a_warning() -> None:
    bigger = edit_caps(add=("avx512-vp2intersect",))
    r = report(*hosts(PASSTHROUGH, bigger))
    status, msg, sev = one(r)
    assert status is Status.FAIL and sev is Severity.WARNING and "identical hosts" in msg
    assert r.verdict == Verdict.READY


def test_passthrough_to_another_model_with_every_feature_is_a_warning_via_the_maps() -> None:
    # the destination named Nehalem but listing Broadwell's features beyond it: the same features
    b, n = cpu_map_of(CPU_MAP).expand("Broadwell"), cpu_map_of(CPU_MAP).expand("Nehalem")
    assert b is not None and n is not None
    same = edit_caps(model="Nehalem", add=tuple(sorted(b - n)))
    status, msg, sev = one(report(*hosts(PASSTHROUGH, same)))
    assert (status, sev) == (Status.FAIL, Severity.WARNING) and "model Broadwell vs Nehalem" in msg
    assert "unknown" not in msg.lower()
    # described differently and no map to expand them: UNKNOWN, never a pass
    assert one(report(*hosts(PASSTHROUGH, same, dest_map=None)))[0] is Status.UNKNOWN


# --- what is skipped and what is UNKNOWN ------------------------------------------------------------------
def test_tcg_custom_and_modelless_guests_skip() -> None:
    assert one(report(*hosts(custom("Broadwell", vtype="qemu"), edit_caps(model="Nehalem"))))[0] is Status.SKIP
    no_cpu = "<domain type='kvm'><name>g1</name><os><type arch='x86_64'>hvm</type></os><devices/></domain>"
    assert one(report(*hosts(no_cpu)))[0] is Status.SKIP
    inactive = no_cpu.replace("<devices/>", "<cpu mode='host-model' check='partial'/><devices/>")
    status, msg, _ = one(report(*hosts(inactive)))
    assert status is Status.SKIP and "not yet expanded" in msg


@pytest.mark.parametrize("what", ["caps", "map", "map-error"])
def test_missing_facts_are_unknown(what: str) -> None:
    s, d = hosts(HOST_MODEL_LIVE, dest_caps=None if what == "caps" else CAPS,
                 dest_map=None if what == "map" else CPU_MAP)
    if what == "map-error":
        d.add(Probe(P.CPU_MAP, "awk", Availability.MISSING, rc=1,
                    error="/usr/share/libvirt/cpu_map/index.xml: No such file or directory"))
    r = report(s, d)
    status, msg, _ = one(r)
    assert status is Status.UNKNOWN and r.verdict == Verdict.UNKNOWN, msg


def test_test_driver_and_image_root_destinations_skip() -> None:
    s, d = hosts(HOST_MODEL_LIVE)
    assert d.libvirt is not None
    d.libvirt.uri = "test:///default"
    assert one(report(s, d))[0] is Status.SKIP
    s, d = hosts(HOST_MODEL_LIVE)
    d.mode = HostMode.IMAGE
    assert one(report(s, d))[0] is Status.SKIP


# --- the pieces -----------------------------------------------------------------------------------------
def cpu_map_of(text: str):  # type: ignore[no-untyped-def]
    got = parse_cpu_map(text)
    assert got is not None
    return got


def test_the_map_parses_this_machines_models_and_bases() -> None:
    m = cpu_map_of(CPU_MAP)
    assert len(m.models) >= 50 and {"Intel", "AMD"} <= m.vendors and "avx512f" in m.features
    assert m.models["Broadwell"].vendor == "Intel" and "hle" in (m.expand("Broadwell") or ())
    assert "abm" not in (m.expand("qemu64") or ())  # commented out in x86_qemu64.xml
    based = parse_cpu_map(CPU_MAP + "model Mine Intel Broadwell extra1\nmodel Loop - Loop x\n")
    assert based is not None and based.expand("Mine") == (m.expand("Broadwell") or frozenset()) | {"extra1"}
    assert based.expand("Loop") is None and based.expand("Nope") is None


def test_host_cpu_reads_the_capabilities() -> None:
    _, d = hosts(HOST_MODEL_LIVE)
    cpu = host_cpu(HostView(d)).get()
    assert (cpu.arch, cpu.vendor, cpu.model) == ("x86_64", "Intel", "Broadwell") and "avx512f" in cpu.features
    assert cpu_map(HostView(d)).ok


# --- against libvirt itself: virConnectCompareCPU of a real libvirtd on this machine ------------------------
def test_compare_agrees_with_libvirts_compare_cpu(tmp_path: Path) -> None:
    import libvirt

    from tests.support.libvirtd_server import start_libvirtd

    m = cpu_map_of(CPU_MAP)
    cases: list[tuple[str, GuestCpu]] = []
    for name in sorted(m.models):
        have = m.expand(name) or frozenset()
        pick = sorted(have)[:1]
        variants = [("", {}), ("", {"la57": "require"}), ("", {f: "disable" for f in pick}),
                    ("", {"avx512f": "forbid"}), ("strict", {}), ("", {"svm": "disable", "avx512f": "optional"})]
        for match, pol in variants:
            cases.append((match, GuestCpu("custom", "kvm", "x86_64", name, match or "exact", "partial", None, pol)))
    disagree = []
    with start_libvirtd(tmp_path) as lv:
        conn = libvirt.openReadOnly(lv.ro_uri)
        caps = conn.getCapabilities()
        _, d = hosts(HOST_MODEL_LIVE, dest_caps=caps)
        host = host_cpu(HostView(d)).get()
        for _, g in cases:
            feats = "".join(f"<feature policy='{p}' name='{f}'/>" for f, p in g.policies.items())
            xml = f"<cpu mode='custom' match='{g.match}'><model>{g.model}</model>{feats}</cpu>"
            theirs = conn.compareCPU(xml) != libvirt.VIR_CPU_COMPARE_INCOMPATIBLE
            ours = compare(host, g, m).get().usable
            if theirs != ours:
                disagree.append((g.model, g.match, g.policies, theirs, ours))
        conn.close()
    assert len(cases) >= 300 and not disagree, disagree[:5]


# --- the cmd:cpumap probe: the real gather.sh, here and over a hostile map -------------------------------
def test_this_machines_map_as_gathered_parses_and_matches_the_stored_one() -> None:
    import subprocess

    from preflight.access import LocalAccess
    from preflight.gather.script import run_gather

    if not Path(CPU_MAP_DIR, "index.xml").is_file():
        skip_or_fail(f"needs libvirt's CPU map ({CPU_MAP_DIR})")
    probe = run_gather(LocalAccess(), command_timeout=5, only=[P.CPU_MAP])[P.CPU_MAP]
    assert probe.status is Availability.OK and probe.text, probe
    m = cpu_map_of(probe.text)
    assert {"Broadwell", "qemu64", "EPYC"} <= set(m.models) and "la57" in m.features
    version = subprocess.run(["libvirtd", "--version"], capture_output=True, text=True).stdout
    if version.split()[-1:] == ["9.0.0"]:  # the stored map is this machine's (the source of the fixtures)
        assert probe.text == CPU_MAP


def hostile_gather(tmp_path: Path, files: dict[str, str | None], target: str = CPU_MAP_DIR) -> tuple[Probe, float]:
    """Run the real gather.sh (cpumap section only) with a directory of our own bound over ``target`` (libvirt's
    map), in a private mount namespace; a None file is a FIFO (a read that would never end)."""
    import os
    import subprocess
    import time

    from preflight.gather.frames import parse_frames
    from preflight.gather.script import gather_args, gather_script

    if os.geteuid() != 0 or not Path(target).is_dir():
        skip_or_fail(f"needs root (unshare, mount) and {target} as a mount point")
    d = tmp_path / "cpu_map"
    d.mkdir()
    for name, text in files.items():
        if text is None:
            os.mkfifo(d / name)
        else:
            (d / name).write_text(text)
    script = tmp_path / "gather.sh"
    script.write_text(gather_script())
    args = gather_args("t0k", 2, [], [], only=[P.CPU_MAP])
    inner = 'mount --bind "$1" "$2" && shift 2 && exec sh "$@"'
    t0 = time.monotonic()
    out = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", inner, "-", str(d),
                          target, str(script), *args], capture_output=True, text=True, timeout=60)
    found, done = parse_frames(out.stdout, "t0k")
    assert done, out.stderr
    return found[P.CPU_MAP], time.monotonic() - t0


def test_gather_reads_only_safe_names_and_drops_comments(tmp_path: Path) -> None:
    index = ("<cpus><arch name='x86'>\n <include filename='x86_features.xml'/>\n"
             " <include filename='../../../etc/shadow'/>\n <include filename='x86_$(touch /tmp/pwned).xml'/>\n"
             " <include filename='x86_Good.xml'/>\n</arch></cpus>\n")
    good = ("<cpus>\n  <model name='Good'>\n    <vendor name='Intel'/>\n    <feature name='fpu'/>\n"
            "    <!-- <feature name='fake1'/>\n    <model name='Fake'>\n -->\n    <feature name='sse'/>\n"
            "    <feature name='monitor' removed='yes'/>\n    <feature name='bad name;x'/>\n  </model>\n</cpus>\n")
    feats = "<cpus>\n  <feature name='fpu'>\n    <cpuid eax_in='0x01' edx='0x1'/>\n  </feature>\n</cpus>\n"
    probe, _ = hostile_gather(tmp_path, {"index.xml": index, "x86_Good.xml": good, "x86_features.xml": feats})
    assert probe.status is Availability.OK, probe
    m = cpu_map_of(probe.text or "")
    assert set(m.models) == {"Good"} and m.models["Good"].features == {"fpu", "sse"}
    assert m.models["Good"].vendor == "Intel" and m.features == {"fpu"}
    assert not Path("/tmp/pwned").exists()


def test_gather_of_a_fifo_in_the_map_is_bounded_and_an_error(tmp_path: Path) -> None:
    index = "<cpus><arch name='x86'>\n <include filename='x86_fifo.xml'/>\n</arch></cpus>\n"
    probe, took = hostile_gather(tmp_path, {"index.xml": index, "x86_fifo.xml": None})
    assert probe.status is Availability.ERROR and took < 15, (probe, took)
    assert not cpu_map(host_with(probe)).ok


def test_gather_without_a_map_is_missing_and_the_rule_unknown(tmp_path: Path) -> None:
    probe, _ = hostile_gather(tmp_path, {})
    assert probe.status is Availability.MISSING and "index.xml" in (probe.error or "")
    s, d = hosts(HOST_MODEL_LIVE, dest_map=None)
    d.add(probe)
    assert one(report(s, d))[0] is Status.UNKNOWN


def host_with(probe: Probe) -> HostView:
    _, d = hosts(HOST_MODEL_LIVE, dest_map=None)
    d.add(probe)
    return HostView(d)


OLD_CPU_MAP = """<cpus>
  <arch name='x86'>
    <!-- vendor definitions -->
    <vendor name='Intel' string='GenuineIntel'/>
    <feature name='fpu'> <!-- CPUID_FP87 -->
      <cpuid eax_in='0x01' edx='0x00000001'/>
    </feature>
    <feature name='sse'> <!-- CPUID_SSE -->
      <cpuid eax_in='0x01' edx='0x02000000'/>
    </feature>
    <model name='486'>
      <feature name='fpu'/>
    </model>
    <model name='pentium'>
      <model name='486'/>
      <vendor name='Intel'/>
      <feature name='sse'/> <!-- a comment on the line -->
    </model>
  </arch>
  <arch name='ppc64'>
    <vendor name='IBM' string='IBM'/>
    <model name='POWER8'>
      <vendor name='IBM'/>
    </model>
  </arch>
</cpus>
"""


def test_gather_reads_the_single_cpu_map_xml_of_libvirt_before_4_7(tmp_path: Path) -> None:
    # RHEL 7 (libvirt 4.5): /usr/share/libvirt/cpu_map.xml, every arch in one file, models with a base model
    probe, _ = hostile_gather(tmp_path, {"cpu_map.xml": OLD_CPU_MAP}, target=str(Path(CPU_MAP_DIR).parent))
    assert probe.status is Availability.OK, probe
    m = cpu_map_of(probe.text or "")
    assert set(m.models) == {"486", "pentium"} and m.vendors == {"Intel"} and m.features == {"fpu", "sse"}
    assert m.models["pentium"].base == "486" and m.expand("pentium") == {"fpu", "sse"}


# --- end to end on real facts: this machine gathered as the destination (real libvirtd, real gather.sh) ------
def test_real_destination_gather_judges_a_host_model_guest_and_an_unusable_model(tmp_path: Path) -> None:
    from preflight.access.spec import parse_host_spec
    from preflight.gather.pair import gather_host
    from tests.support.libvirtd_server import start_libvirtd

    with start_libvirtd(tmp_path) as lv:
        d = gather_host(parse_host_spec("local"), role="destination", libvirt_uri=lv.ro_uri)
    assert d.libvirt is not None and d.libvirt.capabilities and P.CPU_MAP in d.probes
    s, _ = hosts(HOST_MODEL_LIVE)
    verdicts = {}
    # the running host-model guest captured here; a model this CPU lacks (an AMD one: svm, sse4a, ...);
    # one the destination's map does not know
    for name, xml in (("host-model", HOST_MODEL_LIVE), ("EPYC", custom("EPYC")), ("unknown", custom("Nope-9"))):
        assert s.libvirt is not None
        s.libvirt.guests[0].xml = xml
        [f] = of(report(s, d), "GST008")
        verdicts[name] = (f.status, f.message)
    assert verdicts["host-model"][0] is Status.PASS, verdicts
    assert verdicts["EPYC"][0] is Status.FAIL and "svm" in verdicts["EPYC"][1], verdicts
    assert verdicts["unknown"][0] is Status.FAIL and "Unknown CPU model Nope-9" in verdicts["unknown"][1]


def test_a_mode_libvirt_does_not_know_without_a_model_is_unknown_not_a_crash() -> None:
    odd = custom("Broadwell").replace("mode='custom'", "mode='bogus'").replace(
        "<model fallback='forbid'>Broadwell</model>", "")
    status, msg, _ = one(report(*hosts(odd)))
    assert status is Status.UNKNOWN and "a bogus CPU without a model" in msg and "internal error" not in msg
