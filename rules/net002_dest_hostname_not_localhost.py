"""NET002 dest-hostname-not-localhost — the destination has a real hostname.

What it checks
    The destination's hostname (as libvirt reports it, else ``hostname``,
    else /etc/hostname) does not start with ``localhost``, unless
    ``migration_host`` in its qemu.conf or ``--migrateuri`` supplies the
    address instead.

Why it breaks a migration
    libvirt on the destination refuses to build a migration URI from such a
    name: ``hostname on destination resolved to localhost, but migration
    requires an FQDN``.

How to fix it
    Give the destination its real name (``hostnamectl set-hostname
    host2.example.com``, or /etc/hostname), or set ``migration_host`` in its
    /etc/libvirt/qemu.conf, or pass ``--migrateuri tcp://ADDRESS``.
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed, skipped
from preflight.view.names import migration_host_setting

ID = "NET002"
NAME = "dest-hostname-not-localhost"
SEVERITY = Severity.ERROR
NEEDS = ("migration_names",)  # view facts read (preflight.view.needs)
LINT = ("destination",)  # roles judged alone by `preflight lint`
SEED = "DestinationURL names the destination, e.g. qemu+ssh://host2.example.com/system (an FQDN)."

DST = Scope.DESTINATION


def check(ctx: Context) -> Iterator[Outcome]:
    if ctx.plan.migrate_host:
        yield skipped(DST, f"--migrateuri gives {ctx.plan.migrate_host}; the hostname is not used")
        return
    setting = migration_host_setting(ctx.dest)
    if setting:
        yield skipped(DST, f"migration_host = {setting[0]} is set", file=setting[1], line=setting[2])
        return
    name = ctx.dest.hostname
    if not name.ok:
        yield not_seen(DST, "destination hostname", name)
        return
    value = name.get()
    if value.lower().startswith("localhost"):
        yield failed(
            DST,
            f"destination hostname is {value!r} (from {name.source}): libvirt refuses with 'hostname on "
            "destination resolved to localhost, but migration requires an FQDN'",
            "Set the destination's real name: hostnamectl set-hostname host2.example.com (or edit "
            "/etc/hostname), or set migration_host in its /etc/libvirt/qemu.conf",
            evidence={"hostname": value, "source": name.source},
        )
    else:
        yield passed(DST, f"destination hostname is {value} (from {name.source})")
