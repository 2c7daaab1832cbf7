"""The names a migration makes the source resolve, decided once for the rule (NET001/NET002),
the fix (/etc/hosts) and the gather (which names the source's resolver is asked about).

libvirt connects to DESTURI's host; the memory stream goes to --migrateuri's host, else
(unless tunnelled) to the destination's qemu.conf migration_host, else to the destination's
own hostname as libvirt reports it (virGetHostname).
"""

from __future__ import annotations

import ipaddress

from preflight.model import probes as P
from preflight.model.plan import MigrationPlan
from preflight.view.host import HostView

ETC_HOSTS = P.ETC_HOSTS  # the source's hosts file: NET001's evidence and the fix's target


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


def is_loopback(addr: str) -> bool:
    try:
        return ipaddress.ip_address(addr.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def migration_host_setting(dest: HostView) -> tuple[str, str | None, int | None] | None:
    """qemu.conf migration_host on the destination: (value, file, line), if set."""
    conf = dest.qemu_conf
    if not conf.ok:
        return None
    entry = conf.get().get("migration_host")
    if entry is None or not isinstance(entry.value, str) or not entry.value:
        return None
    return entry.value, conf.get().path, entry.line


def migration_names(plan: MigrationPlan, dest: HostView) -> list[tuple[str, str]]:
    """(name, why it matters) pairs the source resolves for this migration, without duplicates."""
    out: list[tuple[str, str]] = []
    if plan.dest_host:
        out.append((plan.dest_host, "host of DESTURI"))
    if plan.migrate_host:
        out.append((plan.migrate_host, "host of --migrateuri"))
    elif not (plan.p2p and plan.tunnelled):
        # Tunnelled migration carries the data over the libvirt connection.
        setting = migration_host_setting(dest)
        if setting:
            out.append((setting[0], f"migration_host in {setting[1]}:{setting[2]} on the destination"))
        elif dest.hostname.ok:
            out.append((dest.hostname.get(), "the destination's hostname, used in the migration URI"))
    seen: set[str] = set()
    unique = []
    for name, why in out:
        if name.lower() not in seen:
            seen.add(name.lower())
            unique.append((name, why))
    return unique


def names_to_gather(plan: MigrationPlan, dest: HostView) -> list[str]:
    """Every name :func:`migration_names` may pick, from what is known of the destination so far.

    The gather asks this three times (the plan alone; with the destination's libvirt; with its
    files), each time with a fresh view, and resolves on the source the names not asked yet.
    Tunnelled or not does not narrow it: the names are cheap, and the report shows them.
    """
    lv = dest.libvirt
    # the test driver answers with this machine's hostname, not the modelled host's
    by_libvirt = lv.hostname if lv is not None and not dest.libvirt_is_test_driver else None
    names = [plan.dest_host, by_libvirt, plan.migrate_host]
    setting = migration_host_setting(dest)
    if setting:
        names.append(setting[0])
    if not by_libvirt:
        # libvirt could not say: either of the host's own answers may be the one the view picks
        for key in (P.HOSTNAME, P.HOSTNAME_F):
            got = dest.text(key)
            if got.ok and got.get().strip():
                names.append(got.get().strip())
    return list(dict.fromkeys(n for n in names if n))
