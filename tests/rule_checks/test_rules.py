"""Per rule: the baseline passes (test_baseline) and one broken fact fails it here.

Each case changes the baseline the way the real fault would show up in the
gathered facts, then asserts the rule's status (and, where it matters, the
severity, file and line a user would act on).
"""

from __future__ import annotations

from preflight.engine import ExitCode, Verdict
from preflight.model import probes as P
from preflight.model.facts import HostMode
from preflight.model.findings import Severity, Status
from preflight.model.plan import MigrationPlan
from tests.rule_checks.factory import (
    DST_ADDR,
    OS_RELEASE,
    SHARED_DISK,
    SRC_ADDR,
    baseline,
    file_disk,
    guest,
    of,
    path_stat,
    run,
    statuses,
)

URI = "qemu+ssh://host2.example.com/system"


def plan(**kw: object) -> MigrationPlan:
    args: dict = {"guests": ["g1"], "dest_uri": URI, "live": True}
    args.update(kw)
    return MigrationPlan(**args)


def failing(report, rule: str):  # type: ignore[no-untyped-def]
    found = [f for f in of(report, rule) if f.status is Status.FAIL]
    assert found, [f"{f.status.value} {f.message}" for f in of(report, rule)]
    return found[0]


# --- NET001 -------------------------------------------------------------------
def test_net001_no_resolution_fails_with_hosts_line_fix() -> None:
    src, dst = baseline()
    src.files[P.ETC_HOSTS] = "127.0.0.1 localhost\n"
    src.cmds[P.getent_key("host2.example.com")] = None
    snap_src = src.build()
    snap_src.probes[P.getent_key("host2.example.com")].rc = 2  # getent: not found
    from preflight.engine import evaluate

    report = evaluate(plan(), snap_src, dst.build())
    f = failing(report, "NET001")
    assert f.severity is Severity.ERROR and "cannot resolve" in f.message
    assert f"{DST_ADDR}  host2.example.com" in (f.remediation or "")
    assert report.exit_code is ExitCode.NOT_READY


def test_net001_points_at_source_itself() -> None:
    src, dst = baseline()
    src.files[P.ETC_HOSTS] = f"127.0.0.1 localhost\n{SRC_ADDR} host2.example.com\n"
    src.cmds[P.getent_key("host2.example.com")] = f"{SRC_ADDR} STREAM host2.example.com\n"
    f = failing(run(src, dst), "NET001")
    assert "same host" in f.message and f.file == "/etc/hosts" and f.line == 2


def test_net001_loopback() -> None:
    src, dst = baseline()
    src.cmds[P.getent_key("host2.example.com")] = "127.0.1.1 STREAM host2.example.com\n"
    assert "loopback" in failing(run(src, dst), "NET001").message


def test_net001_checks_dest_own_hostname_even_with_ip_uri() -> None:
    src, dst = baseline()
    src.cmds[P.getent_key("host2.example.com")] = ""
    snap = src.build()
    snap.probes[P.getent_key("host2.example.com")].rc = 2
    from preflight.engine import evaluate

    report = evaluate(plan(dest_uri=f"qemu+ssh://{DST_ADDR}/system"), snap, dst.build())
    f = failing(report, "NET001")
    assert f.subject == "host2.example.com"
    # ... and --migrateuri with an address removes the need.
    report = evaluate(plan(dest_uri=f"qemu+ssh://{DST_ADDR}/system", migrate_uri=f"tcp://{DST_ADDR}"),
                      snap, dst.build())
    assert statuses(report, "NET001") == {Status.PASS}


def test_net001_dns_answer_is_named() -> None:
    src, dst = baseline()
    src.files[P.ETC_HOSTS] = "127.0.0.1 localhost\n"
    f = of(run(src, dst), "NET001")[0]
    assert f.status is Status.PASS and "DNS" in f.message


def test_net001_image_mode_without_hosts_entry_fails() -> None:
    src, dst = baseline()
    src.mode = HostMode.IMAGE
    src.files[P.ETC_HOSTS] = "127.0.0.1 localhost\n"
    del src.cmds[P.getent_key("host2.example.com")]
    f = failing(run(src, dst), "NET001")
    assert "no entry" in f.message


