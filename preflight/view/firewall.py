"""The destination's inbound packet filter, as far as this reader can judge it (NET005)."""

from __future__ import annotations

from preflight.known import Known
from preflight.model import probes as P
from preflight.parsers.iptables import IptablesFilter, Verdict, parse_iptables_save, tcp_verdict
from preflight.view.host import HostView

DEFAULT_MIGRATION_PORT = 49152  # qemu.conf migration_port_min's compiled default


def migration_port(host: HostView) -> int:
    """The first port of libvirt's migration range on this host (qemu.conf migration_port_min)."""
    conf = host.qemu_conf
    entry = conf.get().get("migration_port_min") if conf.ok else None
    return entry.value if entry is not None and isinstance(entry.value, int) else DEFAULT_MIGRATION_PORT


def firewalld_state(host: HostView) -> Known[str]:
    """running | socket | stopped (the daemon-state line's first field)."""
    return host.text(P.FIREWALLD).map(lambda t: (t.split() or [""])[0])


def native_nft_input(host: HostView) -> bool:
    """nftables input hooks outside iptables' compat table: rules this reader cannot evaluate."""
    nft = host.text(P.NFT)
    return nft.ok and "hook input" in nft.get() and "table ip filter" not in nft.get()


def iptables_filter(host: HostView) -> Known[IptablesFilter]:
    return host.text(P.IPTABLES).map(parse_iptables_save)


def tcp_from(fw: IptablesFilter, port: int, sources: list[str]) -> Verdict:
    """What the INPUT chain does to a NEW TCP connection from ``sources`` to ``port``."""
    return tcp_verdict(fw, port, sources)
