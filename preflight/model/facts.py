"""Host snapshot: every raw observation about one host, gathered once.

A snapshot holds what was *seen* (file texts, command outputs, libvirt
answers), each with how it was obtained and, when it failed, why. Parsing
happens later, offline, so replaying a saved snapshot gives exactly the same
findings as a live run.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

FORMAT_VERSION = 1


class Availability(str, Enum):
    OK = "ok"
    MISSING = "missing"  # the file does not exist / the command is not installed
    ERROR = "error"  # tried and failed (permission, timeout, non-zero exit ...)
    NOT_AVAILABLE = "not-available"  # cannot be observed in this mode (e.g. image root)


@dataclass
class Probe:
    """One raw observation: a file's text or a command's output.

    ``key`` is from the catalogue in :mod:`preflight.model.probes`.
    """

    key: str
    how: str
    status: Availability
    text: str | None = None
    rc: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is Availability.OK

    def reason(self) -> str:
        """Why the value is not usable, for UNKNOWN/SKIP messages."""
        if self.ok:
            return ""
        detail = self.error or self.status.value
        return f"{self.how}: {detail}"


@dataclass
class DiskFact:
    target: str
    device: str  # disk | cdrom | floppy | lun
    type: str  # file | block | network | volume | dir
    source: str | None  # path, or "protocol:name" for network disks
    protocol: str | None = None
    cache: str | None = None
    readonly: bool = False
    shareable: bool = False


@dataclass
class InterfaceFact:
    type: str  # bridge | network | direct | user | ...
    source: str | None  # bridge / network / dev name
    mac: str | None = None


@dataclass
class GuestFact:
    name: str
    uuid: str
    state: str  # running | paused | shutoff | ... (libvirt's names, lower case)
    persistent: bool
    machine: str | None = None
    cpu_mode: str | None = None
    disks: list[DiskFact] = field(default_factory=list)
    interfaces: list[InterfaceFact] = field(default_factory=list)
    hostdevs: list[str] = field(default_factory=list)
    xml: str = ""


@dataclass
class LibvirtFacts:
    """What libvirt-python answered on a read-only connection."""

    uri: str
    status: Availability
    error: str | None = None
    hypervisor_type: str | None = None
    hypervisor_version: str | None = None  # "7.2.0"
    lib_version: str | None = None  # "9.0.0"
    hostname: str | None = None
    host_uuid: str | None = None
    guests: list[GuestFact] = field(default_factory=list)
    # names of the active libvirt networks; None when they could not be listed
    networks: list[str] | None = None
    # machine types the hypervisor offers (capabilities guest/arch/machine, with canonical names)
    machine_types: list[str] | None = None
    # per-field failures, e.g. {"hostname": "this function is not supported by the connection driver"}
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status is Availability.OK

    def guest(self, name: str) -> GuestFact | None:
        for g in self.guests:
            if g.name == name:
                return g
        return None


class HostMode(str, Enum):
    LOCAL = "local"
    SSH = "ssh"
    IMAGE = "image"
    SNAPSHOT = "snapshot"


@dataclass
class HostSnapshot:
    role: str  # "source" | "destination"
    spec: str  # as given: local, ssh://root@host2, /srv/images/x
    mode: HostMode
    reachable: bool = True
    unreachable_reason: str | None = None
    probes: dict[str, Probe] = field(default_factory=dict)
    libvirt: LibvirtFacts | None = None
    gathered_at: str = ""
    gather_seconds: float = 0.0
    # counters for the benchmark: SSH connections opened, remote commands run
    ssh_connections: int = 0
    remote_commands: int = 0
    format_version: int = FORMAT_VERSION

    def probe(self, key: str) -> Probe:
        """The probe, or a MISSING placeholder saying it was never gathered."""
        found = self.probes.get(key)
        if found is not None:
            return found
        return Probe(key=key, how=key, status=Availability.NOT_AVAILABLE, error="not gathered")

    def add(self, probe: Probe) -> None:
        self.probes[probe.key] = probe

    # --- JSON round trip -------------------------------------------------
    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True, default=_enum_value)

    def save(self, path: Path) -> None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(self.to_json() + "\n", encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def from_json(cls, text: str) -> HostSnapshot:
        data = json.loads(text)
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HostSnapshot:
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise ValueError(f"snapshot format_version {version!r} is not supported (expected {FORMAT_VERSION})")
        probes = {
            k: Probe(**{**v, "status": Availability(v["status"])}) for k, v in data.get("probes", {}).items()
        }
        lv = data.get("libvirt")
        libvirt = None
        if lv is not None:
            guests = [
                GuestFact(
                    **{
                        **g,
                        "disks": [DiskFact(**d) for d in g.get("disks", [])],
                        "interfaces": [InterfaceFact(**i) for i in g.get("interfaces", [])],
                    }
                )
                for g in lv.get("guests", [])
            ]
            libvirt = LibvirtFacts(**{**lv, "status": Availability(lv["status"]), "guests": guests})
        return cls(
            **{
                **data,
                "mode": HostMode(data["mode"]),
                "probes": probes,
                "libvirt": libvirt,
            }
        )

    @classmethod
    def load(cls, path: Path) -> HostSnapshot:
        return cls.from_json(path.read_text(encoding="utf-8"))


def _enum_value(obj: object) -> object:
    if isinstance(obj, Enum):
        return obj.value
    raise TypeError(f"cannot serialise {type(obj).__name__}")
