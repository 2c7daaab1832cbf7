"""The rule registry: every rule module, in report order, as a typed :class:`~preflight.rulekit.Rule`.

Each module holds one rule: ``ID`` (category prefix + number), ``NAME``
(slug), ``SEVERITY``, ``SEED`` (the RHEL guide's statement it comes from, or the
measured fact that goes beyond it), ``NEEDS`` (the view facts it reads: the
gather plan of a ``--select``), optionally ``TAGS`` and ``FIXABLE``, and
``check(ctx)``. Its docstring is the documentation ``preflight explain``
prints. A new rule is a new module listed here (a test fails for a module
on disk that is not listed).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from preflight.rulekit import Rule

# Report order: reachability, names and identity, releases, daemon, guests, storage, limits, sshd.
RULE_MODULES = (
    "ins001_host_reachable",
    "net001_dest_name_resolves",
    "net002_dest_hostname_not_localhost",
    "net003_distinct_host_uuids",
    "net004_guest_networks_on_dest",
    "net005_migration_ports_open",
    "net006_migration_port_range_fits",
    "tls001_transport_listening",
    "tls002_tls_certificates",
    "tls003_qemu_tls_certificates",
    "os001_same_os_release",
    "ver001_same_hypervisor",
    "ver002_libvirt_not_older",
    "ver003_qemu_not_older",
    "dmn001_daemon_running",
    "dmn002_daemon_config_valid",
    "dmn003_obsolete_keys",
    "gst001_guest_exists",
    "gst002_guest_running",
    "gst003_dest_name_free",
    "gst004_no_host_devices",
    "gst005_machine_type_on_dest",
    "gst006_emulator_on_dest",
    "gst007_kvm_on_dest",
    "gst008_cpu_on_dest",
    "gst009_memory_on_dest",
    "gst010_migration_blockers",
    "sto001_disk_shared_on_source",
    "sto002_disk_shared_on_dest",
    "sto003_disk_same_file",
    "sto004_copy_storage_target",
    "lim001_client_slots",
    "lim002_source_workers",
    "lim003_clients_equal_workers",
    "ssh001_max_startups",
    "ssh002_per_source_max_startups",
    "ssh003_control_connection",
    "sec001_tcp_without_auth",
)

ALL_RULES: list[Rule] = [Rule(importlib.import_module(f"preflight.rules.{name}")) for name in RULE_MODULES]
# Judged whatever is selected: an unreachable host hides every other fact (the engine adds it).
REACHABILITY: Rule = ALL_RULES[0]


def find_rule(key: str) -> Rule | None:
    """A rule by id (NET001, case-insensitive) or slug (dest-name-resolves)."""
    for rule in ALL_RULES:
        if key.upper() == rule.ID or key.lower() == rule.NAME:
            return rule
    return None


def rule_of(module: ModuleType) -> Rule:
    """The registered rule object of a rule module (fixers name their rules by module, not by id string)."""
    for rule in ALL_RULES:
        if rule.module is module:
            return rule
    raise LookupError(f"{module.__name__} is not a registered rule (RULE_MODULES)")


def _named(rule: Rule, keys: list[str]) -> bool:
    return any(rule.ID.startswith(k.upper()) or rule.NAME == k.lower() for k in keys)


def select(select: list[str], ignore: list[str] | None = None) -> list[Rule]:
    """Rules by id prefix or slug, ruff-style: ``--select NET,SSH001 --ignore LIM003``.

    An empty ``select`` means every rule. A key that names no rule is an error, so a typo
    cannot silently turn a CI gate off.

    >>> [r.ID for r in select(["SSH"])]
    ['SSH001', 'SSH002', 'SSH003']
    >>> len(select([], ["LIM003"])) == len(ALL_RULES) - 1
    True
    >>> [r.ID for r in select(["INS001"])]
    ['INS001']
    """
    ignore = ignore or []
    unknown = [k for k in select + ignore if not any(_named(r, [k]) for r in ALL_RULES)]
    if unknown:
        raise ValueError(f"no rule matches {', '.join(unknown)} (`preflight rules` lists them)")
    chosen = [r for r in ALL_RULES if not select or _named(r, select)]
    return [r for r in chosen if not _named(r, ignore)]
