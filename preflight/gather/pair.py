"""Gather both hosts of a migration, in parallel, each with one script run: the pipeline.

What the plan asks for (disk paths, names, the sections a --select needs) is decided in
preflight.gather.plan; libvirt URIs are built by preflight.uri.

Phase 1 (parallel): libvirt facts of both hosts; the ssh masters.
Phase 2 (parallel, pipelined): each host's script starts as soon as the source's
libvirt (the guests' disk paths) and its own connection are there; the source
resolves the destination names known from the plan.
Phase 3: names learned only from the destination's answers, resolved on the source
by a names-only run: its libvirt hostname (as soon as libvirt answers, beside the
destination's script), then, rarely, its qemu.conf migration_host or its
`hostname` when libvirt could not say.

A host that cannot be reached gets reachable=False and the transport's reason;
nothing here raises for an unreachable host.
"""

from __future__ import annotations

import os
import pwd
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from preflight import progress
from preflight.access import AccessOptions, HostAccess, HostSpec, HostUnreachable, SshAccess, open_access
from preflight.gather.image import gather_image
from preflight.gather.plan import (
    destination_names,
    guest_disk_paths,
    guest_emulators,
    wants_emulators,
    wants_names,
    wants_paths,
)
from preflight.gather.script import expected_keys, run_gather
from preflight.model import probes as pk
from preflight.model.facts import Availability, HostMode, HostSnapshot, LibvirtFacts, Probe
from preflight.model.plan import MigrationPlan
from preflight.uri import libvirt_uri

if TYPE_CHECKING:
    from preflight.inspect import Opening

IMAGE_LIBVIRT = "not available in image mode: pass --source-libvirt/--dest-libvirt test:///abs/path.xml"

# Time bounds, as multiples of --timeout (the per-step bound an operator sets):
# - a libvirt open over ssh chains about three bounded steps (ssh connect and authenticate,
#   virt-ssh-helper start, the RPC handshake with a daemon that may queue us behind max_clients),
#   and never less than 10 s, the time a loaded libvirtd took to answer in the lab;
LIBVIRT_STEPS, LIBVIRT_MIN_S = 3, 10.0
# - the script's longest job runs about six commands one after the other, each under its own
#   t: bound (files_job: the files, hostname, hostname -f, ip, mountinfo, netdevs), plus 10 s for
#   the session itself (sending the script, sudo, framing).
SCRIPT_STEPS, SCRIPT_OVERHEAD_S = 6, 10.0
# Threads of a pair gather: a connect, a libvirt open and a script per host.
PAIR_THREADS = 6


def default_libvirt_uri(spec: HostSpec, options: AccessOptions | None = None) -> str | None:
    """The libvirt URI that reaches the same host the spec does (built by preflight.uri, never pasted).

    When gathering, ``command=`` is added so libvirt's ssh rides our master (see
    SshAccess.libvirt_ssh_command); the snapshot records this URI, without the temporary
    wrapper's path.
    """
    return libvirt_uri(spec, verify_host_key=_verify(options))


def _verify(options: AccessOptions | None) -> bool:
    return (options or AccessOptions()).strict_host_key_checking == "yes"


