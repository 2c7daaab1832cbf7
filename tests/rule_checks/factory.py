"""Fact fixtures: build host snapshots the way gathering would, without a host.

Rules are pure functions of facts, so their tests need no libvirt and no
ssh: these builders write the probe texts the gather script would have
returned (raw file contents and command outputs in the catalogue's format).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from preflight.engine import Report, evaluate
from preflight.model import probes as P
from preflight.model.facts import (
    Availability,
    DiskFact,
    GuestFact,
    HostMode,
    HostSnapshot,
    InterfaceFact,
    LibvirtFacts,
    MemoryFact,
    Probe,
)
from preflight.model.findings import Finding, Status
from preflight.model.plan import MigrationPlan

SRC_ADDR, DST_ADDR = "198.18.0.11", "198.18.0.12"


# A plain TCG guest's live XML: no <emulator> (GST006/GST007 would need the destination's binary),
# nothing libvirt refuses to migrate (GST004/GST010), 64 MiB (GST009).
_XML = ("<domain type='qemu'><name>{n}</name><memory unit='KiB'>65536</memory>"
        "<currentMemory unit='KiB'>65536</currentMemory><os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>"
        "</os><devices/></domain>")


def guest(name: str = "g1", state: str = "running", disks: list[DiskFact] | None = None,
          uuid: str = "11111111-1111-1111-1111-111111111111", **kw: Any) -> GuestFact:
    kw.setdefault("machine", "pc-i440fx-7.2")
    kw.setdefault("xml", _XML.format(n=name))
    kw.setdefault("snapshots", 0)
    kw.setdefault("block_jobs", [])
    return GuestFact(name=name, uuid=uuid, state=state, persistent=True, disks=disks or [], **kw)


def file_disk(path: str, target: str = "vda", **kw: Any) -> DiskFact:
    return DiskFact(target=target, device="disk", type="file", source=path, cache="none", **kw)


@dataclass
class HostBuilder:
    role: str
    hostname: str
    addr: str
    uuid: str
    files: dict[str, str | None] = field(default_factory=dict)
    cmds: dict[str, str | None] = field(default_factory=dict)
    guests: list[GuestFact] = field(default_factory=list)
    libvirt_ok: bool = True
    lib_version: str = "9.0.0"
    qemu_version: str = "7.2.0"
    mode: HostMode = HostMode.SSH
    networks: list[str] | None = field(default_factory=lambda: ["default"])
    machine_types: list[str] | None = field(default_factory=lambda: ["pc", "pc-i440fx-7.2", "q35", "pc-q35-7.2"])
    # 16 GiB, 8 GiB free, 12 GiB with the page cache (GST009)
    memory: MemoryFact | None = field(default_factory=lambda: MemoryFact(total=16 << 30, free=8 << 30,
                                                                         available=12 << 30))
    capabilities: str | None = None

    def build(self) -> HostSnapshot:
        snap = HostSnapshot(role=self.role, spec=f"ssh://root@{self.hostname}", mode=self.mode)
        for path, text in self.files.items():
            key = P.file_key(path)
            if text is None:
                snap.add(Probe(key, f"cat {path}", Availability.MISSING, error="No such file or directory"))
            else:
                snap.add(Probe(key, f"cat {path}", Availability.OK, text=text, rc=0))
        for key, text in self.cmds.items():
            if text is None:
                snap.add(Probe(key, key, Availability.ERROR, rc=1, error="failed"))
            else:
                snap.add(Probe(key, key, Availability.OK, text=text, rc=0))
        if self.libvirt_ok:
            snap.libvirt = LibvirtFacts(uri=f"qemu+ssh://root@{self.hostname}/system", status=Availability.OK,
                                        hypervisor_type="QEMU", hypervisor_version=self.qemu_version,
                                        lib_version=self.lib_version, hostname=self.hostname,
                                        host_uuid=self.uuid, guests=self.guests, networks=self.networks,
                                        machine_types=self.machine_types, memory=self.memory,
                                        capabilities=self.capabilities)
        else:
            snap.libvirt = LibvirtFacts(uri=f"qemu+ssh://root@{self.hostname}/system", status=Availability.ERROR,
                                        error="Cannot recv data: Connection reset by peer")
        return snap


OS_RELEASE = 'NAME="Red Hat Enterprise Linux"\nID="rhel"\nVERSION_ID="{v}"\nPRETTY_NAME="RHEL {v}"\n'
MOUNTINFO = (
    "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
    "40 22 0:40 / /var/lib/libvirt/images/shared rw,nosuid,nodev,relatime - fuse.glusterfs store:/vol rw\n"
    "41 22 8:2 / /var/lib/libvirt/images/local rw,relatime - ext4 /dev/sda2 rw\n"
)
SHARED_DISK = "/var/lib/libvirt/images/shared/g1.qcow2"


def path_stat(path: str, sha: str = "ab" * 32, size: int = 16777216, mtime: int = 1700000000) -> str:
    return f"{path}\t2049\t1234\t{size}\t{mtime}\t{mtime}\t{sha}\n"


def baseline() -> tuple[HostBuilder, HostBuilder]:
    """Two healthy hosts, one running guest on shared storage: every rule passes."""
    common_files = {
        P.OS_RELEASE: OS_RELEASE.format(v="9.4"),
        P.LIBVIRTD_CONF: "#max_clients = 5000\n",
        P.QEMU_CONF: "#migration_host = \"host.example.com\"\n",
        P.SSHD_CONFIG: "PermitRootLogin prohibit-password\n",
    }
    src = HostBuilder("source", "host1.example.com", SRC_ADDR, "aaaaaaaa-0000-0000-0000-000000000001",
                      guests=[guest(disks=[file_disk(SHARED_DISK)],
                                    interfaces=[InterfaceFact("bridge", "br0"), InterfaceFact("network", "default")])])
    dst = HostBuilder("destination", "host2.example.com", DST_ADDR, "aaaaaaaa-0000-0000-0000-000000000002")
    for b, other in ((src, dst), (dst, src)):
        b.files.update(common_files)
        b.files[P.ETC_HOSTS] = (f"127.0.0.1 localhost\n{b.addr} {b.hostname}\n{other.addr} {other.hostname} "
                                f"{other.hostname.split('.')[0]}\n")
        b.files[P.ETC_HOSTNAME] = b.hostname + "\n"
        b.cmds.update({
            P.HOSTNAME: b.hostname.split(".")[0] + "\n",
            P.HOSTNAME_F: b.hostname + "\n",
            P.ADDRESSES: f"1: lo    inet 127.0.0.1/8 scope host lo\n2: eth0    inet {b.addr}/24 scope global eth0\n",
            P.DAEMONS: "libvirtd\trunning\tpidfile\nvirtqemud\tstopped\tpidof\n",
            P.PACKAGES: "libvirt-daemon\t9.0.0-4\nqemu-kvm\t7.2.0-1\nopenssh-server\t9.2p1-2\n",
            P.SSHD_VERSION: "OpenSSH_9.2p1 Debian-2+deb12u6, OpenSSL 3.0.19\n",
            P.SSHD_T: "port 22\nmaxstartups 10:30:100\npersourcemaxstartups none\nmaxsessions 10\n",
            P.MOUNTINFO: MOUNTINFO,
            P.NETDEVS: "br0\neth0\nlo\nvirbr0\n",
            P.IPTABLES: "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n",
            P.FIREWALLD: "stopped\tpidof\n",
            P.path_key(SHARED_DISK): path_stat(SHARED_DISK),
        })
    src.cmds[P.getent_key("host2.example.com")] = f"{DST_ADDR}      STREAM host2.example.com\n"
    return src, dst


def run(src: HostBuilder, dst: HostBuilder, plan: MigrationPlan | None = None) -> Report:
    plan = plan or MigrationPlan(guests=["g1"], dest_uri="qemu+ssh://host2.example.com/system", live=True)
    return evaluate(plan, src.build(), dst.build())


def of(report: Report, rule: str) -> list[Finding]:
    return [f for f in report.findings if f.rule == rule]


def statuses(report: Report, rule: str) -> set[Status]:
    return {f.status for f in of(report, rule)}


def modular(b: HostBuilder, proxy: str = "socket", libvirtd: str = "stopped") -> HostBuilder:
    """Make ``b`` a modular host: virtqemud runs, virtproxyd in state ``proxy``, libvirtd ``libvirtd``."""
    b.cmds[P.DAEMONS] = (f"libvirtd\t{libvirtd}\tsystemd\nvirtqemud\trunning\tsystemd\n"
                         f"virtproxyd\t{proxy}\tsystemd\n")
    b.files.setdefault(P.VIRTQEMUD_CONF, "#max_clients = 5000\n")
    return b