# --- NET002 / NET003 ----------------------------------------------------------
def test_net002_localhost_hostname() -> None:
    src, dst = baseline()
    dst.hostname = "localhost.localdomain"
    src.cmds[P.getent_key("localhost.localdomain")] = "127.0.0.1 STREAM localhost.localdomain\n"
    report = run(src, dst)
    assert "FQDN" in failing(report, "NET002").message


def test_net003_same_uuid() -> None:
    src, dst = baseline()
    dst.uuid = src.uuid
    assert "same host" in failing(run(src, dst), "NET003").message


# --- OS001 --------------------------------------------------------------------
def test_os001_major_differs_is_error_minor_back_is_warning() -> None:
    src, dst = baseline()
    dst.files[P.OS_RELEASE] = OS_RELEASE.format(v="8.10")
    assert failing(run(src, dst), "OS001").severity is Severity.ERROR
    dst.files[P.OS_RELEASE] = OS_RELEASE.format(v="9.2")
    assert failing(run(src, dst), "OS001").severity is Severity.WARNING
    dst.files[P.OS_RELEASE] = OS_RELEASE.format(v="9.6")
    assert statuses(run(src, dst), "OS001") == {Status.PASS}


def test_os001_unknown_is_not_pass() -> None:
    src, dst = baseline()
    dst.files[P.OS_RELEASE] = None
    dst.files[P.REDHAT_RELEASE] = None
    report = run(src, dst)
    assert statuses(report, "OS001") == {Status.UNKNOWN}
    assert report.verdict == Verdict.UNKNOWN and report.exit_code is ExitCode.COULD_NOT_INSPECT


# --- VER ----------------------------------------------------------------------
def test_ver_older_destination() -> None:
    src, dst = baseline()
    dst.lib_version, dst.qemu_version = "8.0.0", "6.2.0"
    report = run(src, dst)
    assert "older" in failing(report, "VER002").message
    assert "older" in failing(report, "VER003").message


def test_ver001_other_hypervisor() -> None:
    src, dst = baseline()
    s, d = src.build(), dst.build()
    assert d.libvirt is not None
    d.libvirt.hypervisor_type = "Xen"
    from preflight.engine import evaluate

    assert statuses(evaluate(plan(), s, d), "VER001") == {Status.FAIL}


# --- DMN ----------------------------------------------------------------------
def test_dmn001_daemon_stopped_on_destination() -> None:
    src, dst = baseline()
    dst.libvirt_ok = False
    dst.cmds[P.DAEMONS] = "libvirtd\tstopped\tpidfile\nvirtqemud\tstopped\tpidof\n"
    f = failing(run(src, dst), "DMN001")
    assert f.host.value == "destination" and "systemctl enable --now libvirtd" in (f.remediation or "")


def test_dmn002_anonymous_over_clients_and_syntax_error() -> None:
    src, dst = baseline()
    dst.files[P.LIBVIRTD_CONF] = "max_clients = 10\nmax_anonymous_clients = 20\n"
    f = failing(run(src, dst), "DMN002")
    assert "refuses to start" in f.message and f.line == 2
    dst.files[P.LIBVIRTD_CONF] = 'max_clients = 10\nlisten_addr = "0.0.0.0\n'
    f = failing(run(src, dst), "DMN002")
    assert f.file == P.LIBVIRTD_CONF and f.line is not None


def test_dmn002_setting_the_daemon_refuses_to_read() -> None:
    # a quoted number where libvirt reads an unsigned int: the daemon does not start (typed read)
    src, dst = baseline()
    dst.files[P.LIBVIRTD_CONF] = "max_clients = -1\n"
    f = failing(run(src, dst), "DMN002")
    assert f.line == 1 and f.subject == "max_clients" and "unsigned" in f.message
    dst.files[P.LIBVIRTD_CONF] = 'auth_tcp = "bogus"\n'  # not a limit: the file is the subject
    f = failing(run(src, dst), "DMN002")
    assert f.line == 1 and "auth_tcp" in f.message
    assert run(src, dst).verdict != Verdict.READY


def test_dmn003_max_requests() -> None:
    src, dst = baseline()
    src.files[P.LIBVIRTD_CONF] = "max_requests = 20\n"
    f = failing(run(src, dst), "DMN003")
    assert f.severity is Severity.WARNING and f.line == 1
    assert run(src, dst).verdict == Verdict.READY  # a warning does not block


