"""Hostile values in a snapshot's newer fields (a cold try with crafted --source-facts/--dest-facts):
each test failed before its fix (a wrong READY, or an internal error instead of UNKNOWN)."""

from __future__ import annotations

import pytest

from preflight.model import probes as P
from preflight.model.findings import Status
from preflight.view.memory import scaled
from tests.rule_checks import test_cpu_rule as C
from tests.rule_checks.factory import MOUNTINFO, baseline, guest, run, statuses
from tests.rule_checks.test_copy_storage import DISK, LOCAL, file_disk, hosts, judge, plan, pool

XML = ("<domain type='qemu'><name>g1</name><currentMemory unit='KiB'>{v}</currentMemory>"
       "<os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type></os><devices/></domain>")


@pytest.mark.parametrize("value", ["\u0661\u0662", "\uff11\uff12", "\u00b2", "9" * 5000])
def test_memory_that_is_not_ascii_digits_is_not_a_size(value: str) -> None:
    """str.isdigit() took Arabic-Indic and full-width digits (READY on 12 KiB) and '²' (int() then raised:
    an internal error in GST009, a traceback in `evacuate`); 5000 digits passed isdigit and int() refused them."""
    assert scaled(value, "KiB") is None
    src, dst = baseline()
    src.guests = [guest(xml=XML.format(v=value))]
    report = run(src, dst)
    gst009 = [f for f in report.findings if f.rule == "GST009"]
    assert [f.status for f in gst009] == [Status.UNKNOWN], gst009
    assert "not a size" in gst009[0].message and "internal error" not in gst009[0].message


def test_hugetlbfs_pagesize_in_other_digits_is_not_an_internal_error() -> None:
    src, dst = baseline()
    hp = XML.format(v="65536").replace("<devices/>", "<memoryBacking><hugepages/></memoryBacking><devices/>")
    src.guests = [guest(xml=hp)]
    dst.cmds[P.MOUNTINFO] = MOUNTINFO + "50 22 0:50 / /dev/hugepages rw - hugetlbfs hugetlbfs rw,pagesize=\u00b2M\n"
    gst009 = [f for f in run(src, dst).findings if f.rule == "GST009" and f.status is not Status.PASS]
    assert [f.status for f in gst009] == [Status.UNKNOWN] and "internal error" not in gst009[0].message, gst009


def test_negative_snapshot_count_is_unknown_not_ready() -> None:
    """libvirt never counts below zero: a crafted -3 was taken as "no snapshot" and GST010 passed."""
    src, dst = baseline()
    src.guests[0].snapshots = -3
    assert statuses(run(src, dst), "GST010") == {Status.UNKNOWN}


@pytest.mark.parametrize("capacity", [-1, -(10**30)])
def test_negative_capacity_is_not_a_size_to_precreate(capacity: int) -> None:
    """A negative capacity made the pre-created volume need negative bytes: STO004 passed (READY)."""
    src, dst = hosts(file_disk(DISK, format="qcow2", capacity=capacity, allocation=capacity))
    report = judge(src, dst, pools=[pool()])
    sto = [f for f in report.findings if f.rule == "STO004" and f.status is not Status.PASS]
    assert [f.status for f in sto] == [Status.UNKNOWN] and "capacity is not known" in sto[0].message, sto
    assert report.verdict != "ready"


def test_free_space_in_other_digits_is_not_understood() -> None:
    """`\\d` took '١٢' as 12 bytes free; the probe prints ASCII digits only."""
    src, dst = hosts()
    dst.cmds[P.space_key(LOCAL)] = "avail\t\u0661\u0662\n"
    report = judge(src, dst, pools=[pool(available=None)])
    sto = [f for f in report.findings if f.rule == "STO004" and f.status is not Status.PASS]
    assert [f.status for f in sto] == [Status.UNKNOWN] and "unexpected free-space output" in sto[0].message, sto



