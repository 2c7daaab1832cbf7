"""What a guest asks of the host that runs it: its emulator and virt type (from its XML), and whether
the destination has them (the gather script's own probes: `EMULATOR -version`, then the same binary's
`-machine help` and `-accel help`; /dev/kvm).

The judging path is the binary itself, not libvirt's capabilities: a read-only connection cannot
ask for domain capabilities and libvirt caches its capabilities, so a binary that stopped running
still looks offered there (issue 8).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from preflight.known import Known, known, unknown
from preflight.model import probes as P
from preflight.model.facts import Availability, GuestFact
from preflight.textsafe import escape_control
from preflight.view.host import HostView
from preflight.xmlsafe import parse_xml

GUEST_XML = "the guest's XML"


def guest_root(guest: GuestFact) -> Known[ET.Element]:
    """The guest's XML element tree (the live XML for a running guest), parsed hostile-safe, or why not."""
    if not guest.xml:
        return unknown(f"{guest.name}: no guest XML")
    try:
        return known(parse_xml(guest.xml), GUEST_XML)
    except ET.ParseError as exc:
        return unknown(f"{guest.name}: guest XML does not parse: {exc}")


def emulator_of(guest: GuestFact) -> Known[str]:
    """The guest's ``<devices><emulator>`` path, as the source's libvirt reports it."""
    root = guest_root(guest)
    el = root.value.find("devices/emulator") if root.value is not None else None
    if el is None or not (el.text or "").strip():
        return unknown(root.reason or f"{guest.name}: the guest XML names no emulator")
    return known((el.text or "").strip(), GUEST_XML)


def virt_type_of(guest: GuestFact) -> Known[str]:
    """The domain type (``<domain type='kvm'>``: kvm, qemu, ...)."""
    root = guest_root(guest)
    if root.value is None:
        return unknown(root.reason)
    dtype = root.value.get("type")
    return known(dtype, GUEST_XML) if dtype else unknown(f"{guest.name}: the guest XML has no domain type")


def runnable_emulator(path: str) -> bool:
    """Whether preflight may run ``path -version`` as the gathering user (root): the path comes from the
    source's guest XML, hostile like everything inspected, so only an absolute path named like QEMU."""
    base = path.rsplit("/", 1)[-1]
    return path.startswith("/") and ".." not in path.split("/") and (base.startswith("qemu") or base == "kvm")


@dataclass(frozen=True)
class EmulatorRun:
    path: str
    state: str  # runs | missing | fails
    line: str  # `-version`'s first line, or the reason it did not run (stderr's last line)
    rc: int | None = None


def emulator_run(host: HostView, path: str) -> Known[EmulatorRun]:
    """Whether ``path`` exists on this host and ``path -version`` ran, as the gather script saw it."""
    if not runnable_emulator(path):
        return unknown(f"{escape_control(path)}: not run (preflight runs only an absolute path named qemu* or kvm)")
    probe = host.snap.probe(P.emulator_key(path))
    if probe.status is Availability.OK:
        line = (probe.text or "").strip().splitlines()
        return known(EmulatorRun(path, "runs", escape_control(line[0] if line else "")), probe.how)
    if probe.status is Availability.MISSING:
        return known(EmulatorRun(path, "missing", f"{path}: No such file or directory", probe.rc), probe.how)
    if probe.status is Availability.ERROR and probe.rc not in (None, 124):  # ran (or refused) and failed
        errs = [ln.strip() for ln in (probe.error or "").splitlines() if ln.strip()]
        return known(EmulatorRun(path, "fails", escape_control(errs[-1] if errs else f"exit {probe.rc}"), probe.rc),
                     probe.how)
    na = probe.status is Availability.NOT_AVAILABLE and probe.error != "not gathered"
    return unknown(probe.reason(), not_applicable=na)


@dataclass(frozen=True)
class Kvm:
    dev: str  # char | absent | other (/dev/kvm)
    module: str  # present | absent (/sys/module/kvm)
    mode: str  # "660 root kvm", or "-"
    rdev: str = "-"  # "a:e8" (10:232, KVM's misc device) in hex; "-": not seen (older snapshots)

    @property
    def wrong_device(self) -> bool:
        """A character device that is not KVM's (e.g. /dev/null bind-mounted over /dev/kvm: QEMU says
        'kvm version too old', measured)."""
        return self.dev == "char" and self.rdev not in ("-", KVM_RDEV)

    @property
    def usable(self) -> bool:
        return self.dev == "char" and self.module == "present" and not self.wrong_device


KVM_RDEV = "a:e8"  # misc major 10, minor 232 (Documentation/admin-guide/devices.txt)


def kvm(host: HostView) -> Known[Kvm]:
    """/dev/kvm and the kvm module on this host (cmd:kvm)."""
    def parse(text: str) -> Kvm | None:
        fields = dict(ln.split("\t", 1) for ln in text.splitlines() if "\t" in ln)
        if "dev" not in fields or "module" not in fields:
            return None
        # bounded: a crafted line must not fill a finding ("660 root kvm", "a:e8" are a few characters)
        return Kvm(fields["dev"].strip()[:20], fields["module"].strip()[:20],
                   escape_control(fields.get("mode", "-").strip()[:80]),
                   escape_control(fields.get("rdev", "-").strip()[:40]))

    return host.text(P.KVM).map(parse, f"{P.KVM}: output not understood")


