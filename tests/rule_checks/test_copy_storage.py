"""STO004 copy-storage-target on fact fixtures: each condition failing and passing, UNKNOWN when unseen.

The failing cases are the lab's measured failures (tests/lab/test_agreement_storage.py proves the
main ones against real migrations): no file and no active pool at the disk's directory, an image of
another virtual size or format, too little space, --copy-storage-inc without the image or its base.
"""

from __future__ import annotations

import pytest

from preflight.engine import Report, evaluate
from preflight.gather.plan import guest_disk_paths
from preflight.model import probes as P
from preflight.model.facts import Availability, DiskFact, HostMode, HostSnapshot, LibvirtFacts, PoolFact, Probe
from preflight.model.findings import Finding, Severity, Status
from preflight.model.plan import MigrationPlan
from preflight.parsers.commands import parse_path_stat
from preflight.view import HostView
from preflight.view.copies import free_space, image_of, pools_at, precreated_size, sanitize, size_text
from tests.rule_checks.factory import SHARED_DISK, HostBuilder, baseline, file_disk, guest

LOCAL = "/var/lib/libvirt/images/local"
DISK = f"{LOCAL}/g1.qcow2"
BASE = f"{LOCAL}/base.qcow2"
MIB = 1024 * 1024
CAP = 16 * MIB
ALLOC = 9 * MIB
URI = "qemu+ssh://host2.example.com/system"


def qcow2_header(size: int, backing_offset: int = 0) -> str:
    """The first 32 bytes of a qcow2 image in hex, as the path probe prints them."""
    return ("514649fb" + "00000003" + f"{backing_offset:016x}" + ("0000000a" if backing_offset else "00000000")
            + "00000010" + f"{size:016x}")


def stat_line(path: str, size: int, header: str) -> str:
    return f"{path}\t2049\t77\t{size}\t1700000000\t1700000000\t{'cd' * 32}\t{header}\n"


def plan(flag: str = "all") -> MigrationPlan:
    return MigrationPlan(guests=["g1"], dest_uri=URI, live=True, copy_storage_all=flag == "all",
                         copy_storage_inc=flag == "inc")


def hosts(disk: DiskFact | None = None) -> tuple[HostBuilder, HostBuilder]:
    src, dst = baseline()
    disk = disk or file_disk(DISK, format="qcow2", capacity=CAP, allocation=ALLOC)
    src.guests = [guest(disks=[disk])]
    src.cmds[P.path_key(DISK)] = stat_line(DISK, ALLOC, qcow2_header(CAP))
    dst.cmds[P.space_key(LOCAL)] = f"avail\t{64 * MIB}\n"
    return src, dst


def judge(src: HostBuilder, dst: HostBuilder, p: MigrationPlan | None = None, pools: list[PoolFact] | None = None,
          missing: tuple[str, ...] = (DISK,), drop: tuple[str, ...] = ()) -> Report:
    """Evaluate with the destination's pools, its MISSING paths and probes not gathered (``drop``)."""
    s, d = src.build(), dst.build()
    assert d.libvirt is not None
    d.libvirt.pools = pools if pools is not None else []
    for path in missing:
        if path.startswith(P.SPACE_PREFIX):
            d.add(Probe(path, "stat -f", Availability.MISSING, rc=1, error="No such file or directory"))
        else:
            d.add(Probe(P.path_key(path), "stat", Availability.MISSING, rc=1, error="No such file or directory"))
    for key in drop:
        d.probes.pop(key, None)
    return evaluate(p or plan(), s, d)


def sto004(report: Report) -> list[Finding]:
    return [f for f in report.findings if f.rule == "STO004"]


def only(report: Report, status: Status) -> list[Finding]:
    return [f for f in sto004(report) if f.status is status]


def pool(target: str = LOCAL, active: bool = True, available: int | None = 64 * MIB) -> PoolFact:
    return PoolFact(name="images", type="dir", active=active, target=target, capacity=100 * MIB,
                    allocation=36 * MIB, available=available)


