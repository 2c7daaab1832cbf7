"""DMN002 daemon-config-valid — the libvirt daemon's config is one it will start with.

What it checks
    The daemon config (libvirtd.conf, or virtqemud.conf on modular hosts)
    and qemu.conf parse as libvirt parses them, and the limits are
    consistent: ``max_anonymous_clients <= max_clients``, ``max_workers >=
    1``, ``min_workers <= max_workers``, numbers where numbers belong.

Why it breaks a migration
    libvirt refuses the whole file on a syntax error and refuses to start
    with inconsistent limits: the next daemon restart (the one you do after
    raising the limits) leaves the host without libvirt.

How to fix it
    Correct the line the finding names; ``preflight fix`` writes a valid
    file.
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed
from preflight.view import HostView

ID = "DMN002"
NAME = "daemon-config-valid"
SEVERITY = Severity.ERROR
SEED = "Edit libvirtd.conf's Processing controls, save it and restart the service."


def _limits(host: HostView, scope: Scope) -> Iterator[Outcome]:
    conf = host.daemon_conf.get()
    vals = {k: e for k in ("max_clients", "max_anonymous_clients", "max_workers", "min_workers")
            if (e := conf.get(k)) is not None}
    for key, entry in vals.items():
        if not isinstance(entry.value, int):
            yield failed(scope, f"{key} = {entry.value!r} is not a number", f"Set {key} to a number",
                         file=conf.path, line=entry.line, subject=key)
            return

    def eff(key: str) -> int | None:
        e = vals.get(key)
        return e.value if e is not None and isinstance(e.value, int) else host.defaults.get(key)

    mc, mac, mw, minw = eff("max_clients"), eff("max_anonymous_clients"), eff("max_workers"), eff("min_workers")
    if mc is not None and mac is not None and mac > mc:
        e = vals.get("max_anonymous_clients") or vals.get("max_clients")
        yield failed(scope, f"max_anonymous_clients ({mac}) is greater than max_clients ({mc}): the daemon "
                     "refuses to start", f"Set max_anonymous_clients <= max_clients (e.g. {mc})",
                     file=conf.path, line=e.line if e else None, subject="max_anonymous_clients")
    elif mw is not None and mw < 1:
        e = vals.get("max_workers")
        yield failed(scope, f"max_workers = {mw}: the daemon needs at least one worker",
                     "Set max_workers to at least 1 (the seed recommends max_workers == max_clients)",
                     file=conf.path, line=e.line if e else None, subject="max_workers")
    elif mw is not None and minw is not None and minw > mw:
        e = vals.get("min_workers")
        yield failed(scope, f"min_workers ({minw}) is greater than max_workers ({mw})",
                     f"Set min_workers <= max_workers ({mw})", file=conf.path,
                     line=e.line if e else None, subject="min_workers", severity=Severity.WARNING)
    else:
        yield passed(scope, f"{conf.path} limits are consistent", file=conf.path)


def check(ctx: Context) -> Iterator[Outcome]:
    for scope in (Scope.SOURCE, Scope.DESTINATION):
        host = ctx.host(scope)
        for fact, what in ((host.daemon_conf, host.daemon_conf_path), (host.qemu_conf, "/etc/libvirt/qemu.conf")):
            if not fact.ok:
                yield not_seen(scope, what, fact)
                continue
            conf = fact.get()
            if conf.errors:
                err = conf.errors[0]
                yield failed(scope, f"{err.file}:{err.line or '?'}: {err.message} — libvirt refuses the whole file",
                             "Correct the syntax at that line (key = number | \"string\" | [ \"list\" ])",
                             file=err.file, line=err.line, subject=what)
            elif fact is host.daemon_conf:
                yield from _limits(host, scope)