def qemu_user(host: HostView) -> Known[str]:
    """qemu.conf's ``user`` (whom QEMU runs as); "" when unset (the build's default, non-root on RHEL and Debian)."""
    conf = host.qemu_conf
    if not conf.ok:
        return unknown(conf.reason, conf.not_applicable)
    entry = conf.get().get("user")
    return known(str(entry.value) if entry is not None else "", conf.get().path)


def kvm_closed_to(k: Kvm, user: str) -> str:
    """Why QEMU running as ``user`` cannot open /dev/kvm by its mode, or "" (also when it cannot be told).

    A group with read-write (the usual "660 root kvm") is taken as usable: the QEMU user's groups are not gathered.
    """
    parts = k.mode.split()
    if len(parts) != 3 or not all(c in "01234567" for c in parts[0]):
        return ""
    perms, owner, group = int(parts[0], 8), parts[1], parts[2]
    if user in ("root", "+0") or perms & 0o6 == 0o6 or (perms & 0o60 == 0o60 and group != "root"):
        return ""
    if perms & 0o600 == 0o600 and owner == user:
        return ""
    return f"/dev/kvm is {k.mode}: QEMU running as {user or 'the default non-root user'} cannot open it"


# --- what the binary itself offers (`EMULATOR -machine help`, `-accel help`, gathered after -version ran) ---

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
_MAX_NAMES = 4096  # a QEMU lists ~100 machine types; the output is hostile and bounded


def _name(word: str) -> str | None:
    return word if word and len(word) <= 128 and set(word) <= _NAME_CHARS else None


@dataclass(frozen=True)
class Machines:
    """The machine types a QEMU binary accepts: canonical names and aliases (``pc`` -> ``pc-i440fx-7.2``)."""

    names: tuple[str, ...]  # every accepted name, in the binary's order
    aliases: dict[str, str]  # alias -> the canonical name it stands for on this binary

    def offers(self, machine: str) -> bool:
        return machine in self.names


def parse_machine_help(text: str) -> Machines | None:
    """``qemu-system-* -machine help``: "Supported machines are:" then "NAME  DESCRIPTION [(alias of X)]" lines."""
    names: list[str] = []
    aliases: dict[str, str] = {}
    lines = text.splitlines()[: _MAX_NAMES + 1]
    if not lines or not lines[0].startswith("Supported machines"):
        return None  # not the answer to -machine help (QEMU's header since 0.x)
    for line in lines[1:]:
        words = line.split()
        if not words or line[:1].isspace():
            continue  # blank or continuation lines
        name = _name(words[0])
        if name is None:
            continue
        names.append(name)
        marker = line.rfind("(alias of ")
        if marker >= 0:
            target = _name(line[marker + len("(alias of "):].split(")", 1)[0].strip())
            if target is not None:
                aliases[name] = target
    return Machines(tuple(names), aliases) if names else None


def parse_accel_help(text: str) -> tuple[str, ...] | None:
    """``qemu-system-* -accel help``: "Accelerators supported in QEMU binary:" then one name a line."""
    lines = [ln.strip() for ln in text.splitlines()[:64] if ln.strip()]
    if not lines or not lines[0].lower().startswith("accelerators"):
        return None
    return tuple(n for n in (_name(ln) for ln in lines[1:]) if n is not None)


def _help(host: HostView, key: str, parse_what: str) -> Known[str]:
    probe = host.snap.probe(key)
    if probe.status is Availability.OK:
        return known(probe.text or "", probe.how)
    na = probe.status is Availability.NOT_AVAILABLE and probe.error != "not gathered"
    return unknown(f"{parse_what}: {probe.reason()}", not_applicable=na)


def machine_help_gathered(host: HostView, path: str) -> bool:
    """Whether the snapshot holds ``path -machine help`` at all (a snapshot of an older preflight, or an
    emulator preflight did not run, has none), whatever came of it."""
    return P.emulator_machines_key(path) in host.snap.probes


def emulator_machines(host: HostView, path: str) -> Known[Machines]:
    """The machine types ``path -machine help`` listed on this host (only gathered when ``-version`` ran)."""
    if not runnable_emulator(path):
        return unknown(f"{escape_control(path)}: not run (preflight runs only an absolute path named qemu* or kvm)")
    return _help(host, P.emulator_machines_key(path), "-machine help").map(
        parse_machine_help, f"{escape_control(path)} -machine help: output not understood")


def emulator_accels(host: HostView, path: str) -> Known[tuple[str, ...]]:
    """The accelerators ``path -accel help`` listed on this host (tcg, kvm, ...)."""
    if not runnable_emulator(path):
        return unknown(f"{escape_control(path)}: not run (preflight runs only an absolute path named qemu* or kvm)")
    return _help(host, P.emulator_accels_key(path), "-accel help").map(
        parse_accel_help, f"{escape_control(path)} -accel help: output not understood")