# --- GST ----------------------------------------------------------------------
def test_gst001_missing_guest() -> None:
    report = run(*baseline(), plan=plan(guests=["nope"]))
    assert "not defined" in failing(report, "GST001").message


def test_gst002_shut_off_guest_gets_seed_remedy() -> None:
    src, dst = baseline()
    src.guests = [guest(state="shutoff", disks=[file_disk(SHARED_DISK)])]
    f = failing(run(src, dst), "GST002")
    assert "virsh dumpxml g1" in (f.remediation or "") and "undefine" in (f.remediation or "")
    assert statuses(run(src, dst, plan(offline=True, live=False)), "GST002") == {Status.PASS}


def test_gst003_name_taken_on_destination() -> None:
    src, dst = baseline()
    dst.guests = [guest(uuid="22222222-2222-2222-2222-222222222222", state="shutoff")]
    assert "already exists" in failing(run(src, dst), "GST003").message


def test_gst004_host_devices() -> None:
    src, dst = baseline()
    xml = ("<domain type='qemu'><name>g1</name><devices><hostdev mode='subsystem' type='pci' managed='yes'>"
           "<source><address domain='0x0000' bus='0x03' slot='0x00' function='0x0'/></source></hostdev>"
           "</devices></domain>")
    src.guests = [guest(disks=[file_disk(SHARED_DISK)], hostdevs=["pci 0000:03:00.0"], xml=xml)]
    assert statuses(run(src, dst), "GST004") == {Status.FAIL}  # more cases: test_migration_blockers.py


# --- STO ----------------------------------------------------------------------
LOCAL = "/var/lib/libvirt/images/local/g1.qcow2"


def test_sto_local_disk_fails_on_both_sides_unless_copy_storage() -> None:
    src, dst = baseline()
    src.guests = [guest(disks=[file_disk(LOCAL, format="qcow2", capacity=16777216, allocation=200704)])]
    src.cmds[P.path_key(LOCAL)] = path_stat(LOCAL)
    # the destination's copy target: a qcow2 image of the same virtual size (STO004 under --copy-storage-all)
    qcow2_16m = "514649fb00000003" + "00" * 16 + "0000000001000000"
    dst.cmds[P.path_key(LOCAL)] = path_stat(LOCAL).rstrip("\n") + f"\t{qcow2_16m}\n"
    report = run(src, dst)
    assert "Unsafe migration" in failing(report, "STO001").message
    assert "not shared" in failing(report, "STO002").message
    report = run(src, dst, plan(copy_storage_all=True))
    assert statuses(report, "STO001") == {Status.SKIP} and report.verdict == Verdict.READY


def test_sto002_missing_on_destination() -> None:
    src, dst = baseline()
    dst.cmds[P.path_key(SHARED_DISK)] = None
    snap = dst.build()
    from preflight.model.facts import Availability

    snap.probes[P.path_key(SHARED_DISK)].status = Availability.MISSING
    from preflight.engine import evaluate

    assert "does not exist" in failing(evaluate(plan(), src.build(), snap), "STO002").message


def test_sto003_different_file_same_path_never_passes_even_unsafe() -> None:
    src, dst = baseline()
    dst.cmds[P.path_key(SHARED_DISK)] = path_stat(SHARED_DISK, sha="cd" * 32)
    report = run(src, dst, plan(unsafe=True))
    f = failing(report, "STO003")
    assert "DIFFERENT file" in f.message and report.verdict == Verdict.NOT_READY


def test_sto_unknown_mounts_are_unknown() -> None:
    src, dst = baseline()
    src.cmds[P.MOUNTINFO] = None
    assert statuses(run(src, dst), "STO001") == {Status.UNKNOWN}


# --- LIM ----------------------------------------------------------------------
def test_lim001_modern_release_over_limit_is_a_warning() -> None:
    src, dst = baseline()
    dst.files[P.LIBVIRTD_CONF] = "# limits\nmax_clients = 2\n"
    f = failing(run(src, dst, plan(guests=["g1"], concurrency=3)), "LIM001")
    assert f.severity is Severity.WARNING and f.line == 2 and "queue" in f.message