class _Host:
    """One host during a gather: its spec, access, snapshot and timing."""

    def __init__(self, spec: HostSpec, role: str, libvirt_uri: str | None, options: AccessOptions,
                 only: list[str] | None = None, opening: Opening | None = None) -> None:
        self.spec = spec
        self.opening = opening  # its connection, already being opened (preflight.inspect.open_early)
        self.only = only  # the probe keys the selected rules need (None: every one)
        self.options = options
        self.default_uri = libvirt_uri is None
        self.libvirt_uri = libvirt_uri if libvirt_uri is not None else default_libvirt_uri(spec, options)
        self.started = time.monotonic()
        self.access: HostAccess | None = None
        mode = {"local": HostMode.LOCAL, "ssh": HostMode.SSH, "image": HostMode.IMAGE}[spec.kind]
        self.snap = HostSnapshot(
            role=role, spec=str(spec), mode=mode, gathered_at=datetime.now(timezone.utc).isoformat()
        )

    @property
    def rides_master(self) -> bool:
        """libvirt goes through our ssh master: the default URI of an ssh host (a given one is used as is)."""
        return self.spec.kind == "ssh" and self.default_uri

    # phase 1
    def gather_libvirt(self) -> None:
        if self.libvirt_uri is None:
            self.snap.libvirt = LibvirtFacts(uri="", status=Availability.NOT_AVAILABLE, error=IMAGE_LIBVIRT)
            return
        uri = self.libvirt_uri
        if self.rides_master:
            if not self.snap.reachable or not isinstance(self.access, SshAccess):
                self.snap.libvirt = LibvirtFacts(uri=uri, status=Availability.ERROR,
                                                 error=f"host unreachable: {self.snap.unreachable_reason}")
                return
            uri = libvirt_uri(self.spec, verify_host_key=_verify(self.options),
                              command=self.access.libvirt_ssh_command()) or uri
        from preflight.gather.libvirt_facts import gather_libvirt  # ~12 ms: only when libvirt is asked

        self.snap.libvirt = gather_libvirt(uri, timeout=max(LIBVIRT_MIN_S, LIBVIRT_STEPS * self.options.timeout))
        self.snap.libvirt.uri = self.libvirt_uri  # the wrapper's temp path means nothing later
        if self.snap.libvirt.error and uri != self.libvirt_uri:
            self.snap.libvirt.error = self.snap.libvirt.error.replace(uri, self.libvirt_uri)
        if urlsplit(self.libvirt_uri).scheme.endswith("+ssh"):
            # virt-ssh-helper (or nc) on the host: a session on our connection, or libvirt's own
            self.snap.remote_commands += 1
            if not self.rides_master:
                self.snap.ssh_connections += 1

    def connect(self) -> None:
        if self.spec.kind == "image":
            return
        progress.event(self.snap.role, self.snap.spec, "connecting")
        try:
            if self.opening is not None:  # started before the imports: take it (closed in finish)
                self.access = self.opening.access
                self.opening.wait()
            else:
                self.access = open_access(self.spec, self.options)
                self.access.open()
        except HostUnreachable as exc:
            self.unreachable(exc.reason, exc.cause)
        else:
            self.record_connection("ok", "", "")

    def unreachable(self, reason: str, cause: str = "") -> None:
        self.snap.reachable = False
        self.snap.unreachable_reason = reason
        self.record_connection("failed", cause, reason)

    def record_connection(self, result: str, cause: str, reason: str) -> None:
        """Our ssh connection's result and identity (probes.SSH_CONNECT): the migration's path, when
        preflight runs on the source as the migration's user (rules/ssh003)."""
        if self.spec.kind == "ssh":
            self.snap.add(Probe(pk.SSH_CONNECT, "preflight's ssh connection", Availability.OK,
                                text=connection_text(self.spec, self.options, result, cause, reason)))

    # phase 2 / 3
    def gather(self, names: Iterable[str], paths: Iterable[str], names_only: bool = False,
               emulators: Iterable[str] = ()) -> None:
        names, paths = list(names), list(paths)
        if self.snap.reachable:
            state = "reading files" if self.spec.kind == "image" else "gathering"
            progress.event(self.snap.role, self.snap.spec, state)
        if self.spec.kind == "image":
            if not names_only:
                self.snap.probes.update(gather_image(self.spec.root or "", names, paths, timeout=self.options.timeout))
            else:
                self.snap.probes.update(gather_image(self.spec.root or "", names, (), timeout=self.options.timeout))
            return
        if not self.snap.reachable or self.access is None:
            self._fill_unreachable(names, paths, names_only)
            return
        try:
            found = run_gather(
                self.access,
                names,
                paths,
                command_timeout=self.options.timeout,
                total_timeout=self.options.timeout * SCRIPT_STEPS + SCRIPT_OVERHEAD_S,
                names_only=names_only,
                only=self.only,
                emulators=emulators,
            )
        except HostUnreachable as exc:
            self.unreachable(exc.reason, exc.cause)
            self._fill_unreachable(names, paths, names_only)
            return
        self.snap.probes.update(found)

    def _fill_unreachable(self, names: list[str], paths: list[str], names_only: bool) -> None:
        why = f"host unreachable: {self.snap.unreachable_reason}"
        for key in expected_keys(names, paths, names_only, self.only):
            self.snap.probes.setdefault(key, Probe(key, key, Availability.ERROR, error=why))

    def finish(self) -> HostSnapshot:
        if self.access is None and self.opening is not None:  # never waited for: still ours to close
            self.access = self.opening.access
        if self.access is not None:
            self.access.close()
            dropped = getattr(self.access, "dropped_by_max_startups", 0)
            if dropped:
                self.snap.add(Probe(pk.SSH_DROPPED, "ssh connection attempts", Availability.OK, text=str(dropped)))
            if self.spec.kind == "ssh":
                self.snap.ssh_connections += self.access.connections_opened
                self.snap.remote_commands += self.access.commands_run
        self.snap.gather_seconds = round(time.monotonic() - self.started, 3)
        progress.event(self.snap.role, self.snap.spec, "done" if self.snap.reachable else "failed",
                       "" if self.snap.reachable else self.snap.unreachable_reason or "")
        return self.snap


