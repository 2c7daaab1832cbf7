"""LIM001 client-slots — each daemon has a client slot for every concurrent migration.

What it checks
    On both hosts, ``max_clients`` of the libvirt daemon (live value from
    ``virt-admin srv-clients-info`` when available, else the config file,
    else the compiled default of the installed release — the finding says
    which) against N concurrent migrations plus the clients already
    connected. The RHEL guide: each migration uses one client slot on the source
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

Which daemon, which file
    Each daemon the migration's connections reach is judged on its own
    config file, and the finding names the daemon, the file and why. A
    monolithic host: libvirtd (libvirtd.conf). A modular host: virtqemud
    (virtqemud.conf), which every QEMU connection ends in — the source's
    local client connects to its socket, and on the destination
    virt-ssh-helper connects to it directly; on the destination also
    virtproxyd (virtproxyd.conf) when the connection lands there:
    qemu+tcp/qemu+tls always (virtproxyd owns the TCP listeners and opens
    one connection to virtqemud per client, so both count a slot), and
    qemu+ssh when virtproxyd is up (a client without virt-ssh-helper is
    relayed by nc to the legacy libvirt-sock that virtproxyd serves). When
    the layout cannot be told (image mode with libvirtd.conf and
    virtqemud.conf both present, or no daemon running), every candidate is
    judged and the stricter result counts. A modular daemon's compiled
    default is the current one (modular daemons exist since libvirt 5.6).
    An unreadable config file is UNKNOWN (with the file and the reason); an
    absent one means the compiled defaults.

Live vs file
    The verdict uses the live value (what a migration meets now). When it
    differs from what the daemon reads at its next start (the file, else
    the release default), the finding says so: a file already big enough
    needs only a restart (or the same value live); a live value raised with
    virt-admin over a small file passes now but is a warning, because a
    restart brings the file's value back.

How to fix it
    Raise ``max_clients`` (and ``max_workers`` with it) in that daemon's
    config and restart it, or apply it live:
    ``virt-admin srv-clients-set libvirtd --max-clients N`` (modular:
    ``virt-admin -c virtqemud:///system srv-clients-set virtqemud ...``).
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.model.findings import Scope, Severity
from preflight.rulekit import Applicability, Context, Outcome, failed, not_seen, passed
from preflight.rules._daemons import admin, facts, judged, said
from preflight.sizing import client_slots_needed, seed_slots_needed
from preflight.view import HostView, JudgedDaemon, Setting
from preflight.view.daemons import advised_limit, client_count, live_vs_file

ID = "LIM001"
NAME = "client-slots"
SEVERITY = Severity.ERROR
SEVERITIES = (Severity.ERROR, Severity.WARNING)  # what its findings can carry
NEEDS = ("settings", "libvirt_version")  # view facts read (preflight.view.needs)
LINT = ("destination", "source")  # roles judged alone by `preflight lint`
FIXABLE = Applicability.UNSAFE  # `preflight fix` writes an edit to review
SEED = "Each migration uses one max_clients slot on both sides; default max_clients 20 allows 10 migrations."


def check(ctx: Context) -> Iterator[Outcome]:
    n = ctx.plan.n_concurrent
    for scope in (Scope.SOURCE, Scope.DESTINATION):
        host = ctx.host(scope)
        for d in judged(ctx, scope):
            yield _judge(host, scope, d, n)


def _judge(host: HostView, scope: Scope, d: JudgedDaemon, n: int) -> Outcome:
    fact = host.setting("max_clients", d)
    if not fact.ok:
        return not_seen(scope, f"{d.name} max_clients", fact, subject=d.name, evidence=facts(d))
    mc = fact.get()
    count = client_count(host, d)  # never count ourselves
    current = count.others
    need, seed_need = client_slots_needed(n, current), seed_slots_needed(n)
    rec = advised_limit(host, d, n)  # the T the limits fix writes (>= recommended_max_clients)
    defaults = host.defaults_for(d.name)
    behaviour = defaults.over_limit
    drift = live_vs_file(host, d, "max_clients")  # the daemon runs with other limits than its file says
    live_fix = f"{admin(d)} srv-clients-set {d.name} --max-clients"
    fix = (f"Set max_clients = {rec} (and max_workers = {rec}) in {d.path} and restart "
           f"{d.name}, or live: {live_fix} {rec}")
    if drift is not None and drift.after_restart.value >= rec:  # the file already holds enough
        fix = (f"{drift.after_restart.describe()} already: restart {d.name} to apply it, or live: "
               f"{live_fix} {drift.after_restart.value}")
    ev = {"max_clients": mc.value, "origin": mc.origin, "concurrent": n, "connected_now": current,
          "virt_admin_nclients": count.reported, "own_connections_not_counted": count.own,
          "needed": need, "needed_by_seed": seed_need, "release_behaviour": behaviour,
          "defaults": defaults.label, **(drift.evidence() if drift else {}), **facts(d)}
    where = {"file": mc.file or d.path, "line": mc.line, "evidence": ev, "subject": d.name}
    clients = f"{current} connected{count.note()}"
    now = _verdict(mc, n, current, clients, behaviour)
    note = drift.note() if drift else ""
    if now is not None:
        severity, why = now
        return failed(scope, why + note + said(d), fix, severity=severity, **where)
    if drift is not None:
        later = _verdict(drift.after_restart, n, current, clients, behaviour)
        if later is not None:  # fine now, but a restart brings the file's value back
            where.update(file=drift.after_restart.file or d.path, line=drift.after_restart.line)
            return failed(scope, f"{mc.describe()} is enough now, but {drift.after_restart.describe()} takes "
                          f"effect when {d.name} restarts, and then: {later[1]}" + said(d),
                          f"Set max_clients = {rec} (and max_workers = {rec}) in {d.path} so the live value "
                          "survives a restart", severity=Severity.WARNING, **where)
    counted = f"{need} needed ({n} migrations + {clients})"
    return passed(scope, f"{mc.describe()} >= {counted} (the RHEL guide's count: {seed_need})" + note + said(d),
                  **where)


def _verdict(mc: Setting, n: int, current: int, clients: str, behaviour: str) -> tuple[Severity, str] | None:
    """(severity, why) when ``mc`` is too small for N migrations beside ``current`` clients, else None."""
    need, seed_need = client_slots_needed(n, current), seed_slots_needed(n)
    counted = f"{need} needed ({n} migrations + {clients})"
    if current and current >= mc.value:
        return Severity.ERROR, (f"{mc.describe()}: all slots are held by {clients} clients; a new migration "
                                "connection hangs until one leaves")
    if need > mc.value and behaviour != "queue":
        why = "this release drops connections over the limit" if behaviour == "drop" else \
            "over the limit older releases drop connections and newer ones queue them"
        return Severity.ERROR, f"{mc.describe()} < {counted}: {why}"
    if need > mc.value:
        return Severity.WARNING, (f"{mc.describe()} < {counted}: only {mc.value - current} run at once, the rest "
                                  "queue (slower maintenance window)")
    if seed_need > mc.value:
        return Severity.WARNING, (f"{mc.describe()}: by the RHEL guide's count (2 slots per migration) only "
                                  f"{mc.value // 2} of {n} fit; measured libvirt uses one slot per side, so this "
                                  "bites when this host also sends or receives migrations in the same window")
    return None
