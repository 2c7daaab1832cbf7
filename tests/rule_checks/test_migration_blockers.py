"""GST004 (host devices) and GST010 (migration blockers), issue 8 item 6: what libvirt 9.0's
qemuMigrationSrcIsAllowed refuses, judged on fact fixtures (the guest's live XML, its snapshot count
and block jobs). The lab proves snapshots, block jobs and shmem against real migrations
(tests/lab/test_agreement_devices.py); the rest follow libvirt's code and error strings."""

from __future__ import annotations

import subprocess
from pathlib import Path

import libvirt
import pytest

from preflight.engine import Report, evaluate
from preflight.gather.libvirt_facts import gather_libvirt
from preflight.model.facts import GuestFact, HostSnapshot
from preflight.model.findings import Finding, Severity, Status
from preflight.model.plan import MigrationPlan
from tests.rule_checks.factory import SHARED_DISK, baseline, file_disk, guest, of
from tests.support.libvirtd_server import GUEST_XML, Libvirtd

PLAN = MigrationPlan(guests=["g1"], dest_uri="qemu+ssh://host2.example.com/system", live=True)
DISK = ("<disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='none'/>"
        f"<source file='{SHARED_DISK}'/><target dev='vda' bus='virtio'/></disk>")


def xml(devices: str = "", extra: str = "") -> str:
    return (f"<domain type='qemu' id='1'><name>g1</name><memory unit='KiB'>65536</memory>"
            f"<os><type arch='x86_64' machine='pc'>hvm</type></os>{extra}<devices>{DISK}{devices}</devices></domain>")


def g1(domain_xml: str | None = None, **kw: object) -> GuestFact:
    kw.setdefault("snapshots", 0)
    kw.setdefault("block_jobs", [])
    return guest(disks=[file_disk(SHARED_DISK)], xml=xml() if domain_xml is None else domain_xml, **kw)


def hosts(g: GuestFact, lib_version: str = "9.0.0") -> tuple[HostSnapshot, HostSnapshot]:
    src, dst = baseline()
    src.guests = [g]
    src.lib_version = lib_version
    return src.build(), dst.build()


def report(g: GuestFact, plan: MigrationPlan = PLAN, lib_version: str = "9.0.0") -> Report:
    return evaluate(plan, *hosts(g, lib_version))


def bad(r: Report, rule: str) -> list[Finding]:
    return [f for f in of(r, rule) if f.status is not Status.PASS]


def mine_block(r: Report) -> bool:
    """Whether GST004/GST010 keep the verdict from READY (other rules' facts are not in these fixtures)."""
    return any(f.status is Status.UNKNOWN or (f.status is Status.FAIL and f.severity is Severity.ERROR)
               for rule in ("GST004", "GST010") for f in of(r, rule))


def one_failure(r: Report, rule: str) -> Finding:
    [f] = bad(r, rule)
    assert f.status is Status.FAIL, f.message
    return f


# --- healthy guest --------------------------------------------------------------------------------

def test_plain_guest_passes_both_rules() -> None:
    r = report(g1())
    assert [f.status for f in of(r, "GST004")] == [Status.PASS]
    [f] = of(r, "GST010")
    assert f.status is Status.PASS and "snapshots, devices, block jobs" in f.message
    assert not mine_block(r)


# --- GST010: snapshots and block jobs (lab-proven) -------------------------------------------------

def test_snapshot_fails_with_libvirts_text_and_the_redefine_remedy() -> None:
    r = report(g1(snapshots=2))
    f = one_failure(r, "GST010")
    assert "cannot migrate domain with 2 snapshots" in f.message and "2 snapshots" in f.evidence["device"]
    assert "--metadata" in (f.remediation or "") and "--redefine" in (f.remediation or "")
    assert mine_block(r)


def test_snapshot_also_blocks_an_offline_migration_but_devices_do_not() -> None:
    offline = MigrationPlan(guests=["g1"], dest_uri=PLAN.dest_uri, offline=True)
    shm = "<shmem name='sh0'><model type='ivshmem-plain'/><size unit='M'>4</size></shmem>"
    assert bad(report(g1(xml(shm)), offline), "GST010") == []
    assert "1 snapshots" in one_failure(report(g1(xml(shm), snapshots=1), offline), "GST010").message