def test_the_copy_storage_fixture_is_ready_with_a_real_capacity() -> None:
    """The fixture above judges a real --copy-storage-all plan: READY once the capacity is a size."""
    src, dst = hosts()
    report = judge(src, dst, pools=[pool()])
    assert statuses(report, "STO004") == {Status.PASS} and plan().copy_storage_all


@pytest.mark.parametrize("page", ["<page size='0'/>", "<page size='512' unit='b'/>"])
def test_huge_page_size_below_a_kib_is_not_a_size(page: str) -> None:
    """A page size of 0 KiB (or 512 bytes) divided the guest's page count by zero: an internal error."""
    src, dst = baseline()
    xml = XML.format(v="65536").replace("<devices/>", f"<memoryBacking><hugepages>{page}</hugepages>"
                                        "</memoryBacking><devices/>")
    src.guests = [guest(xml=xml)]
    dst.memory.free_pages = {"0": 5}  # type: ignore[union-attr]
    dst.cmds[P.MOUNTINFO] = MOUNTINFO + "50 22 0:50 / /dev/hugepages rw,relatime - hugetlbfs hugetlbfs rw\n"
    gst009 = [f for f in run(src, dst).findings if f.rule == "GST009"]
    assert [f.status for f in gst009] == [Status.UNKNOWN], gst009
    assert "a huge page size that is not a size" in gst009[0].message


SUPERSCRIPT_TWO = "\u00b2"  # str.isdigit() says yes, int() says no


@pytest.mark.parametrize(("rule", "key", "text"), [
    ("SSH002", P.SSHD_T, f"port 22\nmaxstartups 10:30:100\npersourcemaxstartups {SUPERSCRIPT_TWO}\n"),
    ("SEC001", P.LISTENING, f"LISTEN 0 128 0.0.0.0:{SUPERSCRIPT_TWO} 0.0.0.0:*\n"),
    ("OS001", P.OS_RELEASE, f'ID="rhel"\nVERSION_ID="{SUPERSCRIPT_TWO}.4"\n'),
])
def test_probe_numbers_in_other_digits_are_not_internal_errors(rule: str, key: str, text: str) -> None:
    """Each of these took '²' for a number (str.isdigit) and int() raised: 'internal error in rule'."""
    src, dst = baseline()
    if key == P.OS_RELEASE:
        dst.files[key] = text
    else:
        dst.cmds[key] = text
    found = [f for f in run(src, dst).findings if f.rule == rule]
    assert found and not any("internal error" in f.message for f in found), found



@pytest.mark.parametrize("guest_xml", [C.HOST_MODEL_LIVE, C.PASSTHROUGH], ids=["custom", "passthrough"])
def test_a_host_cpu_without_vendor_or_model_is_not_shown_as_none(guest_xml: str) -> None:
    """A capabilities XML whose host/cpu names no vendor and no model printed "the destination's None None"."""
    s, d = C.hosts(guest_xml, dest_caps="<capabilities><host><cpu><arch>x86_64</arch></cpu></host></capabilities>")
    found = C.report(s, d).findings
    assert found and all("None" not in f.message for f in found), found
    assert "no vendor or model in its capabilities XML" in found[0].message + str(found[0].evidence.get("destination"))


@pytest.mark.parametrize("line", ["garbage\n", "/a\t1\t2\t3\t4\t5\t-\tabc\n",
                                  f"/a\t{SUPERSCRIPT_TWO}\t2\t3\t4\t5\t-\n", "/a\t1\t2\t\u0661\u0662\t4\t5\t-\n",
                                  "/a\t1\t2\t1_000\t4\t5\t-\n"])
