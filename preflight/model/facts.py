"""Host snapshot: every raw observation about one host, gathered once.

A snapshot holds what was *seen* (file texts, command outputs, libvirt
answers), each with how it was obtained and, when it failed, why. Parsing
happens later, offline, so replaying a saved snapshot gives exactly the same
findings as a live run.

A snapshot file is untrusted input: :meth:`HostSnapshot.load` reads at most
MAX_SNAPSHOT_BYTES of a regular file and checks it against these dataclasses
(:mod:`preflight.model.typed_json`): format_version first, then every type, enum
value and required key; unknown keys are refused too (a new field means a new
FORMAT_VERSION). Errors are SnapshotError with a pointer such as
``probes["file:/etc/hosts"].status``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path

from preflight.fsutil import atomic_write, read_bounded
from preflight.model.typed_json import SchemaError, build, kind_of

FORMAT_VERSION = 1
MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024  # a large host's snapshot is a few MB; a crafted one must not fill memory
ROLES = ("source", "destination")


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
    format: str | None = None  # <driver type=...>: qcow2 | raw | ...
    # libvirt's virDomainGetBlockInfo on the source (bytes; running guests, file/block disks): the
    # guest-visible size, and what the image really occupies (a sparse or qcow2 file's used part)
    capacity: int | None = None
    allocation: int | None = None
    # the backing chain from the live XML (<backingStore>), nearest first: file paths or "protocol:name"
    backing: list[str] = field(default_factory=list)


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
    # libvirt's snapshot count (snapshotNum; any snapshot blocks a migration); None: not gathered
    snapshots: int | None = None
    # active block jobs, "vda: copy" (virDomainGetBlockJobInfo per disk); None: not gathered
    block_jobs: list[str] | None = None


@dataclass
class PoolFact:
    """A storage pool as libvirt lists it (``pool.info()`` + its XML); sizes in bytes."""

    name: str
    type: str  # dir | fs | netfs | logical | ...
    active: bool
    target: str | None = None  # <target><path>
    capacity: int | None = None
    allocation: int | None = None
    available: int | None = None


@dataclass
class MemoryFact:
    """The host's memory as libvirt's node calls report it (bytes; None: that call failed)."""

    total: int | None = None  # virNodeGetInfo's memory
    free: int | None = None  # virNodeGetFreeMemory
    # free + buffers + cached (virNodeGetMemoryStats): what the kernel can hand to a new guest
    available: int | None = None
    # free huge pages by page size in KiB ("2048", "1048576"), summed over NUMA cells (virNodeGetFreePages)
    free_pages: dict[str, int] = field(default_factory=dict)


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
    # the raw capabilities XML (host CPU model/vendor/features, NUMA cells and their huge pages, the
    # guest arches and domain types libvirt offers); None when getCapabilities failed
    capabilities: str | None = None
    # every storage pool (active or not); None when they could not be listed
    pools: list[PoolFact] | None = None
    memory: MemoryFact | None = None
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
        """Write atomically: an O_EXCL temporary beside ``path``, renamed over it (a planted
        symlink at ``path`` is replaced, never written through)."""
        atomic_write(str(path), (self.to_json() + "\n").encode("utf-8"), mode=_file_mode())

    @classmethod
    def from_json(cls, text: str | bytes) -> HostSnapshot:
        """Parse and validate; SnapshotError (a ValueError) names what is wrong and where."""
        try:
            data = json.loads(text)
        except RecursionError:
            raise SnapshotError("", "nested too deeply") from None
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, too many digits
            raise SnapshotError("", f"not JSON: {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: object) -> HostSnapshot:
        """Every key and type checked against the dataclasses above, the version first."""
        if not isinstance(data, dict):
            raise SnapshotError("top level", f"expected an object, got {kind_of(data)}")
        version = data.get("format_version")
        if type(version) is not int or version != FORMAT_VERSION:
            shown = json.dumps(version)[:40] if isinstance(version, (int, float, str)) else kind_of(version)
            raise SnapshotError("format_version", f"{shown} is not supported (expected {FORMAT_VERSION})")
        try:
            snap = build(cls, data)
        except SchemaError as exc:
            raise SnapshotError(exc.where, exc.message) from None
        if snap.role not in ROLES:
            raise SnapshotError("role", f"expected one of {', '.join(ROLES)}")
        for key, probe in snap.probes.items():
            where = f"probes[{json.dumps(key[:80])}]"
            if probe.key != key:
                raise SnapshotError(f"{where}.key", "differs from the probe's key in probes")
            if probe.ok and probe.text is None:
                raise SnapshotError(f"{where}.text", 'required when status is "ok"')
        return snap

    @classmethod
    def load(cls, path: Path) -> HostSnapshot:
        """Regular files only (never blocks on a FIFO), at most MAX_SNAPSHOT_BYTES."""
        return cls.from_json(read_bounded(str(path), MAX_SNAPSHOT_BYTES))


class SnapshotError(ValueError):
    """A snapshot that does not fit the model: ``where`` is a path-like pointer into it."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where
        self.message = message


def _file_mode() -> int:
    """0666 minus the umask, as a plain open() would create the file."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _enum_value(obj: object) -> object:
    if isinstance(obj, Enum):
        return obj.value
    raise TypeError(f"cannot serialise {type(obj).__name__}")