def test_active_block_job_fails_naming_the_disk() -> None:
    f = one_failure(report(g1(block_jobs=["vda: copy"])), "GST010")
    assert "domain has active block job" in f.message and "vda: copy" in f.message
    assert "virsh blockjob g1 vda --abort" in (f.remediation or "")


@pytest.mark.parametrize(("field", "value"), [("snapshots", None), ("block_jobs", None)])
def test_ungathered_snapshots_or_jobs_are_unknown_never_pass(field: str, value: object) -> None:
    r = report(g1(**{field: value}))
    statuses = {f.status for f in of(r, "GST010")}
    assert Status.UNKNOWN in statuses and Status.PASS not in statuses
    assert mine_block(r)


def test_gather_error_is_the_unknown_reason() -> None:
    s, d = hosts(g1(snapshots=None))
    assert s.libvirt is not None
    s.libvirt.errors["guest:g1:snapshots"] = "Unable to read from monitor"
    [f] = [f for f in of(evaluate(PLAN, s, d), "GST010") if f.status is Status.UNKNOWN]
    assert "Unable to read from monitor" in f.message


# --- GST010: devices and features from the XML ----------------------------------------------------

SHMEM_PEER = "<shmem name='my_shmem0'><model type='ivshmem-plain'/><size unit='M'>4</size></shmem>"


def test_shmem_peer_fails_with_qemus_blocker_on_libvirt_9() -> None:
    f = one_failure(report(g1(xml(SHMEM_PEER))), "GST010")
    assert "shmem 'my_shmem0'" in f.message
    assert "Migration is disabled when using feature 'peer mode' in device 'ivshmem'" in f.message  # measured
    assert "role='master'" in (f.remediation or "")


def test_shmem_peer_on_old_libvirt_gets_libvirts_own_text() -> None:
    f = one_failure(report(g1(xml(SHMEM_PEER)), lib_version="8.0.0"), "GST010")
    assert "shmem device 'my_shmem0' cannot be migrated, only shmem with role='master' can be migrated" in f.message


def test_shmem_master_passes_legacy_model_fails() -> None:
    master = SHMEM_PEER.replace("<shmem name='my_shmem0'>", "<shmem name='my_shmem0' role='master'>")
    assert bad(report(g1(xml(master))), "GST010") == []
    legacy = master.replace("ivshmem-plain", "ivshmem")
    assert "legacy shmem device" in one_failure(report(g1(xml(legacy))), "GST010").message


INVTSC = "<cpu mode='custom'><model>Skylake-Client</model><feature policy='require' name='invtsc'/></cpu>"


def test_invtsc_without_tsc_frequency_fails_with_frequency_it_passes() -> None:
    f = one_failure(report(g1(xml(extra=INVTSC))), "GST010")
    assert "domain has 'invtsc' CPU feature but TSC frequency is not specified" in f.message
    clock = "<clock offset='utc'><timer name='tsc' frequency='2400000000'/></clock>"
    assert bad(report(g1(xml(extra=INVTSC + clock))), "GST010") == []
    disabled = INVTSC.replace("require", "disable")
    assert bad(report(g1(xml(extra=disabled))), "GST010") == []


def test_host_passthrough_not_migratable_is_a_warning() -> None:
    r = report(g1(xml(extra="<cpu mode='host-passthrough' migratable='off'/>")))
    f = one_failure(r, "GST010")
    assert f.severity is Severity.WARNING and "invtsc" in f.message and not mine_block(r)
    assert bad(report(g1(xml(extra="<cpu mode='host-passthrough' migratable='on'/>"))), "GST010") == []


@pytest.mark.parametrize(("device", "named", "text"), [
    ("<filesystem type='mount'><driver type='virtiofs'/><source dir='/srv'/><target dir='share0'/></filesystem>",
     "virtiofs 'share0'", "migration with virtiofs device is not supported"),
    ("<interface type='vdpa'><source dev='/dev/vhost-vdpa-0'/></interface>", "vdpa /dev/vhost-vdpa-0",
     "cannot migrate domain"),
    ("<disk type='file' device='disk'><source file='/x.img'/><target dev='vdb' bus='virtio'/><transient/></disk>",
     "disk vdb", "migration with transient disk is not supported"),
    ("<memory model='dimm'><target><size unit='MiB'>128</size><node>0</node></target></memory>",
     "memory dimm", "domain's dimm info lacks slot ID or base address"),
])
def test_xml_blocker_fails_naming_device_and_libvirts_text(device: str, named: str, text: str) -> None:
    f = one_failure(report(g1(xml(device))), "GST010")
    assert named in f.message and text in f.message and f.remediation