def test_lim001_old_release_drops() -> None:
    src, dst = baseline()
    dst.lib_version = "0.10.2"
    src.lib_version = "0.10.2"
    report = run(src, dst, plan(concurrency=25))
    f = [x for x in of(report, "LIM001") if x.host.value == "destination"][0]
    assert f.status is Status.FAIL and f.severity is Severity.ERROR and "drops" in f.message
    assert "max_clients = 20" in f.message  # the seed's old default applied, and said so


def test_lim001_long_lived_clients_hold_all_slots() -> None:
    src, dst = baseline()
    dst.libvirt_ok = False  # the held slot queues preflight's own connection: it never answered
    dst.cmds[P.virt_admin_key("libvirtd")] = (
        "nclients_max          : 1\nnclients              : 1\nnclients_unauth_max   : 1\nnclients_unauth       : 0\n"
    )
    f = failing(run(src, dst), "LIM001")
    assert f.severity is Severity.ERROR and "hangs" in f.message


def test_lim001_seed_count_warning() -> None:
    src, dst = baseline()
    dst.files[P.LIBVIRTD_CONF] = "max_clients = 20\nmax_workers = 20\n"
    f = failing(run(src, dst, plan(concurrency=12)), "LIM001")
    assert f.severity is Severity.WARNING and "RHEL guide" in f.message


def test_lim002_and_lim003() -> None:
    src, dst = baseline()
    src.files[P.LIBVIRTD_CONF] = "max_clients = 50\nmax_workers = 2\n"
    report = run(src, dst, plan(concurrency=4))
    assert failing(report, "LIM002").severity is Severity.WARNING
    assert failing(report, "LIM003").severity is Severity.INFO


# --- SSH ----------------------------------------------------------------------
def test_ssh001_from_sshd_T_and_from_files() -> None:
    src, dst = baseline()
    report = run(src, dst, plan(concurrency=12))
    f = failing(report, "SSH001")
    assert "10:30:100" in f.message and "MaxStartups 14:30:100" in (f.remediation or "")
    # Without sshd -T the files are read (here: set at line 2).
    dst.cmds[P.SSHD_T] = None
    dst.files[P.SSHD_CONFIG] = "Port 22\nMaxStartups 3\n"
    f = failing(run(src, dst, plan(concurrency=4)), "SSH001")
    assert f.line == 2 and f.file == P.SSHD_CONFIG
    assert statuses(run(src, dst, plan(concurrency=3)), "SSH001") == {Status.PASS}


def test_ssh001_not_for_tls() -> None:
    report = run(*baseline(), plan=plan(dest_uri="qemu+tls://host2.example.com/system", concurrency=50))
    assert statuses(report, "SSH001") == {Status.SKIP}


def test_ssh002_per_source() -> None:
    src, dst = baseline()
    dst.cmds[P.SSHD_T] = "maxstartups 100:30:100\npersourcemaxstartups 2\n"
    assert statuses(run(src, dst, plan(concurrency=3)), "SSH002") == {Status.FAIL}
    dst.cmds[P.SSHD_VERSION] = "OpenSSH_7.4p1, OpenSSL 1.0.2k-fips\n"
    assert statuses(run(src, dst, plan(concurrency=3)), "SSH002") == {Status.SKIP}


# --- inspection ---------------------------------------------------------------
def test_unreachable_destination_is_never_ready() -> None:
    src, dst = baseline()
    d = dst.build()
    d.reachable, d.unreachable_reason = False, "ssh: connect to host 198.18.0.99 port 22: No route to host"
    d.probes.clear()
    d.libvirt = None
    from preflight.engine import evaluate

    report = evaluate(plan(), src.build(), d)
    assert report.verdict == Verdict.UNKNOWN and report.exit_code is ExitCode.COULD_NOT_INSPECT
    assert any(f.rule == "INS001" and "No route to host" in f.message for f in report.findings)


def test_lim003_equal_values_pass() -> None:
    src, dst = baseline()
    src.files[P.LIBVIRTD_CONF] = "max_clients = 40\nmax_workers = 40\n"
    assert {f.status for f in of(run(src, dst), "LIM003") if f.host.value == "source"} == {Status.PASS}


def test_ver003_package_version_equals_libvirt_report() -> None:
    """libvirt down on the destination: its QEMU version comes from the package ("1:7.2+dfsg-7")."""
    src, dst = baseline()
    dst.libvirt_ok = False
    dst.cmds[P.PACKAGES] = "libvirt-daemon\t9.0.0-4\nqemu-system-x86\t1:7.2+dfsg-7+deb12u7\n"
    assert statuses(run(src, dst), "VER003") == {Status.PASS}


