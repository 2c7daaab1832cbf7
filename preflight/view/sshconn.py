"""Preflight's own ssh connection to a host, and whether it was the migration's control connection.

`virsh migrate ... qemu+ssh://[user@]host[:port]/system` opens ssh from the source: non-p2p as
the user running virsh (their ssh client, known_hosts and keys), with --p2p from the source's
libvirtd, i.e. as root. Preflight's connection to the destination proves (or disproves) that
path only when it was the same one: run on the source, by that user, without an ssh config
virsh would not read, to the host, login and port DESTURI names, with strict host key checking.
:func:`control_connection` says so, and when not, which identity was tried and which was not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["ControlPath", "RootTrust", "SshCause", "SshConnection", "connection", "control_path", "parse_connection",
           "root_trust"]

from preflight.access.spec import HostSpecError
from preflight.access.ssh_errors import DESCRIPTION, SshCause
from preflight.known import Known, known, unknown
from preflight.model import probes as P
from preflight.model.facts import HostMode
from preflight.model.plan import MigrationPlan
from preflight.uri import dest_host_spec
from preflight.view.host import HostView


@dataclass(frozen=True)
class SshConnection:
    """probes.SSH_CONNECT parsed: one attempt of preflight's ssh to the host."""

    ok: bool
    cause: str  # preflight.access.ssh_errors.SshCause value; "" when it worked
    reason: str  # ssh's own words
    user: str  # who ran ssh (the local user)
    uid: int | None
    login: str  # -l USER ("" : ssh's default, the local user's name)
    host: str
    port: str
    ssh_config: str
    sudo: bool
    strict: str

    @property
    def failure(self) -> SshCause:
        """The classified cause (OTHER for an unrecognised or missing one)."""
        return SshCause(self.cause) if self.cause in {c.value for c in SshCause} else SshCause.OTHER

    @property
    def explained(self) -> str:
        """The cause in words."""
        return DESCRIPTION[self.failure]

    @property
    def identity(self) -> str:
        """``USER's ssh to LOGIN@HOST:PORT`` in words."""
        login = f"{self.login}@" if self.login else ""
        port = f":{self.port}" if self.port else ""
        name = self.user or f"uid {self.uid}"
        cfg = f" with -F {self.ssh_config}" if self.ssh_config else ""
        return f"{name}'s ssh to {login}{self.host}{port}{cfg}"


def parse_connection(text: str) -> SshConnection | None:
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, tab, value = line.partition("\t")
        if tab:
            fields[key] = value
    if fields.get("result") not in ("ok", "failed") or not fields.get("host"):
        return None
    uid = fields.get("uid", "")
    return SshConnection(
        ok=fields["result"] == "ok", cause=fields.get("cause", ""), reason=fields.get("reason", ""),
        user=fields.get("user", ""), uid=int(uid) if re.fullmatch(r"[0-9]{1,10}", uid) else None,
        login=fields.get("login", ""), host=fields["host"], port=fields.get("port", ""),
        ssh_config=fields.get("ssh_config", ""), sudo=fields.get("sudo") == "1", strict=fields.get("strict", ""),
    )


def connection(host: HostView) -> Known[SshConnection]:
    """The host's recorded ssh connection (unknown for a local host, an image root or an old snapshot)."""
    text = host.text(P.SSH_CONNECT)
    if not text.ok:
        return unknown(text.reason, not_applicable=host.snap.mode is not HostMode.SSH)
    parsed = parse_connection(text.get())
    return known(parsed, text.source) if parsed is not None else unknown("unreadable ssh connection record")


@dataclass(frozen=True)
class ControlPath:
    """What preflight's connection says of the migration's control connection."""

    conn: SshConnection
    migration_identity: str  # whose ssh virsh migrate will use, in words
    same: bool  # preflight's attempt was the migration's own connection
    differences: tuple[str, ...]  # why not, each in words

    @property
    def certain_failure(self) -> bool:
        """The migration's own connection failed for a cause ssh named: the migration fails the same way.

        An unclassified failure may be our own (the master's socket, a mux error): not claimed."""
        return self.same and not self.conn.ok and self.conn.failure is not SshCause.OTHER


def _migration_user(plan: MigrationPlan, conn: SshConnection) -> str:
    if plan.p2p:
        return "root (the source's libvirtd, --p2p)"
    return "the user running virsh" + (" (root, with sudo)" if conn.sudo and conn.uid != 0 else "")


def control_path(plan: MigrationPlan, source: HostView, dest: HostView) -> Known[ControlPath]:
    """Preflight's connection to the destination compared with the one ``virsh migrate`` will open."""
    rec = connection(dest)
    if not rec.ok:
        return unknown(f"preflight's own ssh connection to the destination: {rec.reason}", rec.not_applicable)
    conn = rec.get()
    diffs: list[str] = []
    if source.snap.mode is not HostMode.LOCAL:
        diffs.append(f"preflight ran on another machine than the source ({source.snap.spec})")
    if plan.dest_transport != "ssh":
        diffs.append(f"the transport is {plan.dest_transport!r}, not OpenSSH's client")
    if urlsplit(plan.dest_uri).query:
        diffs.append("DESTURI's parameters change how libvirt runs ssh")
    try:
        want = dest_host_spec(plan.dest_uri)
    except HostSpecError:
        want = None
    if want is None or (want.host, want.user or "", str(want.port or "")) != (conn.host, conn.login, conn.port):
        target = f"{want.authority}" if want is not None else plan.dest_uri
        diffs.append(f"preflight connected to a different target than DESTURI's ({target})")
    if conn.ssh_config:
        diffs.append(f"preflight used --ssh-config {conn.ssh_config}, which virsh does not read")
    if plan.p2p and conn.uid != 0:
        diffs.append(f"--p2p: libvirtd connects as root, preflight ran as {conn.user or conn.uid}")
    if not plan.p2p and conn.sudo and conn.uid != 0:
        diffs.append(f"--sudo: the migration is likely run as root, preflight's ssh ran as {conn.user or conn.uid}")
    if conn.strict != "yes":
        diffs.append(f"preflight's StrictHostKeyChecking was {conn.strict!r}")
    return known(ControlPath(conn, _migration_user(plan, conn), not diffs, tuple(diffs)), rec.source)


@dataclass(frozen=True)
class RootTrust:
    """probes.KNOWN_HOST_PREFIX parsed: root's ssh files on the source for one destination name."""

    name: str
    known_hosts: tuple[tuple[str, str], ...]  # (file, found | absent | missing | unreadable)
    identities: tuple[tuple[str, str], ...]  # (file, present | missing | unreadable)

    @property
    def found_in(self) -> list[str]:
        return [f for f, st in self.known_hosts if st == "found"]

    @property
    def unreadable(self) -> list[str]:
        return [f for f, st in self.known_hosts + self.identities if st == "unreadable"]

    @property
    def keys(self) -> list[str]:
        return [f for f, st in self.identities if st == "present"]


def root_trust(source: HostView, name: str) -> Known[RootTrust]:
    """What root's known_hosts and identity files on the source say of ``name`` (the DESTURI host)."""
    text = source.text(P.KNOWN_HOST_PREFIX + name)
    if not text.ok:
        return unknown(text.reason, text.not_applicable)
    kh: list[tuple[str, str]] = []
    ids: list[tuple[str, str]] = []
    for line in text.get().splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[0] in ("known_hosts", "identity"):
            (kh if parts[0] == "known_hosts" else ids).append((parts[1], parts[2]))
    if not kh:
        return unknown(f"no known_hosts answer for {name}")
    return known(RootTrust(name, tuple(kh), tuple(ids)), text.source)