def test_a_path_probe_line_not_understood_is_unknown_not_an_internal_error(line: str) -> None:
    """A crafted `cmd:path` line (odd hex in the 8th column, a non-number) made parse_path_stat raise
    out of the view: STO001-STO003 said 'internal error in rule'."""
    from tests.rule_checks.factory import SHARED_DISK

    src, dst = baseline()
    src.cmds[P.path_key(SHARED_DISK)] = line
    dst.cmds[P.path_key(SHARED_DISK)] = line
    report = run(src, dst)
    for rule in ("STO001", "STO002", "STO003"):
        found = [f for f in report.findings if f.rule == rule]
        assert [f.status for f in found] == [Status.UNKNOWN], found
        assert "output not understood" in found[0].message and "internal error" not in found[0].message


DTD = '<!DOCTYPE d [<!ENTITY a "' + "A" * 150 + '">]>'


def test_xml_with_a_doctype_is_refused_before_its_entities_expand() -> None:
    """expat expands internal entities up to 100x the input: 9 MB of '&a;' in a crafted snapshot took 1 GB.
    libvirt never writes a DOCTYPE: refused (here 3 MB that would expand to 150 MB)."""
    import resource
    import time
    import xml.etree.ElementTree as ET

    from preflight.xmlsafe import parse_xml

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.monotonic()
    with pytest.raises(ET.ParseError, match="DOCTYPE"):
        parse_xml(DTD + "<capabilities><host><cpu><model>" + "&a;" * 1_000_000 + "</model></cpu></host></capabilities>")
    assert time.monotonic() - start < 5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024  # KiB: no 150 MB string
    assert parse_xml("<a><b c='1'>&amp;&#x41;</b></a>").findtext("b") == "&A"


def test_capabilities_or_guest_xml_with_a_doctype_is_unknown() -> None:
    s, d = C.hosts(DTD + C.HOST_MODEL_LIVE)
    found = C.report(s, d).findings
    assert [f.status for f in found] == [Status.UNKNOWN] and "DOCTYPE" in found[0].message, found
    s, d = C.hosts(C.HOST_MODEL_LIVE, dest_caps=DTD + C.CAPS)
    found = C.report(s, d).findings
    assert [f.status for f in found] == [Status.UNKNOWN] and "DOCTYPE" in found[0].message, found
    src, dst = baseline()
    src.guests = [guest(xml=DTD + XML.format(v="65536"))]
    gst009 = [f for f in run(src, dst).findings if f.rule == "GST009"]
    assert [f.status for f in gst009] == [Status.UNKNOWN] and "DOCTYPE" in gst009[0].message, gst009



def test_negative_allocation_does_not_cancel_an_existing_raw_files_demand() -> None:
    """A raw file's allocation is what the copy may write; a crafted -1 TiB made the demand negative and
    STO004 passed with 1 MiB free for a 16 MiB disk (the warning it gives without the allocation)."""
    from tests.rule_checks.test_copy_storage import CAP, MIB, stat_line

    src, dst = hosts(file_disk(DISK, format="raw", capacity=CAP, allocation=-(1 << 40)))
    dst.cmds[P.path_key(DISK)] = stat_line(DISK, CAP, "00" * 32)
    dst.cmds[P.space_key(LOCAL)] = f"avail\t{MIB}\n"
    sto = [f for f in judge(src, dst, missing=()).findings if f.rule == "STO004" and f.status is not Status.PASS]
    assert [(f.status, f.severity.value) for f in sto] == [(Status.FAIL, "warning")], sto



def test_a_crafted_kvm_line_is_bounded_in_the_finding() -> None:
    """cmd:kvm's rdev of 5000 hex digits was pasted whole into GST007's message."""
    from tests.rule_checks import test_guest_host_rules as G

    s, d = G.hosts(G.domain_xml(), G.runs(), kvm_text=G.KVM_OK + "rdev\t" + "f" * 5000 + ":1\n")
    found = [f for f in G.report(s, d).findings if f.rule == "GST007"]
    assert [f.status for f in found] == [Status.FAIL] and "f" * 41 not in found[0].message, found
    assert len(found[0].message) < 1000