# --- no copy, no rule --------------------------------------------------------------------------------------
def test_without_copy_storage_it_skips() -> None:
    src, dst = hosts()
    got = sto004(judge(src, dst, MigrationPlan(guests=["g1"], dest_uri=URI, live=True, unsafe=True)))
    assert [f.status for f in got] == [Status.SKIP]


# --- a missing file: a pool must pre-create it -----------------------------------------------------------
def test_missing_file_and_no_pool_fails_with_libvirts_error() -> None:
    src, dst = hosts()
    [f] = only(judge(src, dst), Status.FAIL)
    assert f.severity is Severity.ERROR
    assert f"no storage pool with matching target path '{LOCAL}'" in f.message
    assert "pool-define-as" in (f.remediation or "") and "qemu-img create -f qcow2" in (f.remediation or "")


def test_missing_file_with_an_inactive_pool_fails_naming_it() -> None:
    src, dst = hosts()
    [f] = only(judge(src, dst, pools=[pool(active=False)]), Status.FAIL)
    assert "images has that target but is not active" in f.message


def test_missing_file_with_an_active_pool_passes_and_counts_the_preallocated_volume() -> None:
    src, dst = hosts()
    report = judge(src, dst, pools=[pool(target=LOCAL + "//")])  # libvirt sanitizes both paths
    assert not only(report, Status.FAIL) and not only(report, Status.UNKNOWN)
    disk_ok, space_ok = only(report, Status.PASS)
    assert "pre-creates" in disk_ok.message and "images" in disk_ok.message
    assert space_ok.evidence["needed"] == precreated_size(CAP, "qcow2")


def test_a_pool_on_another_directory_does_not_count() -> None:
    src, dst = hosts()
    assert only(judge(src, dst, pools=[pool(target="/var/lib/libvirt/images")]), Status.FAIL)


def test_precreated_volume_needs_its_full_size_free_not_the_allocation() -> None:
    src, dst = hosts()
    dst.cmds[P.space_key(LOCAL)] = f"avail\t{12 * MIB}\n"  # > the 9 MiB used, < 16 MiB preallocated (measured)
    [f] = only(judge(src, dst, pools=[pool()]), Status.FAIL)
    assert "No space left on device" in f.message and f.subject == LOCAL


def test_unlisted_pools_are_unknown() -> None:
    src, dst = hosts()
    s, d = src.build(), dst.build()
    assert d.libvirt is not None
    d.libvirt.pools, d.libvirt.errors["pools"] = None, "this function is not supported"
    d.add(Probe(P.path_key(DISK), "stat", Availability.MISSING, rc=1, error="No such file or directory"))
    [f] = only(evaluate(plan(), s, d), Status.UNKNOWN)
    assert "not supported" in f.message


def test_unknown_capacity_is_unknown_not_pass() -> None:
    src, dst = hosts(file_disk(DISK, format="qcow2"))
    assert only(judge(src, dst, pools=[pool()]), Status.UNKNOWN)


# --- a file that exists: same format, same virtual size ---------------------------------------------------
def existing(dst: HostBuilder, size: int = CAP, header: str | None = None, file_size: int = 200 * 1024) -> None:
    dst.cmds[P.path_key(DISK)] = stat_line(DISK, file_size, header or qcow2_header(size))


def test_existing_image_of_the_same_size_and_format_passes() -> None:
    src, dst = hosts()
    existing(dst)
    report = judge(src, dst, missing=())
    assert not only(report, Status.FAIL) and not only(report, Status.UNKNOWN)
    disk_ok, space_ok = only(report, Status.PASS)
    assert "exists on the destination (qcow2" in disk_ok.message
    assert space_ok.evidence["needed"] == ALLOC - 200 * 1024