def connection_text(spec: HostSpec, options: AccessOptions, result: str, cause: str, reason: str) -> str:
    """probes.SSH_CONNECT's "field<TAB>value" lines (a value never holds a tab or newline)."""
    uid = os.geteuid()
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        user = ""
    fields = {
        "result": result, "cause": cause, "reason": reason, "user": user, "uid": str(uid),
        "login": spec.user or "", "host": spec.host or "", "port": str(spec.port or ""),
        "ssh_config": options.ssh_config or "", "sudo": "1" if options.sudo else "0",
        "strict": options.strict_host_key_checking,
    }
    return "".join(f"{k}\t{' '.join(v.split())}\n" for k, v in fields.items())


def _after(first: Future[None], then: Callable[[], None]) -> None:
    first.result()
    then()


def gather_pair(
    source: HostSpec,
    dest: HostSpec,
    plan: MigrationPlan,
    source_libvirt: str | None = None,
    dest_libvirt: str | None = None,
    options: AccessOptions | None = None,
    only: list[str] | None = None,
    opening: dict[str, Opening | None] | None = None,
) -> tuple[HostSnapshot, HostSnapshot]:
    """Snapshots of the source and the destination for ``plan``; never raises for an unreachable host.

    ``only``: the probe keys the selected rules need (preflight.gather.plan.probes_for); None: all.
    ``opening``: by role, a connection already being opened for that host (same spec and options).
    """
    options = options or AccessOptions()
    early = opening or {}
    src = _Host(source, "source", source_libvirt, options, only, early.get("source"))
    dst = _Host(dest, "destination", dest_libvirt, options, only, early.get("destination"))
    names_wanted, paths_wanted = wants_names(only), wants_paths(only)
    with ThreadPoolExecutor(max_workers=PAIR_THREADS, thread_name_prefix="gather") as pool:
        try:
            src_up, dst_up = pool.submit(src.connect), pool.submit(dst.connect)
            src_lv, dst_lv = (
                pool.submit(_after, up, host.gather_libvirt) if host.rides_master else pool.submit(host.gather_libvirt)
                for host, up in ((src, src_up), (dst, dst_up))
            )

            # Each host's script starts as soon as what it needs is there (the guests' disk paths
            # from the source's libvirt, its own connection), not when the slowest step of phase 1
            # (usually the destination's qemu+ssh libvirt open) ends.
            asked = destination_names(plan, None) if names_wanted else []  # known from the plan alone

            def source_script() -> None:
                src_lv.result(), src_up.result()
                src.gather(asked, guest_disk_paths(src.snap.libvirt, plan) if paths_wanted else [])

            def dest_script() -> None:
                src_lv.result(), dst_up.result()
                dst.gather((), guest_disk_paths(src.snap.libvirt, plan) if paths_wanted else [],
                           emulators=guest_emulators(src.snap.libvirt, plan) if wants_emulators(only) else ())

            def libvirt_names() -> list[str]:
                # the name libvirt on the destination will put in the migration URI: resolve it on
                # the source while the destination's script still runs
                src_up.result(), dst_lv.result()
                late = destination_names(plan, dst.snap, asked) if names_wanted else []
                if late:
                    src.gather(late, (), names_only=True)
                return late

            waits = [pool.submit(source_script), pool.submit(dest_script)]
            late = pool.submit(libvirt_names).result()
            for fut in waits:
                fut.result()
            # Names only the destination's files reveal (qemu.conf migration_host; its hostname when
            # libvirt could not say): rare, one more names-only run.
            learned = destination_names(plan, dst.snap, asked + late) if names_wanted else []
            if learned:
                src.gather(learned, (), names_only=True)
        finally:
            src_snap, dst_snap = src.finish(), dst.finish()
    return src_snap, dst_snap


def gather_host(
    spec: HostSpec,
    role: str = "source",
    libvirt_uri: str | None = None,
    names: Iterable[str] = (),
    paths: Iterable[str] | None = None,
    options: AccessOptions | None = None,
    opening: Opening | None = None,
) -> HostSnapshot:
    """One host's snapshot, for `preflight facts`.

    Without ``paths`` the disks of every guest this host's libvirt knows are examined;
    a destination gathered alone cannot know the source's paths: pass them to compare later.
    ``opening``: its connection, already being opened (same spec and options).
    """
    host = _Host(spec, role, libvirt_uri, options or AccessOptions(), opening=opening)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="gather") as pool:
        try:
            up = pool.submit(host.connect)
            lv = pool.submit(_after, up, host.gather_libvirt) if host.rides_master else pool.submit(host.gather_libvirt)
            up.result(), lv.result()
            if paths is None:
                every = MigrationPlan(
                    guests=[g.name for g in (host.snap.libvirt.guests if host.snap.libvirt else [])],
                    dest_uri="",
                )
                paths = guest_disk_paths(host.snap.libvirt, every)
            host.gather(names, paths)
        finally:
            snap = host.finish()
    return snap
