"""LIM001 client-slots — each daemon has a client slot for every concurrent migration.

What it checks
    On both hosts, ``max_clients`` of the libvirt daemon (live value from
    ``virt-admin srv-clients-info`` when available, else the config file,
    else the compiled default of the installed release — the finding says
    which) against N concurrent migrations plus the clients already
    connected. The seed: each migration uses one client slot on the source
    and one on the destination ("2 clients per migration"); its "default 20
    allows 10 migrations" counts both ends against one daemon, which is what
    a host needs when it sends and receives in the same window.

Why it breaks a migration
    What happens over the limit depends on the release. libvirt before 1.2
    accepted and dropped the connection (``Too many active clients``): the
    migration fails. Current libvirt stops accepting and the connection
    waits: migrations queue and serialise (measured on libvirt 9: they
    succeed, the maintenance window gets longer) — but when long-lived
    clients already hold every slot, a new connection hangs forever.

How to fix it
    Raise ``max_clients`` (and ``max_workers`` with it) in the daemon config
    and restart the daemon, or apply it live:
    ``virt-admin srv-clients-set libvirtd --max-clients N``.
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed
from preflight.sizing import client_slots_needed, recommended_max_clients, seed_slots_needed

ID = "LIM001"
NAME = "client-slots"
SEVERITY = Severity.ERROR
SEED = "Each migration uses one max_clients slot on both sides; default max_clients 20 allows 10 migrations."


def check(ctx: Context) -> Iterator[Outcome]:
    n = ctx.plan.n_concurrent
    for scope in (Scope.SOURCE, Scope.DESTINATION):
        host = ctx.host(scope)
        fact = host.setting("max_clients")
        if not fact.ok:
            yield not_seen(scope, "max_clients", fact)
            continue
        mc = fact.get()
        current = (host.virt_admin.value or {}).get("nclients", 0)
        need, seed_need = client_slots_needed(n, current), seed_slots_needed(n)
        rec = recommended_max_clients(n, current)
        daemon, behaviour = host.daemon_name, host.defaults.over_limit
        fix = (f"Set max_clients = {rec} (and max_workers = {rec}) in {host.daemon_conf_path} and restart "
               f"{daemon}, or live: virt-admin srv-clients-set {daemon} --max-clients {rec}")
        ev = {"max_clients": mc.value, "origin": mc.origin, "concurrent": n, "connected_now": current,
              "needed": need, "needed_by_seed": seed_need, "release_behaviour": behaviour,
              "defaults": host.defaults.label}
        where = {"file": mc.file or host.daemon_conf_path, "line": mc.line, "evidence": ev}
        counted = f"{need} needed ({n} migrations + {current} connected)"
        if current and current >= mc.value:
            yield failed(scope, f"{mc.describe()}: all slots are held by {current} connected clients; a new "
                         "migration connection hangs until one leaves", fix, **where)
        elif need > mc.value and behaviour != "queue":
            why = "this release drops connections over the limit" if behaviour == "drop" else \
                "over the limit older releases drop connections and newer ones queue them"
            yield failed(scope, f"{mc.describe()} < {counted}: {why}", fix, **where)
        elif need > mc.value:
            yield failed(scope, f"{mc.describe()} < {counted}: only {mc.value - current} run at once, the rest "
                         "queue (slower maintenance window)", fix, severity=Severity.WARNING, **where)
        elif seed_need > mc.value:
            yield failed(scope, f"{mc.describe()}: by the seed's count (2 slots per migration) only "
                         f"{mc.value // 2} of {n} fit; measured libvirt uses one slot per side, so this bites "
                         "when this host also sends or receives migrations in the same window", fix,
                         severity=Severity.WARNING, **where)
        else:
            yield passed(scope, f"{mc.describe()} >= {counted} (seed's count: {seed_need})", **where)
