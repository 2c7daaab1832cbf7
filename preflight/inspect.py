"""From the command line's words to two host snapshots (gathered or loaded)."""

from __future__ import annotations

import threading

from preflight.access import AccessOptions, HostSpecError, parse_host_spec
from preflight.gather.pair import gather_host, gather_pair
from preflight.gather.plan import destination_names, guest_disk_paths
from preflight.model.facts import HostSnapshot
from preflight.model.plan import MigrationPlan


def _prepare_judging() -> None:
    """While gathering waits on the network: import the rules and compile the Augeas lenses."""
    from preflight import rules  # noqa: F401
    from preflight.parsers import hosts, libvirtconf, sshd
    from preflight.parsers.augeas_util import warm_up

    warm_up((hosts.LENS, sshd.LENS, libvirtconf.LENS))


class InspectError(Exception):
    """A usage or configuration problem (bad host spec ...): exit code 2."""


def _spec(text: str, flag: str):  # type: ignore[no-untyped-def]
    try:
        return parse_host_spec(text)
    except HostSpecError as exc:
        raise InspectError(f"{flag}: {exc}") from None


def inspect_pair(
    plan: MigrationPlan,
    source: str,
    dest: str,
    source_libvirt: str | None,
    dest_libvirt: str | None,
    source_snapshot: HostSnapshot | None = None,
    dest_snapshot: HostSnapshot | None = None,
    *,
    sudo: bool = False,
    ssh_config: str | None = None,
    timeout: float = 10.0,
    only: list[str] | None = None,
) -> tuple[HostSnapshot, HostSnapshot]:
    """Both snapshots: saved ones as given, the others gathered (in parallel when both are).

    ``only``: the probe keys the selected rules need (both hosts gathered fresh); None: every one.
    """
    if source_snapshot is not None and dest_snapshot is not None:
        return source_snapshot, dest_snapshot
    options = AccessOptions(timeout=timeout, sudo=sudo, ssh_config=ssh_config)
    src_spec, dst_spec = _spec(source, "--source"), _spec(dest, "--dest")
    threading.Thread(target=_prepare_judging, name="warm-up", daemon=True).start()
    if source_snapshot is None and dest_snapshot is None:
        return gather_pair(src_spec, dst_spec, plan, source_libvirt, dest_libvirt, options, only)
    if source_snapshot is None:
        assert dest_snapshot is not None
        src = gather_host(src_spec, "source", source_libvirt, destination_names(plan, dest_snapshot),
                          None, options)
        return src, dest_snapshot
    assert source_snapshot is not None
    paths = guest_disk_paths(source_snapshot.libvirt, plan)
    dst = gather_host(dst_spec, "destination", dest_libvirt, (), paths, options)
    return source_snapshot, dst


def inspect_one(
    spec: str,
    role: str,
    libvirt_uri: str | None,
    names: list[str],
    paths: list[str],
    *,
    sudo: bool = False,
    ssh_config: str | None = None,
    timeout: float = 10.0,
) -> HostSnapshot:
    options = AccessOptions(timeout=timeout, sudo=sudo, ssh_config=ssh_config)
    return gather_host(_spec(spec, "SPEC"), role, libvirt_uri, names, paths or None, options)
