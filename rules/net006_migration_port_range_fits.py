"""NET006 migration-port-range-fits — the destination's migration port range holds N migrations, firewall included.

What it checks
    Unless the plan is ``--p2p --tunnelled``: the destination's qemu.conf
    range ``migration_port_min``..``migration_port_max`` (default
    49152-49215) has a port for each of the N concurrent incoming
    migrations, two each with ``--copy-storage-all`` (libvirt takes the NBD
    server's port for the disks from the same range), and the destination's
    INPUT chain accepts every port of the range that will be used (the first
    N, or 2N), not just the first one (NET005). libvirt refuses a range whose
    min is not below its max (the QEMU driver does not start): a failure too.

Why it breaks a migration
    libvirt allocates one port per incoming migration from the range; when
    it is exhausted the next migration fails at once (``Unable to find an
    unused port in range 'migration' (49152-49153)``, measured: 2 ports, 3
    guests; with ``--copy-storage-all`` 2 guests already exhaust it). A
    firewall that accepts only 49152 lets the first migration through and
    refuses the second one's stream.

How to fix it
    Widen the range in the destination's /etc/libvirt/qemu.conf
    (``migration_port_max``) and restart the daemon, or migrate fewer guests
    at once; accept the whole range in the firewall (``firewall-cmd
    --permanent --add-port=49152-49215/tcp``).
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.known import Known
from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed, skipped
from preflight.view.firewall import firewalld_state, iptables_filter, native_nft_input, tcp_from
from preflight.view.tls import migration_port_range

ID = "NET006"
NAME = "migration-port-range-fits"
SEVERITY = Severity.ERROR
SEVERITIES = (Severity.ERROR, Severity.WARNING)  # what its findings can carry
NEEDS = ("qemu_conf", "firewall", "addresses")
LINT = ("destination",)  # roles judged alone by `preflight lint`
SEED = ("qemu.conf migration_port_min/max: one port per incoming migration, plus one for NBD with storage copy "
        "(beyond the RHEL guide).")

DST = Scope.DESTINATION


def check(ctx: Context) -> Iterator[Outcome]:
    if ctx.plan.p2p and ctx.plan.tunnelled:
        yield skipped(DST, "--p2p --tunnelled carries the data over the libvirt connection")
        return
    rng = migration_port_range(ctx.dest)
    if not rng.ok:
        yield not_seen(DST, "qemu.conf migration port range", rng)
        return
    low, high = rng.get()
    if low >= high:  # virPortAllocatorRangeNew refuses it: the QEMU driver does not start (measured)
        yield failed(DST, f"qemu.conf's migration port range {low}-{high} is refused by libvirt ('start port {low} "
                     f"must be less than end port {high}'): the QEMU driver does not start",
                     f"In the destination's qemu.conf set migration_port_max above migration_port_min (at least "
                     f"{low + max(2, ctx.plan.n_concurrent * (2 if ctx.plan.copies_storage else 1)) - 1} "
                     f"here) and restart the daemon", file=rng.source, evidence={"range": f"{low}-{high}"})
        return
    n = ctx.plan.n_concurrent
    per = 2 if ctx.plan.copies_storage else 1
    need, size = n * per, max(0, high - low + 1)
    ev = {"range": f"{low}-{high}", "size": size, "concurrent": n, "ports_per_migration": per, "needed": need}
    if need > size:
        yield failed(DST, f"the migration port range {low}-{high} holds {size} port(s); {n} concurrent migration(s) "
                     f"need {need}{' (one more each for NBD storage copy)' if per == 2 else ''}: the others fail "
                     "with 'Unable to find an unused port'",
                     f"In the destination's qemu.conf set migration_port_max = {low + need - 1} (or more) and "
                     f"restart the daemon, or migrate at most {max(1, size // per)} guest(s) at once",
                     file=rng.source, evidence=ev)
    else:
        yield passed(DST, f"the migration port range {low}-{high} holds the {need} port(s) {n} migration(s) use",
                     evidence=ev)
    if need > 1:
        yield from _firewall(ctx, low, min(need, size), ev)


def _firewall(ctx: Context, low: int, count: int, ev: dict[str, object]) -> Iterator[Outcome]:
    ports = range(low, low + count)
    if firewalld_state(ctx.dest).value in ("running", "socket") or native_nft_input(ctx.dest):
        yield skipped(DST, f"firewall for TCP {low}-{ports[-1]}: not evaluable by this reader (NET005 warns)")
        return
    saved = iptables_filter(ctx.dest)
    if not saved.ok:
        yield not_seen(DST, f"firewall for TCP {low}-{ports[-1]}", saved)
        return
    src = ctx.source.addresses.value or []
    for port in ports:
        verdict = tcp_from(saved.get(), port, src)
        if verdict.verdict in ("drop", "reject"):
            yield failed(DST, f"the destination's firewall {verdict.verdict}s TCP {port} from the source "
                         f"({verdict.rule}): migration {port - low + 1} of {count} ports in use cannot connect",
                         f"On the destination, accept TCP {low}-{ports[-1]} from the source (iptables -I INPUT -p "
                         f"tcp --dport {low}:{ports[-1]} -j ACCEPT, or firewall-cmd --permanent "
                         f"--add-port={low}-{ports[-1]}/tcp)", evidence={**ev, "port": port, "rule": verdict.rule})
            return
        if verdict.verdict != "accept":
            yield not_seen(DST, f"firewall for TCP {port}", Known(None, f"{verdict.reason}: {verdict.rule}"),
                           severity=Severity.WARNING)
            return
    yield passed(DST, f"TCP {low}-{ports[-1]} from the source is accepted", evidence=ev)
