"""DMN002 daemon-config-valid — the libvirt daemon's config is one it will start with.

What it checks
    The config of each daemon the migration meets (libvirtd.conf on a
    monolithic host; virtqemud.conf on a modular one, plus virtproxyd.conf
    on the destination when connections land there, and every candidate
    when the layout cannot be told — see LIM001; the finding names the
    daemon, the file and why) and qemu.conf parse as libvirt parses them, and the limits are
    consistent: ``max_anonymous_clients <= max_clients``, ``max_workers >=
    1``, ``min_workers <= max_workers``, numbers where numbers belong.

Why it breaks a migration
    libvirt refuses the whole file on a syntax error and refuses to start
    with inconsistent limits: the next daemon restart (the one you do after
    raising the limits) leaves the host without libvirt.

    An unreadable file (a directory, a FIFO, too large, a symlink loop) is
    UNKNOWN with the file and the reason; an absent file is libvirt's
    compiled defaults, which are valid.

How to fix it
    Correct the line the finding names; ``preflight fix`` writes a valid
    file.
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.model.findings import Scope, Severity
from preflight.rulekit import Applicability, Context, Outcome, failed, not_seen, passed
from preflight.rules._daemons import facts, judged, said
from preflight.view import HostView, JudgedDaemon, LibvirtConf
from preflight.view.daemons import QEMU_CONF

ID = "DMN002"
NAME = "daemon-config-valid"
SEVERITY = Severity.ERROR
SEVERITIES = (Severity.ERROR, Severity.WARNING)  # what its findings can carry
NEEDS = ("judged_daemons", "qemu_conf", "libvirt_version")  # view facts read (preflight.view.needs)
LINT = ("destination", "source")  # roles judged alone by `preflight lint`
FIXABLE = Applicability.UNSAFE  # `preflight fix` writes an edit to review
SEED = "Edit libvirtd.conf's Processing controls, save it and restart the service."


def _limits(host: HostView, scope: Scope, d: JudgedDaemon) -> Iterator[Outcome]:
    conf = host.conf_file(d.path).get()
    defaults = host.defaults_for(d.name)
    kw = {"file": conf.path, "evidence": facts(d)}
    vals = {k: e for k in ("max_clients", "max_anonymous_clients", "max_workers", "min_workers")
            if (e := conf.get(k)) is not None}
    for key, entry in vals.items():
        if not isinstance(entry.value, int) or isinstance(entry.value, bool):
            yield failed(scope, f"{key} = {entry.value!r} is not a number" + said(d), f"Set {key} to a number",
                         line=entry.line, subject=key, **kw)
            return

    def eff(key: str) -> int | None:
        e = vals.get(key)
        return e.value if e is not None and isinstance(e.value, int) else defaults.get(key)

    mc, mac, mw, minw = eff("max_clients"), eff("max_anonymous_clients"), eff("max_workers"), eff("min_workers")
    if mc is not None and mac is not None and mac > mc:
        e = vals.get("max_anonymous_clients") or vals.get("max_clients")
        yield failed(scope, f"max_anonymous_clients ({mac}) is greater than max_clients ({mc}): {d.name} "
                     "refuses to start" + said(d), f"Set max_anonymous_clients <= max_clients (e.g. {mc})",
                     line=e.line if e else None, subject="max_anonymous_clients", **kw)
    elif mw is not None and mw < 1:
        e = vals.get("max_workers")
        yield failed(scope, f"max_workers = {mw}: {d.name} needs at least one worker" + said(d),
                     "Set max_workers to at least 1 (the RHEL guide recommends max_workers == max_clients)",
                     line=e.line if e else None, subject="max_workers", **kw)
    elif mw is not None and minw is not None and minw > mw:
        e = vals.get("min_workers")
        yield failed(scope, f"min_workers ({minw}) is greater than max_workers ({mw})" + said(d),
                     f"Set min_workers <= max_workers ({mw})", line=e.line if e else None,
                     subject="min_workers", severity=Severity.WARNING, **kw)
    else:
        yield passed(scope, f"{conf.path} limits are consistent" + said(d), subject=d.name, **kw)


def _refused(scope: Scope, d: JudgedDaemon, conf: LibvirtConf) -> Outcome | None:
    """A setting the daemon's typed read rejects (virConfGetValueUInt ...): it does not start."""
    if not conf.invalid:
        return None
    err = conf.invalid[0]
    limit = err.key in ("max_clients", "max_anonymous_clients", "max_workers", "min_workers")
    return failed(scope, f"{err.file}:{err.line or '?'}: {err.message}" + said(d),
                  f"Set {err.key} to a value {d.name} accepts (see the message)", file=err.file, line=err.line,
                  subject=err.key if limit else d.path, evidence=facts(d))


def _syntax(scope: Scope, what: str, conf: LibvirtConf) -> Outcome | None:
    if not conf.errors:
        return None
    err = conf.errors[0]
    return failed(scope, f"{err.file}:{err.line or '?'}: {err.message} — libvirt refuses the whole file",
                  "Correct the syntax at that line (key = number | \"string\" | [ \"list\" ])",
                  file=err.file, line=err.line, subject=what)


def check(ctx: Context) -> Iterator[Outcome]:
    for scope in (Scope.SOURCE, Scope.DESTINATION):
        host = ctx.host(scope)
        for d in judged(ctx, scope):
            fact = host.conf_file(d.path)
            if not fact.ok:
                yield not_seen(scope, d.path, fact, subject=d.path, evidence=facts(d))
                continue
            bad = _syntax(scope, d.path, fact.get())
            if bad is not None:
                bad.message += said(d)
                bad.evidence = facts(d)
                yield bad
            elif (refused := _refused(scope, d, fact.get())) is not None:
                yield refused
            else:
                yield from _limits(host, scope, d)
        qemu = host.qemu_conf
        if not qemu.ok:
            yield not_seen(scope, QEMU_CONF, qemu, subject=QEMU_CONF)
        elif (bad := _syntax(scope, QEMU_CONF, qemu.get())) is not None:
            yield bad
