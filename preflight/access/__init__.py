"""Host access: run one sh script on a host, locally or over one multiplexed ssh connection."""

from __future__ import annotations

from preflight.access.base import AccessOptions, CommandResult, HostAccess, HostUnreachable
from preflight.access.local import LocalAccess
from preflight.access.spec import HostSpec, HostSpecError, parse_host_spec
from preflight.access.ssh import SshAccess


def open_access(spec: HostSpec, options: AccessOptions | None = None) -> HostAccess:
    """The access for a local or ssh spec (image roots have no access: they are read as files)."""
    if spec.kind == "local":
        return LocalAccess(options)
    if spec.kind == "ssh":
        return SshAccess(spec, options)
    raise ValueError(f"no command access in {spec.kind} mode: {spec}")


__all__ = [
    "AccessOptions",
    "CommandResult",
    "HostAccess",
    "HostSpec",
    "HostSpecError",
    "HostUnreachable",
    "LocalAccess",
    "SshAccess",
    "open_access",
    "parse_host_spec",
]