@pytest.mark.parametrize("size", [8 * MIB, 32 * MIB])
def test_existing_image_of_another_virtual_size_fails(size: int) -> None:
    src, dst = hosts()
    existing(dst, size)
    [f] = only(judge(src, dst, missing=()), Status.FAIL)
    assert "different sizes" in f.message and f.evidence["destination_size"] == size


def test_existing_raw_file_for_a_qcow2_disk_fails() -> None:
    src, dst = hosts()
    existing(dst, header="00" * 32, file_size=CAP)
    [f] = only(judge(src, dst, missing=()), Status.FAIL)
    assert "is raw, the guest's disk is qcow2" in f.message


def test_existing_image_whose_header_was_not_read_is_unknown() -> None:
    src, dst = hosts()
    dst.cmds[P.path_key(DISK)] = f"{DISK}\t2049\t77\t{CAP}\t1700000000\t1700000000\t-\t\n"
    assert only(judge(src, dst, missing=()), Status.UNKNOWN)


def test_existing_qcow2_on_a_full_filesystem_fails() -> None:
    src, dst = hosts()
    existing(dst)
    dst.cmds[P.space_key(LOCAL)] = f"avail\t{4 * MIB}\n"
    [f] = only(judge(src, dst, missing=()), Status.FAIL)
    assert f.evidence["free"] == 4 * MIB


def test_existing_raw_file_with_too_little_space_warns() -> None:
    """A raw file's size is its virtual size: whether it is preallocated is not seen."""
    raw = file_disk(DISK, format="raw", capacity=CAP, allocation=ALLOC)
    src, dst = hosts(raw)
    existing(dst, header="00" * 32, file_size=CAP)
    dst.cmds[P.space_key(LOCAL)] = f"avail\t{4 * MIB}\n"
    [f] = only(judge(src, dst, missing=()), Status.FAIL)
    assert f.severity is Severity.WARNING and "preallocated" in f.message
    dst.cmds[P.space_key(LOCAL)] = f"avail\t{64 * MIB}\n"
    assert not only(judge(src, dst, missing=()), Status.FAIL)


def test_free_space_not_gathered_is_unknown_and_the_pools_figure_stands_in() -> None:
    src, dst = hosts()
    [f] = only(judge(src, dst, pools=[pool()], drop=(P.space_key(LOCAL),)), Status.PASS)[1:]
    assert "the pool's available" in f.message
    existing(dst)
    assert only(judge(src, dst, missing=(), drop=(P.space_key(LOCAL),)), Status.UNKNOWN)


def test_disk_on_shared_storage_is_copied_in_place_without_space() -> None:
    """libvirt copies it too (measured: it works); the file is there, nothing new is written."""
    src, dst = hosts(file_disk(SHARED_DISK, format="qcow2", capacity=CAP, allocation=ALLOC))
    dst.cmds[P.path_key(SHARED_DISK)] = stat_line(SHARED_DISK, 200 * 1024, qcow2_header(CAP))
    dst.cmds[P.space_key(P.disk_dir(SHARED_DISK))] = "avail\t4096\n"
    [f] = sto004(judge(src, dst, missing=()))
    assert f.status is Status.PASS
    # the same path on a local filesystem of the destination is a copy like any other
    dst.cmds[P.MOUNTINFO] = "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
    assert "No space left" in only(judge(src, dst, missing=()), Status.FAIL)[0].message


# --- disks libvirt does not pre-create or copy -------------------------------------------------------------
def test_network_disk_is_skipped_and_readonly_disk_is_not_copied() -> None:
    net = DiskFact(target="vdb", device="disk", type="network", source="rbd:pool/img", protocol="rbd")
    cd = DiskFact(target="sda", device="cdrom", type="file", source="/srv/iso/x.iso", readonly=True)
    src, dst = hosts()
    src.guests = [guest(disks=[net, cd])]
    got = sto004(judge(src, dst))
    assert [f.status for f in got] == [Status.SKIP] and "network disk" in got[0].message
    src.guests = [guest(disks=[cd])]  # nothing to copy at all: said, not silent
    [f] = sto004(judge(src, dst))
    assert f.status is Status.SKIP and "no planned guest has a disk to copy" in f.message


