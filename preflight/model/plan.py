"""The planned migration, as the user would type it to `virsh migrate`."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class MigrationPlan:
    guests: list[str]
    dest_uri: str
    live: bool = False
    p2p: bool = False
    tunnelled: bool = False
    copy_storage_all: bool = False
    copy_storage_inc: bool = False  # --copy-storage-inc: disks copied, their backing chain shared
    unsafe: bool = False
    offline: bool = False
    migrate_uri: str | None = None
    all_running: bool = False
    concurrency: int | None = None  # None: number of guests
    tls: bool = False  # --tls: QEMU's own TLS for the migration stream (certs under qemu.conf's dir)

    @property
    def copies_storage(self) -> bool:
        """--copy-storage-all or --copy-storage-inc: libvirt copies the non-shared disks (NBD)."""
        return self.copy_storage_all or self.copy_storage_inc

    @property
    def dest_host(self) -> str | None:
        """Host part of the destination URI (None for a local URI like qemu:///system)."""
        return urlsplit(self.dest_uri).hostname

    @property
    def dest_transport(self) -> str:
        """"ssh", "tls", "tcp", "unix", "libssh", "ext" ... from qemu+ssh:// etc.; "unix" when none."""
        scheme = urlsplit(self.dest_uri).scheme.lower()  # libvirt compares the transport case-blind
        if "+" in scheme:
            return scheme.split("+", 1)[1]
        return "tls" if urlsplit(self.dest_uri).hostname else "unix"

    @property
    def uses_ssh(self) -> bool:
        return self.dest_transport in ("ssh", "libssh", "libssh2")

    @property
    def migrate_host(self) -> str | None:
        """Host part of --migrateuri (tcp://IP or tcp:IP or IP), if given."""
        if not self.migrate_uri:
            return None
        uri = self.migrate_uri
        if "://" not in uri:
            uri = "tcp://" + uri.split(":", 1)[-1] if uri.startswith("tcp:") else "tcp://" + uri
        return urlsplit(uri).hostname

    @property
    def n_concurrent(self) -> int:
        if self.concurrency is not None:
            return self.concurrency
        return max(1, len(self.guests))

    extra: dict[str, str] = field(default_factory=dict)
