"""The pseudo-migrations `preflight lint` judges one host in (see :mod:`preflight.lint` for the design).

A rule's ``check(ctx)`` reads ``ctx.plan``, ``ctx.source`` and ``ctx.dest``. Lint gives it a
:class:`LintContext`: the host in one role, a *peer* in the other, and a plan that says what the
config declares (the concurrency, the transport, the peer's name). The peer is this host's own
snapshot under the peer's identity: its name (hostname, /etc/hostname, libvirt's hostname) is the
peer's, its addresses and host UUID are unknown. That is the golden-image model (every host built
from the same files), and what keeps a finding from contradicting itself: the host is never asked
to reach its own name, and nothing claims to know the peer's addresses.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from preflight.model import probes as P
from preflight.model.facts import Availability, HostSnapshot, Probe
from preflight.model.findings import Scope
from preflight.model.plan import MigrationPlan
from preflight.view import HostView

# The peer of the "destination" and "source" roles: rules declared for them must not depend on
# the peer's name (tests/rule_checks/test_lint_rules.py holds them to it). RFC 2606: never resolves.
ANY_PEER = "peer.invalid"
PEER_ADDRESSES = "the peer's addresses are not known to lint (only its name is declared)"
TRANSPORTS = ("ssh", "tls", "tcp")
DEFAULT_CONCURRENCY = 10  # the RHEL guide: "default max_clients 20 allows 10 migrations"


@dataclass(frozen=True)
class LintSettings:
    """What one host is judged against, and where each value came from (said in every report)."""

    concurrency: int
    concurrency_from: str  # "--concurrency" | "preflight.toml" | "preflight.toml [[paths]] ..." | "default ..."
    peers: tuple[str, ...] = ()
    peers_from: str = "none named"
    transport: str = "ssh"
    tls: bool = False  # --tls: QEMU's own TLS for the migration stream


@dataclass(frozen=True)
class LintContext:
    """One pseudo-migration: ``role`` is this host's ("destination", "source" or "peers": the source
    of a migration to ``peer``)."""

    role: str
    plan: MigrationPlan
    source: HostSnapshot
    dest: HostSnapshot
    peer: str | None = None

    @property
    def scope(self) -> Scope:
        """Where this host's findings are: the other side is the modelled peer."""
        return Scope.DESTINATION if self.role == "destination" else Scope.SOURCE


def as_role(snap: HostSnapshot, role: str) -> HostSnapshot:
    """The same facts under another role (a shallow copy: views only read)."""
    return replace(snap, role=role, probes=dict(snap.probes))


def peer_of(snap: HostSnapshot, name: str, role: str) -> HostSnapshot:
    """The peer: this host's facts under ``name``; its addresses and host UUID unknown."""
    peer = as_role(snap, role)
    for key in (P.HOSTNAME, P.HOSTNAME_F, P.file_key(P.ETC_HOSTNAME)):
        peer.add(Probe(key, f"the peer's name ({name})", Availability.OK, text=name + "\n"))
    peer.add(Probe(P.ADDRESSES, "the peer's addresses", Availability.ERROR, error=PEER_ADDRESSES))
    if peer.libvirt is not None:
        peer.libvirt = replace(peer.libvirt, hostname=name if peer.libvirt.hostname else None, host_uuid=None)
    return peer


def own_names(snap: HostSnapshot) -> set[str]:
    """This host's own names, lower-cased (libvirt's hostname, `hostname`, `hostname -f`, /etc/hostname),
    with the first label of each: a peer by any of them is this host itself."""
    view = HostView(snap)
    found = [view.hostname.value] + [view.text(k).value for k in (P.HOSTNAME, P.HOSTNAME_F)]
    found.append(view.file(P.ETC_HOSTNAME).value)
    names = {n.strip().splitlines()[0].strip().lower() for n in found if n and n.strip()}
    return names | {n.split(".", 1)[0] for n in names if not _is_ip(n)}


def _is_ip(text: str) -> bool:
    from preflight.view.names import is_ip

    return is_ip(text)


def _uri(transport: str, host: str | None) -> str:
    from preflight.access.spec import HostSpecError, check_host

    try:
        authority = check_host(host) if host else ""
    except HostSpecError:  # a hostile /etc/hostname never goes into a URI
        authority = ""
    if ":" in authority:
        authority = f"[{authority}]"
    return f"qemu+{transport}://{authority}/system"


def _plan(settings: LintSettings, dest_name: str | None) -> MigrationPlan:
    return MigrationPlan(guests=[], dest_uri=_uri(settings.transport, dest_name), live=True,
                         concurrency=settings.concurrency, tls=settings.tls)


def contexts(snap: HostSnapshot, settings: LintSettings, peers: list[str]) -> list[LintContext]:
    """The pseudo-migrations of one host: the destination of N migrations (DESTURI names the host
    itself), the source of N to an anonymous peer, and the source toward each named peer (``peers``:
    already without this host's own names)."""
    own = HostView(snap).hostname
    out = [
        LintContext("destination", _plan(settings, own.value if own.ok else None),
                    peer_of(snap, ANY_PEER, "source"), as_role(snap, "destination")),
        LintContext("source", _plan(settings, ANY_PEER), as_role(snap, "source"),
                    peer_of(snap, ANY_PEER, "destination")),
    ]
    for name in peers:
        out.append(LintContext("peers", _plan(settings, name), as_role(snap, "source"),
                               peer_of(snap, name, "destination"), peer=name))
    return out