def test_missing_block_device_fails_and_an_existing_ones_size_is_unknown() -> None:
    dev = "/dev/vg0/g1"
    block = DiskFact(target="vda", device="disk", type="block", source=dev, format="raw", capacity=CAP)
    src, dst = hosts(block)
    [f] = only(judge(src, dst, missing=(dev,)), Status.FAIL)
    assert "cannot pre-create a block disk" in f.message
    dst.cmds[P.path_key(dev)] = stat_line(dev, 0, "00" * 32)
    assert [x.status for x in sto004(judge(src, dst, missing=()))] == [Status.UNKNOWN]


def test_source_libvirt_unseen_is_unknown() -> None:
    src, dst = hosts()
    src.libvirt_ok = False
    assert [f.status for f in sto004(judge(src, dst))] == [Status.UNKNOWN]


# --- --copy-storage-inc: the image and its backing chain must be there ---------------------------------------
def inc_hosts(dest_overlay_backing: bool = True, base_on_dest: bool = True) -> tuple[HostBuilder, HostBuilder,
                                                                                   tuple[str, ...]]:
    src, dst = hosts(file_disk(DISK, format="qcow2", capacity=CAP, allocation=ALLOC, backing=[BASE]))
    existing(dst, header=qcow2_header(CAP, backing_offset=0x200 if dest_overlay_backing else 0))
    if base_on_dest:
        dst.cmds[P.path_key(BASE)] = stat_line(BASE, 300 * 1024, qcow2_header(CAP))
    return src, dst, () if base_on_dest else (BASE,)


def test_inc_with_image_and_backing_chain_passes() -> None:
    src, dst, missing = inc_hosts()
    report = judge(src, dst, plan("inc"), missing=missing)
    assert not only(report, Status.FAIL) and not only(report, Status.UNKNOWN)
    assert "on its backing chain" in only(report, Status.PASS)[0].message


def test_inc_without_the_image_fails_even_with_an_active_pool() -> None:
    src, dst, _ = inc_hosts()
    [f] = only(judge(src, dst, plan("inc"), pools=[pool()]), Status.FAIL)
    assert "incremental storage migration is not supported" in f.message


def test_inc_with_the_backing_file_missing_fails() -> None:
    src, dst, missing = inc_hosts(base_on_dest=False)
    [f] = only(judge(src, dst, plan("inc"), missing=missing), Status.FAIL)
    assert "Cannot access backing file" in f.message and f.evidence["missing"] == BASE


def test_inc_with_an_image_that_names_no_backing_file_fails() -> None:
    src, dst, missing = inc_hosts(dest_overlay_backing=False)
    [f] = only(judge(src, dst, plan("inc"), missing=missing), Status.FAIL)
    assert "without its base data" in f.message


def test_inc_backing_file_not_gathered_is_unknown() -> None:
    src, dst, _ = inc_hosts()
    assert only(judge(src, dst, plan("inc"), missing=(), drop=(P.path_key(BASE),)), Status.UNKNOWN)


def test_copy_all_ignores_the_backing_chain() -> None:
    """--copy-storage-all copies the whole disk into the destination's image: no base is needed there."""
    src, dst, missing = inc_hosts(dest_overlay_backing=False, base_on_dest=False)
    assert not only(judge(src, dst, plan("all"), missing=missing), Status.FAIL)


# --- the gather asks for what the rule reads ------------------------------------------------------------------
def test_gather_asks_the_destination_for_backing_files_only_with_inc() -> None:
    facts = LibvirtFacts(uri="qemu:///system", status=Availability.OK, guests=[guest(disks=[
        file_disk(DISK, backing=[BASE, "rbd:pool/base"])])])
    assert guest_disk_paths(facts, plan("inc")) == [DISK, BASE]
    assert guest_disk_paths(facts, plan("all")) == [DISK]


