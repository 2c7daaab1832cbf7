"""What a libvirt daemon does with its parsed config file: the typed reads that make it refuse to start.

From libvirt's src/remote/remote_daemon_config.c (daemonConfigLoadOptions, in this order) and the
typed getters of src/util/virconf.c; every daemon (libvirtd, virtqemud, virtproxyd ...) shares it,
but only libvirtd and virtproxyd are built WITH_IP and read the TCP/TLS keys. The first failing
read stops the daemon with that one message, so only the first is reported. Checked against the
real libvirtd 9 by tests/parsers/test_libvirtconf_differential.py.

Keys not listed here are never read by the daemon: unknown keys are accepted.
"""

from __future__ import annotations

import os

from preflight.parsers.libvirtconf import LIST, LONG, STRING, ULONG, ConfEntry, LibvirtConf, SettingError, describe

UINT_MAX = (1 << 32) - 1
INT_MIN, INT_MAX = -(1 << 31), (1 << 31) - 1
SSF_MIN = 112  # SSF_WARNING_LEVEL (libvirt 9): tcp_min_ssf below it is refused
AUTHS = ("none", "sasl", "polkit")

_IP_HEAD = [("listen_tcp", "bool"), ("listen_tls", "bool"), ("tls_port", "string"), ("tcp_port", "string"),
            ("listen_addr", "string")]
_IP_AUTH = [("auth_tcp", "auth"), ("auth_tls", "auth")]
_IP_TLS = [("tls_no_sanity_certificate", "bool"), ("tls_no_verify_certificate", "bool"), ("key_file", "string"),
           ("cert_file", "string"), ("ca_file", "string"), ("crl_file", "string"),
           ("tls_allowed_dn_list", "strings"), ("tls_priority", "string"), ("tcp_min_ssf", "ssf")]
_UINTS = ["min_workers", "max_workers", "max_clients", "max_queued_clients", "max_anonymous_clients", "prio_workers",
          "max_client_requests", "admin_min_workers", "admin_max_workers", "admin_max_clients",
          "admin_max_queued_clients", "admin_max_client_requests", "audit_level"]
_TAIL = [("audit_logging", "bool"), ("host_uuid", "string"), ("host_uuid_source", "string"), ("log_level", "uint"),
         ("log_filters", "string"), ("log_outputs", "string"), ("keepalive_interval", "int"),
         ("keepalive_count", "uint"), ("admin_keepalive_interval", "int"), ("admin_keepalive_count", "uint"),
         ("ovs_timeout", "uint")]


def schema(ip: bool) -> list[tuple[str, str]]:
    """(key, getter) in the order the daemon reads them."""
    keys = (_IP_HEAD if ip else []) + [("auth_unix_rw", "auth"), ("auth_unix_ro", "auth")]
    keys += (_IP_AUTH if ip else []) + [("access_drivers", "strings")]
    keys += [(k, "string") for k in ("unix_sock_group", "unix_sock_admin_perms", "unix_sock_ro_perms",
                                      "unix_sock_rw_perms", "unix_sock_dir")]
    keys += (_IP_TLS if ip else []) + [("sasl_allowed_username_list", "strings")]
    return keys + [(k, "uint") for k in _UINTS] + _TAIL


DAEMONS = {"libvirtd": True, "virtproxyd": True}  # name -> built WITH_IP
for _name in ("virtqemud", "virtlxcd", "virtxend", "virtchd", "virtvboxd", "virtnetworkd", "virtstoraged",
              "virtnodedevd", "virtinterfaced", "virtnwfilterd", "virtsecretd"):
    DAEMONS[_name] = False


def daemon_of(path: str) -> str | None:
    """The daemon that reads this file (by its name), or None (qemu.conf and others: no schema here).

    >>> daemon_of("/etc/libvirt/virtqemud.conf"), daemon_of("/etc/libvirt/qemu.conf")
    ('virtqemud', None)
    """
    base = os.path.basename(path)
    name = base[:-5] if base.endswith(".conf") else ""
    return name if name in DAEMONS else None


def refusal(conf: LibvirtConf) -> SettingError | None:
    """The daemon's complaint about the first setting it cannot read, or None if it reads them all."""
    daemon = daemon_of(conf.path)
    if daemon is None:
        return None
    for key, getter in schema(DAEMONS[daemon]):
        entry = conf.get(key)
        why = _check(entry, key, getter) if entry is not None else None
        if why is None and key == "max_workers" and entry is not None and entry.value == 0:
            why = "'max_workers' must be greater than 0"
        if why is not None:
            line = entry.line if entry is not None else None
            return SettingError(conf.path, line, f"{why}: {daemon} refuses to start", key, daemon)
    return None


def _check(entry: ConfEntry, key: str, getter: str) -> str | None:
    value, kind = entry.value, entry.kind
    if getter in ("string", "auth"):
        if kind != STRING:
            return f"expected a string for '{key}' parameter (it is {describe(entry)})"
        if getter == "auth" and value not in AUTHS:
            return f"{key}: unsupported auth {value} (none, sasl or polkit)"
        return None
    if getter == "strings":
        if kind != LIST or not isinstance(value, list):
            return f"expected a string list for '{key}' parameter (it is {describe(entry)})"
        if any(not isinstance(v, str) for v in value):
            return f"expected a string list for '{key}' parameter (an element is not a string)"
        return None
    if getter == "int":
        if kind not in (LONG, ULONG) or not isinstance(value, int):
            return f"expected a signed integer for '{key}' parameter (it is {describe(entry)})"
        signed = value - (1 << 64) if value >= 1 << 63 else value  # the C code compares the signed view
        if not INT_MIN <= signed <= INT_MAX:
            return f"value for '{key}' parameter must be in range {INT_MIN}:{INT_MAX} (it is {value})"
        return None
    if kind != ULONG or not isinstance(value, int):
        noun = "a bool" if getter == "bool" else "an unsigned integer"
        return f"expected {noun} for '{key}' parameter (it is {describe(entry)})"
    if getter == "bool" and value > 1:
        return f"value for '{key}' parameter must be 0 or 1 (it is {value})"
    if value > UINT_MAX:
        return f"value for '{key}' parameter must be in range 0:{UINT_MAX} (it is {value})"
    if getter == "ssf" and value < SSF_MIN:
        return f"minimum SSF levels lower than {SSF_MIN} are not supported (it is {value})"
    return None


def effective_uint(conf: LibvirtConf, key: str, default: int) -> int:
    """The value the daemon runs with for an unsigned setting its reads accepted: the file's, else ``default``."""
    entry = conf.get(key)
    if entry is None or entry.kind != ULONG or not isinstance(entry.value, int):
        return default
    return entry.value
