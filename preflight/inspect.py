"""From the command line's words to two host snapshots (gathered or loaded).

Light on purpose: it imports only the access layer, so an ssh host's handshake starts
(:class:`Opening`) before the gather pipeline, the models, libvirt and the rules are
imported; those imports then run while the handshake waits on the network.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from preflight.access import AccessOptions, HostAccess, HostSpec, HostSpecError, open_access, parse_host_spec

if TYPE_CHECKING:
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


class Opening:
    """A host's connection being opened in a thread, started before the heavy imports (an ssh
    master's handshake takes a round trip or more; the imports take ~50 ms of CPU). The access is
    created here (its cleanup registered), so it is closed at exit whatever happens next."""

    def __init__(self, spec: HostSpec, options: AccessOptions) -> None:
        self.access: HostAccess = open_access(spec, options)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._open, name=f"open-{spec.kind}", daemon=True)
        self._thread.start()

    def _open(self) -> None:
        try:
            self.access.open()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread, raised there
            self._error = exc

    def wait(self) -> HostAccess:
        """The opened access; HostUnreachable (or whatever open raised) as if open() were called here."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self.access


def open_early(spec: HostSpec, options: AccessOptions) -> Opening | None:
    """An ssh host's master started now; None for a local host (nothing to wait for) or an image root."""
    return Opening(spec, options) if spec.kind == "ssh" else None


def _spec(text: str, flag: str) -> HostSpec:
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
    # the handshakes first, then the imports and the rules' warm-up while they wait on the network
    src_open = open_early(src_spec, options) if source_snapshot is None else None
    dst_open = open_early(dst_spec, options) if dest_snapshot is None else None
    from preflight.gather.pair import gather_host, gather_pair
    from preflight.gather.plan import destination_names, guest_disk_paths

    # after the pipeline's imports, as before: two threads importing the same modules at once
    # could meet an import cycle from both ends
    threading.Thread(target=_prepare_judging, name="warm-up", daemon=True).start()

    if source_snapshot is None and dest_snapshot is None:
        return gather_pair(src_spec, dst_spec, plan, source_libvirt, dest_libvirt, options, only,
                           opening={"source": src_open, "destination": dst_open})
    if source_snapshot is None:
        assert dest_snapshot is not None
        src = gather_host(src_spec, "source", source_libvirt, destination_names(plan, dest_snapshot),
                          None, options, opening=src_open)
        return src, dest_snapshot
    assert source_snapshot is not None
    paths = guest_disk_paths(source_snapshot.libvirt, plan)
    dst = gather_host(dst_spec, "destination", dest_libvirt, (), paths, options, opening=dst_open)
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
    host = _spec(spec, "SPEC")
    opening = open_early(host, options)
    from preflight.gather.pair import gather_host

    return gather_host(host, role, libvirt_uri, names, paths or None, options, opening=opening)

