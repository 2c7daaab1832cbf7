"""NET001 dest-name-resolves — the source resolves the destination's names to the destination.

What it checks
    From the source host, two names must lead to the destination: the host
    of DESTURI (ssh/libvirt connect to it) and the name libvirt on the
    destination puts into the migration URI — its own hostname, or
    ``migration_host`` from the destination's qemu.conf. Each must resolve
    to an address that is not loopback, not one of the source's own
    addresses and (when the destination's addresses are known) one of the
    destination's. The finding says whether /etc/hosts or DNS answered.

Why it breaks a migration
    The destination tells the source "connect to tcp://<my hostname>:49152".
    If the source cannot resolve that name, QEMU fails with ``Unable to
    resolve address 'host2' service '49152'`` even when DESTURI uses an IP;
    if it resolves to the source itself, libvirt fails with ``Attempt to
    migrate guest to the same host``.

How to fix it
    Add ``ADDRESS  HOSTNAME`` for the destination to the source's
    /etc/hosts (the RHEL guide's advice: ``10.0.0.20  host2.example.com``), or fix
    DNS, or pass ``--migrateuri tcp://ADDRESS`` so the hostname is not used
    for the data stream. In image mode only /etc/hosts can be read, so a
    missing entry fails there.

When it cannot see (FAIL or UNKNOWN)
    - The source's /etc/hosts is absent in image mode (no resolver can be
      asked there): FAIL — the names cannot resolve from it, as a missing
      entry fails.
    - It exists but cannot be read (a directory, a FIFO or device, larger
      than the read cap, a symlink loop, I/O error) and no resolver
      answered: UNKNOWN, naming the file and the reason. A symlinked
      /etc/hosts inside an image root is followed within the root.
    - The name resolves to an address that is neither among the source's
      own addresses nor shown to be the destination's, and the source's own
      addresses are unknown (image mode without /etc/hostname or without
      an /etc/hosts entry for it; ``ip addr`` failed): UNKNOWN at error
      severity, never a pass or a warning — it may be the source itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from preflight.known import Known
from preflight.model.findings import Scope, Severity, Status
from preflight.rulekit import Applicability, Context, Outcome, failed, not_seen, passed
from preflight.view.names import ETC_HOSTS, dest_address, is_ip, is_loopback, migration_host_setting, migration_names

ID = "NET001"
NAME = "dest-name-resolves"
SEVERITY = Severity.ERROR
SEVERITIES = (Severity.ERROR, Severity.WARNING)  # what its findings can carry
NEEDS = ("migration_names", "addresses", "getent", "hosts_file")  # view facts read (preflight.view.needs)
LINT = ("peers",)  # roles judged alone by `preflight lint`
FIXABLE = Applicability.UNSAFE  # `preflight fix` writes an edit to review
SEED = "The source's /etc/hosts must hold an entry for the destination (IP address and host name)."

SRC = Scope.SOURCE


def _fix(ctx: Context, name: str) -> str:
    choice = dest_address(ctx.plan, ctx.source, ctx.dest)  # the address `preflight fix` writes
    addr = choice.address or "<destination address>"
    return (
        f"On the source, add to /etc/hosts:  {addr}  {name}   "
        f"(or fix DNS, or pass --migrateuri tcp://{addr})"
        + (f"; candidates: {', '.join(choice.candidates)}" if choice.candidates else "")
    )


def _judge(ctx: Context, name: str, why: str, addrs: list[str], answered_by: str, line: int | None) -> Outcome:
    own_fact = ctx.source.addresses
    own = set(own_fact.value or [])
    dest_addrs = ctx.dest.addresses.value
    first = addrs[0]
    ev = {"name": name, "addresses": addrs, "answered_by": answered_by, "why": why}
    kw: dict[str, Any] = {"file": "/etc/hosts" if line else None, "line": line, "subject": name, "evidence": ev}
    if is_loopback(first):
        return failed(SRC, f"{name} ({why}) resolves to loopback {first} via {answered_by}: "
                      "the migration would connect to the source itself", _fix(ctx, name),
                      **kw)
    if first in own:
        return failed(SRC, f"{name} ({why}) resolves to {first}, an address of the source itself, via "
                      f"{answered_by}: libvirt fails with 'Attempt to migrate guest to the same host'",
                      _fix(ctx, name), **kw)
    if not own_fact.ok and not (dest_addrs and first in dest_addrs):
        # Neither "not the source" nor "the destination" can be shown: never a pass.
        return Outcome(Status.UNKNOWN, SRC, f"{name} ({why}) resolves to {first} via {answered_by}, but whether "
                       f"that is the source itself cannot be told: the source's own addresses are unknown "
                       f"({own_fact.reason or 'not gathered'})"
                       + ("" if dest_addrs else f", and so are the destination's ({ctx.dest.addresses.reason})"),
                       remediation=_fix(ctx, name), severity=Severity.ERROR, **kw)
    if dest_addrs and not any(a in dest_addrs for a in addrs):
        return failed(SRC, f"{name} ({why}) resolves to {', '.join(addrs)} via {answered_by}, "
                      f"none of which is an address of the destination ({', '.join(dest_addrs)})",
                      _fix(ctx, name), severity=Severity.WARNING, **kw)
    return passed(SRC, f"{name} ({why}) resolves to {first} via {answered_by}", **kw)


def _from_hosts_file(ctx: Context, name: str, why: str, resolver: Known[list[str]]) -> Outcome:
    """No resolver to ask (image mode, or getent failed): the source's /etc/hosts is all there is."""
    hosts = ctx.source.hosts_file
    ev = {"name": name, "why": why}
    if hosts.ok:
        entries = hosts.get().lookup(name)
        if entries:
            line = entries[0].line
            return _judge(ctx, name, why, [entries[0].address], f"/etc/hosts line {line}", line)
        return failed(SRC, f"{name} ({why}) has no entry in the source's /etc/hosts, and DNS cannot "
                      f"be consulted ({resolver.reason})", _fix(ctx, name), file=ETC_HOSTS,
                      subject=name, evidence=ev)
    if ctx.source.file_exists(ETC_HOSTS) is False and resolver.not_applicable:
        return failed(SRC, f"{name} ({why}) cannot resolve on the source: it has no /etc/hosts, the only "
                      f"resolver judged in image mode ({hosts.reason})", _fix(ctx, name), file=ETC_HOSTS,
                      subject=name, evidence=ev)
    # Unreadable (a directory, a FIFO, a loop, too large ...) or not gathered: could not see.
    return Outcome(Status.UNKNOWN, SRC, f"resolving {name} ({why}) on the source: {ETC_HOSTS} could not be "
                   f"read ({hosts.reason}) and no resolver answered ({resolver.reason})",
                   file=ETC_HOSTS, subject=name, evidence=ev, severity=Severity.ERROR)