def test_ver003_package_vs_binary_compares_major_minor() -> None:
    """Debian's qemu package says 7.2 while the binary reports 7.2.22: not older."""
    src, dst = baseline()
    src.qemu_version = "7.2.22"
    dst.libvirt_ok = False
    dst.cmds[P.PACKAGES] = "libvirt-daemon\t9.0.0-4\nqemu-system-x86\t1:7.2+dfsg-7+deb12u18+b3\n"
    assert statuses(run(src, dst), "VER003") == {Status.PASS}
    dst.cmds[P.PACKAGES] = "libvirt-daemon\t9.0.0-4\nqemu-system-x86\t1:7.1+dfsg-2\n"
    assert statuses(run(src, dst), "VER003") == {Status.FAIL}


# --- NET004 -------------------------------------------------------------------
def test_net004_missing_bridge_and_network() -> None:
    src, dst = baseline()
    dst.cmds[P.NETDEVS] = "eth0\nlo\n"
    dst.networks = []
    report = run(src, dst)
    fails = {f.subject: f for f in of(report, "NET004") if f.status is Status.FAIL}
    assert "Cannot get interface MTU on 'br0'" in fails["g1: bridge 'br0'"].message
    assert "Network not found" in fails["g1: network 'default'"].message
    assert "net-start default" in (fails["g1: network 'default'"].remediation or "")


def test_net004_unknown_when_not_listed() -> None:
    src, dst = baseline()
    dst.cmds[P.NETDEVS] = None
    dst.networks = None
    assert statuses(run(src, dst), "NET004") == {Status.UNKNOWN}


# --- GST005 -------------------------------------------------------------------
def test_gst005_machine_type_missing_on_dest() -> None:
    src, dst = baseline()
    src.guests = [guest(disks=[file_disk(SHARED_DISK)], machine="pc-q35-rhel9.4.0")]
    dst.machine_types = ["pc", "pc-i440fx-7.2", "pc-q35-rhel9.2.0", "q35"]
    f = failing(run(src, dst), "GST005")
    assert "pc-q35-rhel9.4.0" in f.message and "pc-q35-rhel9.2.0" in f.message
    dst.machine_types = None
    assert statuses(run(src, dst), "GST005") == {Status.UNKNOWN}


# --- NET005 -------------------------------------------------------------------
RHEL_LIKE_INPUT = """*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p icmp -j ACCEPT
-A INPUT -i lo -j ACCEPT
-A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT
-A INPUT -j REJECT --reject-with icmp-host-prohibited
COMMIT
"""


def test_net005_classic_rhel_iptables_rejects_the_range() -> None:
    src, dst = baseline()
    dst.cmds[P.IPTABLES] = RHEL_LIKE_INPUT
    f = failing(run(src, dst), "NET005")
    assert "rejects TCP 49152" in f.message and "icmp-host-prohibited" in f.message
    assert statuses(run(src, dst, plan(p2p=True, tunnelled=True)), "NET005") == {Status.SKIP}


def test_net005_opened_range_passes_and_user_chains_are_followed() -> None:
    src, dst = baseline()
    dst.cmds[P.IPTABLES] = RHEL_LIKE_INPUT.replace(
        "-A INPUT -j REJECT", ":MIGRATION - [0:0]\n-A INPUT -j MIGRATION\n-A INPUT -j REJECT").replace(
        "COMMIT", f"-A MIGRATION -s {SRC_ADDR}/32 -p tcp -m multiport --dports 49152:49215 -j ACCEPT\n"
        "-A MIGRATION -j RETURN\nCOMMIT")
    assert statuses(run(src, dst), "NET005") == {Status.PASS}


def test_net005_firewalld_is_a_warning_level_unknown() -> None:
    src, dst = baseline()
    dst.cmds[P.FIREWALLD] = "running\tsystemd\n"
    report = run(src, dst)
    f = of(report, "NET005")[0]
    assert f.status is Status.UNKNOWN and f.severity is Severity.WARNING and "firewalld" in f.message
    assert report.verdict == Verdict.READY  # best effort: it warns, it does not block
