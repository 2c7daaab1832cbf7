"""`--to-group PATTERN -i INVENTORY`: destinations from an Ansible inventory, read as `preflight fleet`
reads it (preflight.fleet.inventory, .patterns, .hosts: every value validated, file:line on a refusal).

PATTERN is a group name or any `--limit` pattern (``kvm:!kvm07``). With -i, SOURCE may also be an
inventory host name (it is then built from the inventory too, preflight_root and all). The source
is never its own destination: the group's member that is the source (same inventory name, or the
same host spec) is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from preflight.access import AccessOptions, HostSpec
from preflight.access.spec import parse_host_spec
from preflight.fleet.hosts import FleetHost
from preflight.fleet.hosts import build as build_host
from preflight.fleet.inventory import Inventory, InventoryError, load
from preflight.fleet.patterns import PatternError, select

from .hosts import SOURCE


class GroupError(ValueError):
    """The inventory, the pattern or a host of it is refused (a usage error)."""


@dataclass(frozen=True)
class Group:
    inventory: Inventory
    source: FleetHost | None  # SOURCE named an inventory host: built from it (key "source")
    members: list[FleetHost]  # the destinations, keyed by their inventory names (renamed by the caller)
    left_out: list[str]  # inventory names left out: the source itself


def load_group(path: str, pattern: str, source: str, options: AccessOptions) -> Group:
    """The hosts PATTERN selects in the inventory at PATH, in inventory order, without the source."""
    try:
        inv = load(path)
        names, unmatched = select(inv, pattern)
    except (InventoryError, PatternError) as exc:
        raise GroupError(str(exc)) from None
    if unmatched:
        raise GroupError(f"--to-group {pattern!r}: {', '.join(repr(p) for p in unmatched)} matches no host or "
                         f"group of {path}")
    try:
        src = replace(build_host(inv, source, options), name=SOURCE) if source in inv.hosts else None
        src_spec = src.spec if src is not None else _spec_or_none(source)
        members, left_out = [], []
        for name in names:
            host = build_host(inv, name, options)
            if name == source or (src_spec is not None and host.spec == src_spec):
                left_out.append(name)
            else:
                members.append(host)
    except InventoryError as exc:
        raise GroupError(str(exc)) from None
    if not members:
        raise GroupError(f"--to-group {pattern!r}: no host of {path} left to migrate to"
                         + (f" (the source {', '.join(left_out)} is left out)" if left_out else ""))
    return Group(inv, src, members, left_out)


def _spec_or_none(text: str) -> HostSpec | None:
    try:
        return parse_host_spec(text)
    except ValueError:
        return None  # the caller's own parse reports it


def number(members: list[FleetHost], start: int, taken: dict[str, str]) -> list[FleetHost]:
    """The members keyed dest{start}, dest{start+1}...; `taken` maps each DESTURI already given (by --to)
    to how it was given: the same destination twice is refused."""
    out = []
    for i, host in enumerate(members):
        if host.dest_uri in taken:
            raise GroupError(f"--to-group: inventory host {host.name!r} is the same destination as "
                             f"{taken[host.dest_uri]} ({host.dest_uri})")
        taken[host.dest_uri] = f"inventory host {host.name!r}"
        out.append(replace(host, name=f"dest{start + i}"))
    return out
