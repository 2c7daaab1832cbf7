"""Internal words made human for every report: probe keys and "the seed".

Reasons are built from probe keys (``cmd:getent:host2``, ``file:/etc/hosts``) and
some older texts call the RHEL guide "the seed"; users know neither. Every
renderer passes ``message`` and ``remediation`` through :func:`human`."""

from __future__ import annotations

import re

# The document most rules come from, named so a user can find it.
GUIDE = ("the RHEL guide (Virtualization Deployment and Administration Guide, "
         "live migration with virsh)")
GUIDE_SHORT = "the RHEL guide"

_COMMANDS = {
    "hostname": "hostname",
    "hostname-f": "hostname -f",
    "addresses": "the host's addresses (ip addr)",
    "sshd-T": "sshd -T",
    "sshd-version": "sshd -V",
    "sshd-files": "the sshd Include files",
    "packages": "the installed packages (rpm/dpkg)",
    "daemons": "the daemons' state (systemctl/pidof)",
    "mountinfo": "the mounts (/proc/self/mountinfo)",
    "iptables-save": "the firewall (iptables-save)",
    "nft-ruleset": "the firewall (nft list ruleset)",
    "firewalld": "firewalld's state",
    "netdevs": "the network devices (/sys/class/net)",
}
_PER = {
    "getent": "name lookup of {} (getent ahosts)",
    "virt-admin": "{}'s live limits (virt-admin)",
    "path": "disk {}",
}
# A key ends at ': ' (a reason follows), ';', ',', ')', whitespace or the end.
_KEY = re.compile(r"(?<![\w/.-])(cmd:([A-Za-z-]+)(?::([^\s;,()]+?))?|file:(/[^\s;,()]*?))(?=: |[;,)]|\s|$)")
_SEED = [
    (re.compile(r"\bbeyond the seed\b"), "beyond the RHEL guide"),
    (re.compile(r"\b[Tt]he seed's\b"), "the RHEL guide's"),
    (re.compile(r"\b[Tt]he seed\b"), GUIDE_SHORT),
]


def _key(m: re.Match[str]) -> str:
    if m.group(4) is not None:
        return m.group(4)
    name, arg = m.group(2), m.group(3)
    if arg is not None and name in _PER:
        return _PER[name].format(arg)
    if arg is None and name in _COMMANDS:
        return _COMMANDS[name]
    return m.group(0)


def human(text: str) -> str:
    """``text`` with probe keys as words, no empty libvirt URI, and the RHEL guide for "the seed"."""
    out = _KEY.sub(_key, text)
    out = out.replace("libvirt : ", "libvirt: ")
    for pattern, words in _SEED:
        out = pattern.sub(words, out)
    return out


def opt_human(text: str | None) -> str | None:
    return None if text is None else human(text)


def reference(seed: str | None) -> str | None:
    """The JSON ``reference``: where a rule comes from, in words a user can look up."""
    if not seed:
        return None
    statement = human(seed)
    if "beyond the RHEL guide" in statement or "measured" in statement:
        return f"{GUIDE}, extended by measurement: {statement}"
    return f"{GUIDE}: {statement}"
