"""Baseline files of the lab hosts (what reset() restores)."""

from __future__ import annotations

import uuid

DOMAIN = "lab.example"
HOSTS = ("host1", "host2")  # the default lab
HOSTS3 = ("host1", "host2", "host3")  # the optional three-host lab (Lab(dir, hosts=HOSTS3))
ADDRS = {"host1": "198.18.0.11", "host2": "198.18.0.12", "host3": "198.18.0.13"}
PREFIX = 24
SHARED_DIR = "/var/lib/libvirt/images/shared"
LOCAL_DIR = "/var/lib/libvirt/images/local"


def fqdn(host: str) -> str:
    return f"{host}.{DOMAIN}"


def host_uuid(host: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"preflight-lab.{fqdn(host)}"))


def etc_hosts(hosts: tuple[str, ...] = HOSTS) -> str:
    lines = ["127.0.0.1\tlocalhost", "::1\t\tlocalhost ip6-localhost ip6-loopback"]
    lines += [f"{ADDRS[h]}\t{fqdn(h)} {h}" for h in hosts]
    return "\n".join(lines) + "\n"


def libvirtd_conf(host: str) -> str:
    return (
        "\n# --- preflight lab ---\n"
        f'host_uuid = "{host_uuid(host)}"\n'
        'auth_unix_rw = "none"\n'
        'auth_unix_ro = "none"\n'
        'log_outputs = "3:file:/var/log/libvirt/libvirtd.log"\n'
    )


QEMU_CONF = """
# --- preflight lab ---
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
stdio_handler = "file"
"""

SSHD_CONFIG = """\
# preflight lab
Include /etc/ssh/sshd_config.d/*.conf
Port 22
ListenAddress 0.0.0.0
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile /run/sshd.pid
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile .ssh/authorized_keys
UseDNS no
Subsystem sftp /usr/lib/openssh/sftp-server
"""

SSH_CLIENT_CONFIG = """\
# preflight lab
Host *
    BatchMode yes
    StrictHostKeyChecking yes
    UserKnownHostsFile ~/.ssh/known_hosts
    IdentityFile ~/.ssh/id_ed25519
    IdentitiesOnly yes
"""


def known_hosts(host_keys: dict[str, str], hosts: tuple[str, ...] = HOSTS) -> str:
    return "".join(f"{h},{fqdn(h)},{ADDRS[h]} {host_keys[h].strip()}\n" for h in hosts)


def guest_xml(name: str, disk: str | None, memory_mib: int = 64) -> str:
    disk_xml = ""
    if disk:
        disk_xml = (
            "    <disk type='file' device='disk'>\n"
            "      <driver name='qemu' type='qcow2' cache='none'/>\n"
            f"      <source file='{disk}'/>\n"
            "      <target dev='vda' bus='virtio'/>\n"
            "    </disk>\n"
        )
    return (
        "<domain type='qemu'>\n"
        f"  <name>{name}</name>\n"
        f"  <memory unit='MiB'>{memory_mib}</memory>\n"
        "  <vcpu>1</vcpu>\n"
        "  <os><type arch='x86_64' machine='pc'>hvm</type></os>\n"
        "  <on_poweroff>destroy</on_poweroff>\n"
        "  <devices>\n"
        "    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n"
        f"{disk_xml}"
        "    <controller type='usb' model='none'/>\n"
        "    <memballoon model='none'/>\n"
        "  </devices>\n"
        "</domain>\n"
    )