# --- the view ------------------------------------------------------------------------------------------------
def test_precreated_size_matches_the_measured_volume() -> None:
    assert precreated_size(CAP, "qcow2") == 17104896  # ls -l of libvirt's pre-created 16 MiB volume, lab
    assert precreated_size(CAP, "raw") == CAP


@pytest.mark.parametrize(("path", "want"), [("/a//b/", "/a/b"), ("/a/./b", "/a/b"), ("/", "/"), ("//", "/")])
def test_sanitize_as_libvirt(path: str, want: str) -> None:
    assert sanitize(path) == want


def test_free_space_parses_the_probe_and_says_why_not() -> None:
    snap = HostSnapshot(role="destination", spec="x", mode=HostMode.SSH)
    snap.add(Probe(P.space_key("/a"), "stat -f", Availability.OK, text="avail\t123\n", rc=0))
    snap.add(Probe(P.space_key("/b"), "stat -f", Availability.MISSING, rc=1, error="No such file or directory"))
    snap.add(Probe(P.space_key("/c"), "stat -f", Availability.OK, text="avail\t-1\n", rc=0))
    view = HostView(snap)
    assert free_space(view, "/a").value == 123
    assert "does not exist" in free_space(view, "/b").reason
    assert "unexpected" in free_space(view, "/c").reason
    assert not free_space(view, "/d").ok


def test_pools_at_needs_the_pool_list() -> None:
    snap = HostSnapshot(role="destination", spec="x", mode=HostMode.SSH)
    snap.libvirt = LibvirtFacts(uri="qemu:///system", status=Availability.OK, pools=[pool(), pool("/x")])
    assert [p.target for p in pools_at(HostView(snap), LOCAL + "/").get()] == [LOCAL]


def test_image_header_tells_the_backing_reference() -> None:
    with_base = parse_path_stat(stat_line(DISK, 1, qcow2_header(CAP, 0x200)))
    plain = parse_path_stat(stat_line(DISK, 1, qcow2_header(CAP)))
    assert image_of(with_base).get().has_backing is True and image_of(plain).get().has_backing is False
    assert image_of(parse_path_stat(stat_line(DISK, CAP, "00" * 32))).get().has_backing is None


def test_size_text() -> None:
    assert (size_text(512), size_text(16 * MIB), size_text(3 * 1024 * MIB)) == ("512 bytes", "16.0 MiB", "3.0 GiB")


# --- disks the copy leaves out: STO001 (shareable) and STO002 (read-only, shareable) ----------------------------
ISO = f"{LOCAL}/x.iso"
SHARED_RAW = "/var/lib/libvirt/images/shared/sh.raw"


def cdrom(path: str = ISO) -> DiskFact:
    return DiskFact(target="hdc", device="cdrom", type="file", source=path, format="raw", readonly=True)


def shareable(path: str) -> DiskFact:
    return DiskFact(target="vdb", device="disk", type="file", source=path, format="raw", cache="none", shareable=True)


def rule(report: Report, rule_id: str, status: Status) -> list[Finding]:
    return [f for f in report.findings if f.rule == rule_id and f.status is status]


def test_copy_all_shareable_disk_on_a_local_directory_fails_sto001() -> None:
    """Measured: 'Unsafe migration: Migration without shared storage is unsafe' with --copy-storage-all."""
    src, dst = hosts()
    local_sh = f"{LOCAL}/sh.raw"
    src.guests = [guest(disks=[file_disk(DISK, format="qcow2", capacity=CAP, allocation=ALLOC), shareable(local_sh)])]
    src.cmds[P.path_key(local_sh)] = stat_line(local_sh, MIB, "00" * 32)
    [f] = rule(judge(src, dst, pools=[pool()]), "STO001", Status.FAIL)
    assert "shareable: never copied" in f.message and "Unsafe migration" in f.message
    assert "--copy-storage-all" not in (f.remediation or "")
    for p in (plan("all"), MigrationPlan(guests=["g1"], dest_uri=URI, live=True)):  # without a copy too
        assert any("sh.raw" in f.message for f in rule(judge(src, dst, p, pools=[pool()]), "STO001", Status.FAIL))


