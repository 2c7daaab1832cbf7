"""The names a migration makes the source resolve, decided once for the rule (NET001/NET002),
the fix (/etc/hosts) and the gather (which names the source's resolver is asked about).

libvirt connects to DESTURI's host; the memory stream goes to --migrateuri's host, else
(unless tunnelled) to the destination's qemu.conf migration_host, else to the destination's
own hostname as libvirt reports it (virGetHostname).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

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


@dataclass(frozen=True)
class AddressChoice:
    """The destination address to write (None: not certain), why, and what the user can pass instead."""

    address: str | None
    why: str
    candidates: tuple[str, ...] = ()
    needs: str | None = None


ASK = ("pass --dest-address ADDR (the address the source reaches the destination on); preflight does not "
       "look up the source's route to it")


def dest_address(plan: MigrationPlan, source: HostView, dest: HostView, given: str | None = None) -> AddressChoice:
    """The destination address NET001 advises and its fix writes, never a guess: --dest-address (the
    fix only), DESTURI's IP literal, the destination's own /etc/hosts entry for its name (one usable
    address), or its only usable address. Several candidates: none is picked (the wrong one half the
    time on a host with several networks)."""
    if given:
        return AddressChoice(given, "given with --dest-address")
    own = set(source.addresses.value or [])

    def usable(a: str) -> bool:
        try:
            ip = ipaddress.ip_address(a.split("%", 1)[0])
        except ValueError:
            return False
        return not (ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast) and a not in own

    host = plan.dest_host
    if host and is_ip(host) and usable(host):
        return AddressChoice(host, "the address in DESTURI")
    addrs = dest.addresses
    live = [a for a in addrs.get() if usable(a)] if addrs.ok else []
    name, hosts = dest.hostname, dest.hosts_file
    if name.ok and hosts.ok:
        entry = [a for a in dict.fromkeys(hosts.get().addresses_for(name.get()))
                 if usable(a) and (not addrs.ok or a in live)]
        if len(entry) == 1:
            return AddressChoice(entry[0], f"the destination's own /etc/hosts entry for {name.get()}")
        if len(entry) > 1:
            return _several(entry, f"the destination's /etc/hosts entries for {name.get()}")
    if not addrs.ok:
        return AddressChoice(None, f"the destination's address is not known ({addrs.reason or 'no addresses'}); "
                             + ASK, needs="--dest-address")
    cands = sorted(dict.fromkeys(live), key=lambda a: ":" in a)  # IPv4 first, stable
    if not cands:
        return AddressChoice(None, f"none of the destination's addresses ({', '.join(addrs.get()) or 'none'}) "
                             f"is usable from the source; " + ASK, needs="--dest-address")
    if len(cands) == 1:
        return AddressChoice(cands[0], f"the destination's only address other than loopback and link-local "
                             f"(from {addrs.source})")
    return _several(cands, f"the destination's addresses from {addrs.source}")


def _several(cands: list[str], where: str) -> AddressChoice:
    return AddressChoice(None, f"the destination has several candidate addresses ({where}): "
                         f"{', '.join(cands)}; not written: " + ASK, tuple(cands), "--dest-address")
