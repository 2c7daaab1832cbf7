"""NET005 migration-ports-open — the destination's firewall lets the migration data in.

What it checks
    Unless the plan is ``--p2p --tunnelled`` (data over the libvirt
    connection), the destination's INPUT chain (``iptables-save``) accepts a
    NEW TCP connection from the source to the first port of libvirt's
    migration range (``migration_port_min`` in qemu.conf, default 49152).
    Chains are followed rule by rule; firewalld or native nftables rules
    that this reader cannot evaluate give an *unknown* at warning level.

Why it breaks a migration
    The destination's QEMU listens on that port for the memory stream; a
    REJECT or DROP makes the migration fail (``Connection refused`` or a
    time-out) after the guest was already prepared on both sides
    (measured). RHEL's firewalld does not open the range by default.

How to fix it
    Open the range to the source on the destination
    (``firewall-cmd --permanent --add-port=49152-49215/tcp && firewall-cmd
    --reload``, or an iptables ACCEPT before the REJECT), or migrate with
    ``--p2p --tunnelled``.
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.known import Known
from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed, skipped
from preflight.view.firewall import firewalld_state, iptables_filter, migration_port, native_nft_input, tcp_from

ID = "NET005"
NAME = "migration-ports-open"
SEVERITY = Severity.ERROR
SEVERITIES = (Severity.ERROR, Severity.WARNING)  # what its findings can carry
NEEDS = ("firewall", "addresses")  # view facts read (preflight.view.needs)
LINT = ("destination",)  # roles judged alone by `preflight lint`
SEED = "libvirt supports TLS, UNIX sockets, SSH and unencrypted TCP (beyond the RHEL guide: the data port range)."

DST = Scope.DESTINATION


def _unsure(what: str, reason: str, port: int) -> Outcome:
    # A firewall this reader cannot evaluate must not hide the rest of the verdict: warn, loudly.
    return not_seen(DST, what, Known(None, f"{reason}; check that TCP {port}+ from the source is accepted, or "
                                           "use --p2p --tunnelled"), severity=Severity.WARNING)


def check(ctx: Context) -> Iterator[Outcome]:
    if ctx.plan.p2p and ctx.plan.tunnelled:
        yield skipped(DST, "--p2p --tunnelled carries the data over the libvirt connection")
        return
    port = migration_port(ctx.dest)
    firewalld = firewalld_state(ctx.dest)
    if firewalld.value in ("running", "socket"):
        yield _unsure(f"firewall for TCP {port}", "firewalld is active (its zones decide)", port)
        return
    if native_nft_input(ctx.dest):
        yield _unsure(f"firewall for TCP {port}", "native nftables input rules", port)
        return
    saved = iptables_filter(ctx.dest)
    if not saved.ok:
        if saved.not_applicable:
            yield not_seen(DST, f"firewall for TCP {port}", saved)
        else:
            yield _unsure(f"firewall for TCP {port}", saved.reason, port)
        return
    src_addrs = ctx.source.addresses.value or []
    verdict = tcp_from(saved.get(), port, src_addrs)
    fix = (f"On the destination, accept TCP {port}-{port + 63} from the source before that rule (e.g. "
           f"iptables -I INPUT -p tcp --dport {port}:{port + 63} -j ACCEPT, or firewall-cmd --permanent "
           f"--add-port={port}-{port + 63}/tcp), or migrate with --p2p --tunnelled")
    ev = {"port": port, "rule": verdict.rule, "source_addresses": src_addrs}
    if verdict.verdict in ("drop", "reject"):
        yield failed(DST, f"the destination's firewall {verdict.verdict}s TCP {port} from the source "
                     f"({verdict.rule}): the memory stream cannot connect", fix, evidence=ev)
    elif verdict.verdict == "accept":
        yield passed(DST, f"TCP {port} from the source is accepted ({verdict.rule or 'policy ACCEPT'})",
                     evidence=ev)
    else:
        yield _unsure(f"firewall for TCP {port}", f"{verdict.reason}: {verdict.rule}", port)