def test_vdpa_on_old_libvirt_gets_its_own_text() -> None:
    vdpa = "<interface type='vdpa'><source dev='/dev/vhost-vdpa-0'/></interface>"
    assert "vDPA devices cannot be migrated" in one_failure(report(g1(xml(vdpa)), lib_version="8.0.0"),
                                                             "GST010").message


def test_dimm_with_address_passes() -> None:
    dimm = ("<memory model='dimm'><target><size unit='MiB'>128</size><node>0</node></target>"
            "<address type='dimm' slot='0' base='0x100000000'/></memory>")
    assert bad(report(g1(xml(dimm))), "GST010") == []


@pytest.mark.parametrize("text", ["", "<domain><name>g1</nam"])
def test_missing_or_broken_xml_is_unknown_for_both(text: str) -> None:
    g = g1()
    g.xml = text
    r = report(g)
    for rule in ("GST004", "GST010"):
        assert Status.UNKNOWN in {f.status for f in of(r, rule)}, rule
        assert Status.PASS not in {f.status for f in of(r, rule)}, rule
    assert mine_block(r)


def test_hostile_device_names_are_escaped() -> None:
    f = one_failure(report(g1(xml(SHMEM_PEER.replace("my_shmem0", "a&#155;[31m&#8238;X")))), "GST010")
    assert "\x9b" not in f.message and "\u202e" not in f.message and "a\\x9b[31m" in f.message


# --- GST004: host devices -------------------------------------------------------------------------

PCI = ("<hostdev mode='subsystem' type='pci' managed='yes'><source>"
       "<address domain='0x0000' bus='0x01' slot='0x00' function='0x1'/></source>{extra}</hostdev>")


def test_pci_hostdev_fails_with_qemus_vfio_blocker_on_libvirt_9() -> None:
    r = report(g1(xml(PCI.format(extra=""))))
    f = one_failure(r, "GST004")
    assert "hostdev pci 0000:01:00.1" in f.message
    assert "cannot migrate domain: VFIO device doesn't support migration" in f.message
    assert "virsh detach-device g1" in (f.remediation or "") and mine_block(r)


def test_pci_hostdev_on_old_libvirt_gets_libvirts_own_text() -> None:
    f = one_failure(report(g1(xml(PCI.format(extra=""))), lib_version="8.0.0"), "GST004")
    assert "cannot migrate a domain with <hostdev mode='subsystem' type='pci'>" in f.message


def test_pci_hostdev_with_transient_teaming_passes() -> None:
    teamed = PCI.format(extra="<teaming type='transient' persistent='ua-net0'/>")
    assert bad(report(g1(xml(teamed))), "GST004") == []


def test_sriov_interface_hostdev_fails_unless_teamed() -> None:
    vf = ("<interface type='hostdev' managed='yes'><mac address='52:54:00:6d:90:02'/><source>"
          "<address type='pci' domain='0x0000' bus='0x03' slot='0x10' function='0x2'/></source>{t}</interface>")
    f = one_failure(report(g1(xml(vf.format(t="")))), "GST004")
    assert "interface hostdev 0000:03:10.2" in f.message and "52:54:00:6d:90:02" in f.message
    assert "cannot migrate a domain with <interface type='hostdev'>" in one_failure(
        report(g1(xml(vf.format(t=""))), lib_version="8.5.0"), "GST004").message
    assert bad(report(g1(xml(vf.format(t="<teaming type='transient' persistent='ua-net0'/>")))), "GST004") == []


def test_usb_hostdev_is_a_warning_unless_optional() -> None:
    usb = ("<hostdev mode='subsystem' type='usb'><source{p}><vendor id='0x046d'/><product id='0xc52b'/>"
           "</source></hostdev>")
    r = report(g1(xml(usb.format(p=""))))
    f = one_failure(r, "GST004")
    assert f.severity is Severity.WARNING and "usb 0x046d:0xc52b" in f.message and not mine_block(r)
    assert bad(report(g1(xml(usb.format(p=" startupPolicy='optional'")))), "GST004") == []


