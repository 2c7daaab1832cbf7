"""The plan checked as virsh and libvirt would check it, before any host is contacted.

A DESTURI libvirt cannot open, or flags it refuses together, make every migration fail
for a reason no host fact changes: a usage error (exit 2), one line, with a did-you-mean
where one fits. What libvirt says for each is quoted in the message so the user
recognises it. Checks that depend on a host (its daemon, its certificates) are rules.
"""

from __future__ import annotations

import difflib

from preflight.model.plan import MigrationPlan
from preflight.uri import UriParts, dest_host_spec, split_uri

# libvirt's remote driver: "transport in URL not recognised (should be tls|unix|ssh|ext|tcp|libssh2|libssh)"
TRANSPORTS = ("ssh", "libssh2", "libssh", "tls", "tcp", "unix", "ext")
# drivers libvirt knows that are not QEMU's: the QEMU guests this tool judges cannot migrate to them
OTHER_DRIVERS = ("xen", "libxl", "lxc", "test", "vbox", "vmwareplayer", "vmwarews", "vmwarefusion", "esx", "gsx",
                 "vpx", "hyperv", "bhyve", "ch", "vz", "openvz", "phyp", "uml", "xenapi", "network", "interface",
                 "storage", "nodedev", "nwfilter", "secret")
PATHS = ("/system", "/session")


class PlanError(ValueError):
    """The plan is one libvirt or virsh would refuse: a usage error."""


def _close(word: str, choices: tuple[str, ...]) -> str | None:
    found = difflib.get_close_matches(word.lower(), choices, n=1, cutoff=0.5)
    return found[0] if found else None


def check_dest_uri(uri: str, source_libvirt: str | None = None) -> None:
    """Refuse a DESTURI libvirt would refuse for a QEMU guest (PlanError, one line)."""
    parts = split_uri(uri)
    if parts is None:
        raise PlanError(f"{uri!r} is not a URI (expected e.g. qemu+ssh://host2.example.com/system)")
    _check_scheme(uri, parts)
    if parts.transport == "unix" and parts.authority:
        raise PlanError(f"DESTURI {uri}: the unix transport is local only; libvirt refuses it with a remote "
                        f"server (did you mean {parts.with_(scheme='qemu+ssh')}?)")
    _check_path(uri, parts, source_libvirt)


def _check_scheme(uri: str, parts: UriParts) -> None:
    transport = f"+{parts.transport}" if parts.transport is not None else ""
    if parts.driver != "qemu":
        suggest = parts.with_(scheme="qemu" + transport)
        if parts.driver in OTHER_DRIVERS:
            raise PlanError(f"DESTURI {uri}: driver '{parts.driver}' is not QEMU's; a QEMU/KVM guest migrates only "
                            f"to a QEMU driver (libvirt: no connection driver available for {parts.driver}); "
                            f"use {suggest}")
        hint = f"did you mean {suggest}?" if _close(parts.driver, ("qemu", "kvm")) else f"e.g. {suggest}"
        raise PlanError(f"DESTURI {uri}: unknown driver '{parts.driver}' ({hint})")
    if parts.transport is not None and parts.transport not in TRANSPORTS:
        near = _close(parts.transport, TRANSPORTS)
        hint = f"did you mean {parts.with_(scheme='qemu+' + near)}?" if near else \
            f"libvirt knows {', '.join(TRANSPORTS)}"
        raise PlanError(f"DESTURI {uri}: unknown transport '{parts.transport}' ({hint})")


def _check_path(uri: str, parts: UriParts, source_libvirt: str | None) -> None:
    path = parts.path
    if path in ("", "/"):
        raise PlanError(f"DESTURI {uri} has no path: libvirt's QEMU driver refuses it (no QEMU URI path given); "
                        f"did you mean {parts.with_(path='/system')}?")
    if path not in PATHS:
        near = _close(path, PATHS) or "/system"
        raise PlanError(f"DESTURI {uri}: libvirt's QEMU driver refuses the path {path!r} (unexpected QEMU URI "
                        f"path); did you mean {parts.with_(path=near)}?")
    if path == "/session" and _source_path(source_libvirt) == "/system":
        raise PlanError(f"DESTURI {uri} names the destination user's private session daemon, but the guests "
                        "run under the system daemon (qemu:///system), whose networks, storage and "
                        f"privileges a session lacks; migrate system to system: {parts.with_(path='/system')}")


def _source_path(source_libvirt: str | None) -> str | None:
    """The source's libvirt path: /system unless --source-libvirt names a QEMU URI with another."""
    if source_libvirt is None:
        return "/system"
    parts = split_uri(source_libvirt)
    return parts.path if parts is not None and parts.driver == "qemu" else None


def check_flags(plan: MigrationPlan) -> None:
    """Flags virsh or libvirt refuse together, whatever the hosts (PlanError, one line)."""
    if plan.live and plan.offline:
        raise PlanError("--live and --offline are mutually exclusive (as in virsh migrate)")
    if plan.tunnelled and not plan.p2p:
        raise PlanError("--tunnelled needs --p2p (as in virsh migrate)")
    if plan.offline and plan.tunnelled:
        raise PlanError("--offline with --tunnelled: libvirt refuses it (tunnelled offline migration does not "
                        "make sense)")
    for flag, on in (("--copy-storage-all", plan.copy_storage_all), ("--copy-storage-inc", plan.copy_storage_inc)):
        if plan.offline and on:
            raise PlanError(f"--offline with {flag}: libvirt refuses it (offline migration cannot handle "
                            "non-shared storage)")
    if plan.copy_storage_all and plan.copy_storage_inc:
        raise PlanError("--copy-storage-all and --copy-storage-inc are mutually exclusive (libvirt refuses both)")


def check_plan(plan: MigrationPlan, source_libvirt: str | None = None) -> None:
    """Every usage check of the plan: DESTURI, then the flags."""
    check_dest_uri(plan.dest_uri, source_libvirt)
    parts = split_uri(plan.dest_uri)
    if parts is not None and parts.authority:  # whatever --dest says: the host virsh will reach is validated
        try:
            dest_host_spec(plan.dest_uri)
        except ValueError as exc:
            raise PlanError(str(exc)) from None
    check_flags(plan)