def test_copy_all_shareable_disk_on_shared_storage_passes_and_plain_disks_skip_sto001() -> None:
    src, dst = hosts()
    src.guests = [guest(disks=[file_disk(DISK, format="qcow2", capacity=CAP, allocation=ALLOC),
                               shareable(SHARED_RAW)])]
    src.cmds[P.path_key(SHARED_RAW)] = dst.cmds[P.path_key(SHARED_RAW)] = stat_line(SHARED_RAW, MIB, "00" * 32)
    report = judge(src, dst, pools=[pool()])
    assert [f.status for f in report.findings if f.rule == "STO001"] == [Status.PASS]
    assert [f.status for f in report.findings if f.rule == "STO002"] == [Status.PASS]  # exists, shared
    src.guests = [guest(disks=[file_disk(DISK, format="qcow2", capacity=CAP, allocation=ALLOC)])]
    report = judge(src, dst, plan("inc"), pools=[pool()])
    [f] = [f for f in report.findings if f.rule == "STO001"]
    assert f.status is Status.SKIP and "--copy-storage-inc copies" in f.message


def test_copy_all_readonly_iso_missing_on_dest_fails_sto002() -> None:
    """Measured: "Cannot access storage file '.../x.iso': No such file or directory" (never copied)."""
    src, dst = hosts()
    src.guests = [guest(disks=[file_disk(DISK, format="qcow2", capacity=CAP, allocation=ALLOC), cdrom()])]
    [f] = rule(judge(src, dst, pools=[pool()], missing=(DISK, ISO)), "STO002", Status.FAIL)
    assert "read-only disk, never copied" in f.message and "ISO" in (f.remediation or "")
    dst.cmds[P.path_key(ISO)] = stat_line(ISO, MIB, "00" * 32)
    report = judge(src, dst, pools=[pool()])
    assert [f.status for f in report.findings if f.rule == "STO002"] == [Status.PASS]  # a local copy will do
    assert not rule(report, "STO004", Status.FAIL)


def test_without_copy_a_local_readonly_iso_on_dest_is_enough() -> None:
    src, dst = baseline()
    src.guests = [guest(disks=[file_disk(SHARED_DISK), cdrom()])]
    dst.cmds[P.path_key(ISO)] = stat_line(ISO, MIB, "00" * 32)
    p = MigrationPlan(guests=["g1"], dest_uri=URI, live=True)
    assert [f.status for f in evaluate(p, src.build(), dst.build()).findings if f.rule == "STO002"] == [Status.PASS,
                                                                                                       Status.PASS]
    [f] = rule(judge(src, dst, p, missing=(ISO,)), "STO002", Status.FAIL)
    assert "does not exist on the destination" in f.message


def test_suggested_commands_quote_the_hostile_path() -> None:
    """The path comes from the guest's XML: a copied-and-pasted suggestion must not run a second command."""
    evil = f"{LOCAL}/a b;reboot.qcow2"
    src, dst = hosts(file_disk(evil, format="qcow2", capacity=CAP, allocation=ALLOC))
    [f] = only(judge(src, dst, missing=(evil,)), Status.FAIL)
    assert f"qemu-img create -f qcow2 '{evil}' {CAP}" in (f.remediation or "")


def test_select_sto004_gathers_disk_paths_and_their_free_space() -> None:
    from preflight.gather.plan import probes_for
    from preflight.rules import find_rule

    rule_ = find_rule("STO004")
    assert rule_ is not None
    only = probes_for(rule_.NEEDS)
    assert P.gathered(P.path_key(DISK), only) and P.gathered(P.space_key(LOCAL), only)
