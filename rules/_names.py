"""Helpers shared by the name-resolution rules (pure: facts in, facts out)."""

from __future__ import annotations

import ipaddress

from preflight.rulekit import Context


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


def migration_host_setting(ctx: Context) -> tuple[str, str | None, int | None] | None:
    """qemu.conf migration_host on the destination: (value, file, line), if set."""
    conf = ctx.dest.qemu_conf
    if not conf.ok:
        return None
    entry = conf.get().get("migration_host")
    if entry is None or not isinstance(entry.value, str) or not entry.value:
        return None
    return entry.value, conf.get().path, entry.line