def check(ctx: Context) -> Iterator[Outcome]:
    names = migration_names(ctx.plan, ctx.dest)
    if not names:
        yield not_seen(SRC, "destination hostname", ctx.dest.hostname)
        return
    if not ctx.plan.migrate_host and not (ctx.plan.p2p and ctx.plan.tunnelled) and \
            not migration_host_setting(ctx.dest) and not ctx.dest.hostname.ok:
        yield not_seen(SRC, "the destination's own hostname (used in the migration URI)", ctx.dest.hostname)
    hosts = ctx.source.hosts_file
    for name, why in names:
        if is_ip(name):
            yield passed(SRC, f"{name} ({why}) is an address: nothing to resolve", subject=name)
            continue
        resolved = ctx.source.getent(name)
        if not resolved.ok:
            yield _from_hosts_file(ctx, name, why, resolved)
            continue
        entries = hosts.get().lookup(name) if hosts.ok else []
        line = entries[0].line if entries else None
        addrs = resolved.get()
        if not addrs:
            yield failed(SRC, f"the source cannot resolve {name} ({why}): getent ahosts found nothing "
                         "(no /etc/hosts entry, DNS has no answer)", _fix(ctx, name),
                         file=ETC_HOSTS, subject=name, evidence={"name": name, "why": why})
            continue
        source = f"/etc/hosts line {entries[0].line}" if entries else "DNS (no /etc/hosts entry)"
        yield _judge(ctx, name, why, addrs, source, line)