@pytest.mark.parametrize(("device", "text"), [
    ("<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source>"
     "<address uuid='c2177883-f1bb-47f0-914d-32a22e3a8804'/></source></hostdev>", "VFIO device"),
    ("<hostdev mode='subsystem' type='scsi_host'><source protocol='vhost' wwpn='naa.5001405df3e54061'/></hostdev>",
     "vhost-scsi does not support migration"),
    ("<hostdev mode='capabilities' type='storage'><source><block>/dev/sdf1</block></source></hostdev>",
     "cannot migrate a domain with <hostdev mode='capabilities'>"),
])
def test_other_hostdevs_fail(device: str, text: str) -> None:
    assert text in one_failure(report(g1(xml(device))), "GST004").message


def test_scsi_hostdev_warns_on_libvirt_9_and_fails_before_8_6() -> None:
    scsi = ("<hostdev mode='subsystem' type='scsi'><source><adapter name='scsi_host0'/>"
            "<address bus='0' target='0' unit='0'/></source></hostdev>")
    assert one_failure(report(g1(xml(scsi))), "GST004").severity is Severity.WARNING
    old = one_failure(report(g1(xml(scsi)), lib_version="8.0.0"), "GST004")
    assert old.severity is not Severity.WARNING and "type='scsi'" in old.message


def test_offline_migration_skips_host_devices() -> None:
    offline = MigrationPlan(guests=["g1"], dest_uri=PLAN.dest_uri, offline=True)
    r = report(g1(xml(PCI.format(extra=""))), offline)
    assert {f.status for f in of(r, "GST004")} == {Status.SKIP}


# --- the facts, gathered for real (read-only connection) -----------------------------------------

@pytest.mark.libvirtd
def test_real_libvirtd_read_only_sees_snapshot_and_block_job(libvirtd: Libvirtd, tmp_path: Path) -> None:
    disk, copy = tmp_path / "g1.qcow2", tmp_path / "g1-copy.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "16M"], check=True)
    rw = libvirt.open(libvirtd.rw_uri)
    try:
        dom = rw.defineXML(GUEST_XML.format(name="g1", disk=disk))
        dom.create()
        clean = gather_libvirt(libvirtd.ro_uri)
        dom.snapshotCreateXML("<domainsnapshot><name>s1</name></domainsnapshot>", 0)  # internal, running
        dom.blockCopy("vda", f"<disk type='file'><source file='{copy}'/><driver type='qcow2'/></disk>",
                      flags=libvirt.VIR_DOMAIN_BLOCK_COPY_TRANSIENT_JOB)
        blocked = gather_libvirt(libvirtd.ro_uri)
    finally:
        for d in rw.listAllDomains():
            if d.isActive():
                d.destroy()
            for snap in d.listAllSnapshots():
                snap.delete(libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY)
            d.undefine()
        rw.close()
    before, after = clean.guest("g1"), blocked.guest("g1")
    assert before and after and clean.errors == {} and blocked.errors == {}
    assert (before.snapshots, before.block_jobs) == (0, [])
    assert (after.snapshots, after.block_jobs) == (1, ["vda: copy"])
    src, dst = baseline()
    src.guests = [after]
    found = [f.message for f in bad(evaluate(PLAN, src.build(), dst.build()), "GST010")]
    assert any("cannot migrate domain with 1 snapshots" in m for m in found), found
    assert any("domain has active block job" in m for m in found), found


def test_test_driver_models_no_block_jobs_skip_not_unknown() -> None:
    facts = gather_libvirt("test:///default")
    g = facts.guest("test")
    assert g is not None and g.snapshots == 0 and g.block_jobs is None
    assert "not supported" in facts.errors["guest:test:blockjobs"]
    src, dst = baseline()
    s, d = src.build(), dst.build()
    facts.uri = "test:///default"
    s.libvirt = facts
    plan = MigrationPlan(guests=["test"], dest_uri=PLAN.dest_uri, live=True)
    statuses = {f.message.split(":")[1].strip(): f.status for f in of(evaluate(plan, s, d), "GST010")}
    assert statuses.get("block jobs") is Status.SKIP, statuses
