"""TLS001 transport-listening — the destination listens for qemu+tls / qemu+tcp, and its firewall lets it in.

What it checks
    For a DESTURI of ``qemu+tls://`` (port 16514, ``tls_port``) or
    ``qemu+tcp://`` (16509, ``tcp_port``): something listens on that TCP port
    on the destination (``ss -Hltn``), and its INPUT chain (``iptables-save``)
    accepts a NEW connection from the source to it. The port is read from the
    file of the daemon owning the listener: libvirtd.conf (monolithic) or
    virtproxyd.conf (modular hosts).

Why it breaks a migration
    ``virsh migrate`` first opens the libvirt connection to DESTURI: with no
    listener it fails at once (``unable to connect to server at 'host2:16514':
    Connection refused``); a firewall DROP makes it time out.

How to fix it
    Monolithic: ``listen_tls = 1`` (or ``listen_tcp = 1``) in libvirtd.conf and
    ``systemctl enable --now libvirtd-tls.socket`` (``libvirtd-tcp.socket``),
    or libvirtd started with ``--listen``. Modular: ``systemctl enable --now
    virtproxyd-tls.socket`` (``virtproxyd-tcp.socket``). Then accept the port
    in the firewall (``firewall-cmd --permanent --add-service=libvirt-tls``).
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.known import Known
from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed, skipped
from preflight.view.firewall import firewalld_state, iptables_filter, native_nft_input, tcp_from
from preflight.view.tls import listener_daemons, listening, transport_port

ID = "TLS001"
NAME = "transport-listening"
SEVERITY = Severity.ERROR
SEVERITIES = (Severity.ERROR, Severity.WARNING)  # what its findings can carry
NEEDS = ("judged_daemons", "listening", "firewall", "addresses")
LINT = ("destination",)  # roles judged alone by `preflight lint`
SEED = "libvirt supports TLS, UNIX sockets, SSH and unencrypted TCP (beyond the RHEL guide: the listener and its port)."

DST = Scope.DESTINATION


def _how_to_listen(ctx: Context, transport: str) -> str:
    names = [d.name for d in listener_daemons(ctx.dest, transport)] or ["libvirtd"]
    units = " or ".join(f"systemctl enable --now {n}-{transport}.socket" for n in names)
    return (f"On the destination: {units} (libvirtd without socket units: listen_{transport} = 1 in "
            f"libvirtd.conf and start it with --listen)")


def check(ctx: Context) -> Iterator[Outcome]:
    transport = ctx.plan.dest_transport
    if transport not in ("tls", "tcp"):
        yield skipped(DST, f"transport '{transport}' does not use libvirt's TCP/TLS listener")
        return
    port = transport_port(ctx.dest, transport)
    ev = {"port": port, "transport": transport,
          "daemons": [d.describe() for d in listener_daemons(ctx.dest, transport)]}
    ports = listening(ctx.dest)
    if not ports.ok:
        yield not_seen(DST, f"listener on TCP {port}", Known(None, f"{ports.reason}; {_how_to_listen(ctx, transport)}",
                                                             ports.not_applicable))
    elif port in ports.get():
        yield passed(DST, f"the destination listens on TCP {port} (qemu+{transport})", evidence=ev)
    else:
        yield failed(DST, f"nothing listens on TCP {port} on the destination: qemu+{transport} is refused",
                     _how_to_listen(ctx, transport), evidence=ev)
    yield from _firewall(ctx, port, transport)


def _firewall(ctx: Context, port: int, transport: str) -> Iterator[Outcome]:
    what = f"firewall for TCP {port}"
    if firewalld_state(ctx.dest).value in ("running", "socket"):
        yield not_seen(DST, what, Known(None, f"firewalld is active (its zones decide); check that TCP {port} "
                                              f"from the source is accepted"), severity=Severity.WARNING)
        return
    if native_nft_input(ctx.dest):
        yield not_seen(DST, what, Known(None, "native nftables input rules"), severity=Severity.WARNING)
        return
    saved = iptables_filter(ctx.dest)
    if not saved.ok:
        yield not_seen(DST, what, saved)
        return
    src = ctx.source.addresses.value or []
    verdict = tcp_from(saved.get(), port, src)
    ev = {"port": port, "rule": verdict.rule, "source_addresses": src}
    if verdict.verdict in ("drop", "reject"):
        yield failed(DST, f"the destination's firewall {verdict.verdict}s TCP {port} (qemu+{transport}) from the "
                     f"source ({verdict.rule})",
                     f"On the destination, accept TCP {port} from the source (iptables -I INPUT -p tcp --dport "
                     f"{port} -j ACCEPT, or firewall-cmd --permanent --add-service=libvirt-{transport})",
                     evidence=ev)
    elif verdict.verdict == "accept":
        yield passed(DST, f"TCP {port} from the source is accepted ({verdict.rule or 'policy ACCEPT'})", evidence=ev)
    else:
        yield not_seen(DST, what, Known(None, f"{verdict.reason}: {verdict.rule}"), severity=Severity.WARNING)
