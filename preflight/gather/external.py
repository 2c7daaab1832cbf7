"""Gather one host through a transport someone else owns (Ansible's connection), judge on the controller.

The host runs the same gather script, with the same arguments, as `preflight check` runs over its
own ssh (preflight.gather.script.run_gather); only the transport differs: the caller's ``run``
takes ONE shell command line (what ssh, and Ansible's connection plugins, hand the remote shell)
built here with every word quoted (sh -c SCRIPT preflight-gather ARGS), so no name or path from a
host or a plan is ever read as shell syntax. libvirt facts are read on this machine over a
read-only connection whose URI preflight.uri builds from a validated HostSpec.

Unknown is not pass: a host whose libvirt could not be opened (or was not asked) keeps the reason;
a script that stopped early leaves every key it did not answer as an error with its last words.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

from preflight.access.base import CommandResult, HostAccess
from preflight.access.spec import HostSpec
from preflight.gather.libvirt_facts import gather_libvirt
from preflight.gather.plan import destination_names, guest_disk_paths, guest_emulators
from preflight.gather.script import run_gather
from preflight.model.facts import Availability, HostMode, HostSnapshot, LibvirtFacts
from preflight.model.plan import MigrationPlan
from preflight.uri import libvirt_uri

# run(command_line, stdin) -> (rc, stdout, stderr); raises whatever the transport raises when it cannot connect
RunCommand = Callable[[str, bytes], tuple[int, str, str]]

# The script travels on stdin and is read whole (to EOF) before it runs, so no command inside it can
# read its rest as input (the reason preflight's own transports pass it as an argument); on stdin,
# because a transport given no input may allocate a terminal (Ansible's ssh uses -tt then), whose
# hang-up kills the script's background jobs and whose line discipline rewrites its output.
READ_THEN_RUN = 'script=$(cat) && exec sh -c "$script" preflight-gather "$@"'

LIBVIRT_TIMEOUT_S = 30.0  # a qemu+ssh open chains ssh, virt-ssh-helper and the RPC handshake
NOT_ASKED = "not gathered: libvirt facts were switched off (libvirt: false)"
ROLES = ("source", "destination")
PLAN_FLAGS = ("live", "p2p", "tunnelled", "copy_storage_all", "copy_storage_inc", "unsafe", "offline", "tls")


class CommandLineAccess(HostAccess):
    """HostAccess over a caller's "run this command line with this input"; every word quoted here.

    Privilege escalation is the caller's (Ansible's become wraps the command line)."""

    kind = "external"

    def __init__(self, run: RunCommand) -> None:
        self._run = run
        self.connections_opened = 0
        self.commands_run = 0

    def run_script(self, script: str, timeout: float, args: Sequence[str] = ()) -> CommandResult:
        # ``timeout`` is the transport's business (Ansible: the task's timeout); each command
        # inside the script stays bounded by its own t: word.
        self.commands_run += 1
        rc, out, err = self._run(command_line(args), script.encode("utf-8"))
        return CommandResult(rc, out, err)


def command_line(args: Sequence[str]) -> str:
    """``sh -c READ_THEN_RUN preflight-gather ARGS``, each word shell-quoted: names and paths stay data."""
    return shlex.join(["sh", "-c", READ_THEN_RUN, "preflight-gather", *args])


def plan_from(options: Mapping[str, Any]) -> MigrationPlan:
    """A MigrationPlan from a mapping (an Ansible task's ``plan``), checked as `preflight check` checks
    its words (preflight.plan_checks); ValueError says what is wrong."""
    from preflight.plan_checks import check_plan

    known = {"guests", "dest_uri", "all_running", "concurrency", "migrate_uri", *PLAN_FLAGS}
    extra = sorted(str(k) for k in options if k not in known)
    if extra:
        raise ValueError(f"plan: unknown key(s) {', '.join(extra)}; known: {', '.join(sorted(known))}")
    dest_uri = options.get("dest_uri")
    if not isinstance(dest_uri, str) or "://" not in dest_uri:
        raise ValueError("plan.dest_uri: the destination URI, e.g. qemu+ssh://host2.example.com/system")
    guests = options.get("guests") or []
    if not isinstance(guests, list) or not all(isinstance(g, str) for g in guests):
        raise ValueError("plan.guests: a list of guest names")
    flags = {k: _bool(options.get(k, False), k) for k in ("all_running", *PLAN_FLAGS)}
    if not guests and not flags["all_running"]:
        raise ValueError("plan: name at least one guest, or set all_running: true")
    conc = options.get("concurrency")
    if conc is not None and (isinstance(conc, bool) or not isinstance(conc, int) or conc < 1):
        raise ValueError("plan.concurrency: a whole number, at least 1")
    migrate_uri = options.get("migrate_uri")
    if migrate_uri is not None and not isinstance(migrate_uri, str):
        raise ValueError("plan.migrate_uri: a string")
    plan = MigrationPlan(guests=list(guests), dest_uri=dest_uri, concurrency=conc, migrate_uri=migrate_uri)
    for key, value in flags.items():
        setattr(plan, key, value)
    check_plan(plan)
    return plan


def _bool(value: object, key: str) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError(f"plan.{key}: true or false, not {type(value).__name__}")


def snapshot_from(data: object, role: str) -> HostSnapshot:
    """A snapshot from its JSON dict (an Ansible fact) in ``role``; SnapshotError says what is wrong.

    A JSON round trip first: Ansible hands back its own str/int subclasses (origin-tagged values),
    which the snapshot's strict schema does not take for the plain types it wrote."""
    try:
        plain = json.loads(json.dumps(data))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"not JSON data: {exc}") from None
    snap = HostSnapshot.from_dict(plain)
    return dataclasses.replace(snap, role=role)


def host_libvirt(spec: HostSpec, enabled: bool = True, timeout: float = LIBVIRT_TIMEOUT_S) -> LibvirtFacts:
    """The host's libvirt facts, read from this machine: qemu:///system for a local host, else
    qemu+ssh://[user@]host[:port]/system with host keys verified (built by preflight.uri only)."""
    uri = libvirt_uri(spec, verify_host_key=True) or ""
    if not enabled:  # NOT_AVAILABLE: not asked (UNKNOWN on a live host; DMN001 does not call it a failure)
        return LibvirtFacts(uri=uri, status=Availability.NOT_AVAILABLE, error=NOT_ASKED)
    return gather_libvirt(uri, timeout=timeout)


def not_gathered(uri: str, why: str) -> LibvirtFacts:
    """libvirt facts that were not read, with why: every rule that needs them is UNKNOWN."""
    return LibvirtFacts(uri=uri, status=Availability.ERROR, error=why)


@dataclasses.dataclass(frozen=True)
class Wants:
    """What one script run asks: the names to resolve, the disk paths and emulators to examine."""

    names: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    emulators: tuple[str, ...] = ()


def source_wants(plan: MigrationPlan, own: LibvirtFacts | None, dest: HostSnapshot | None = None,
                 asked: Sequence[str] = ()) -> Wants:
    """The source resolves the destination's names (from the plan, and from ``dest``'s snapshot when
    known) and examines its own planned guests' disks."""
    return Wants(tuple(destination_names(plan, dest, asked)), tuple(guest_disk_paths(own, plan)))


def dest_wants(plan: MigrationPlan, source: HostSnapshot) -> Wants:
    """The destination examines the source's planned guests' disk paths and emulators."""
    return Wants((), tuple(guest_disk_paths(source.libvirt, plan)), tuple(guest_emulators(source.libvirt, plan)))


def gather(run: RunCommand, spec: HostSpec, role: str, libvirt: LibvirtFacts | Callable[[], LibvirtFacts],
           wants: Wants, command_timeout: float = 10.0) -> HostSnapshot:
    """One host's snapshot: libvirt facts plus one script run through ``run``.

    ``libvirt``: facts already read (the source's: its guests' disk paths come from them), or how to
    read them, then done beside the script (a destination's script needs nothing from its libvirt).
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    started = time.monotonic()
    mode = HostMode.LOCAL if spec.kind == "local" else HostMode.SSH
    snap = HostSnapshot(role=role, spec=str(spec), mode=mode, gathered_at=datetime.now(timezone.utc).isoformat())
    access = CommandLineAccess(run)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="libvirt") as pool:
        pending = pool.submit(libvirt) if callable(libvirt) else None
        snap.probes.update(run_gather(access, wants.names, wants.paths, command_timeout=command_timeout,
                                      emulators=wants.emulators))
        snap.libvirt = pending.result() if pending is not None else libvirt  # type: ignore[assignment]
    snap.remote_commands = access.commands_run
    snap.gather_seconds = round(time.monotonic() - started, 3)
    return snap


def add_names(run: RunCommand, snap: HostSnapshot, names: Sequence[str], command_timeout: float = 10.0
              ) -> HostSnapshot:
    """``snap`` plus a names-only run for ``names`` (those learned from the destination's snapshot)."""
    out = dataclasses.replace(snap, probes=dict(snap.probes))
    if names:
        access = CommandLineAccess(run)
        out.probes.update(run_gather(access, names, (), command_timeout=command_timeout, names_only=True))
        out.remote_commands += access.commands_run
    return out


VIRSH_FLAGS = {"live": "--live", "p2p": "--p2p", "tunnelled": "--tunnelled", "copy_storage_all": "--copy-storage-all",
               "copy_storage_inc": "--copy-storage-inc", "unsafe": "--unsafe", "offline": "--offline", "tls": "--tls"}


def planned_guests(plan: MigrationPlan, source: HostSnapshot) -> list[str]:
    """The guests the plan moves: those named, or the source's running ones (all_running)."""
    named = list(plan.guests)
    if plan.all_running and source.libvirt is not None and source.libvirt.ok:
        named += [g.name for g in source.libvirt.guests if g.state == "running"]
    return list(dict.fromkeys(named))


def migrate_commands(plan: MigrationPlan, source: HostSnapshot) -> list[str]:
    """One `virsh migrate` line per planned guest, every word shell-quoted and control characters
    escaped (a guest name comes from the host)."""
    from preflight.textsafe import escape_control

    flags = [flag for key, flag in VIRSH_FLAGS.items() if getattr(plan, key)]
    if plan.migrate_uri:
        flags += ["--migrateuri", plan.migrate_uri]
    return [escape_control(shlex.join(["virsh", "migrate", *flags, "--", guest, plan.dest_uri]), keep_newlines=False)
            for guest in planned_guests(plan, source)]


def judge(plan: MigrationPlan, source: HostSnapshot, dest: HostSnapshot, select: Sequence[str] = (),
          ignore: Sequence[str] = (), fail_on: str = "error") -> dict[str, Any]:
    """The engine's verdict for the pair as `preflight check --format json` prints it (host strings
    escaped), plus the failing and unknown rules and, when READY, the `virsh migrate` commands."""
    from preflight.config import FAIL_ON
    from preflight.engine import evaluate
    from preflight.report.machine import to_json
    from preflight.rules import select as select_rules

    if fail_on not in FAIL_ON:
        raise ValueError(f"fail_on must be one of {', '.join(FAIL_ON)}")
    rules = select_rules(list(select), list(ignore)) if select or ignore else None
    report = evaluate(plan, dataclasses.replace(source, role="source"), dataclasses.replace(dest, role="destination"),
                      rules)
    report.fail_on = fail_on
    out: dict[str, Any] = json.loads(to_json(report))
    out["failing_rules"] = list(dict.fromkeys(f.rule for f in report.blocking_failures))
    out["unknown_rules"] = list(dict.fromkeys(f.rule for f in report.blocking_unknowns))
    out["migrate_commands"] = migrate_commands(plan, source) if report.verdict == "ready" else []
    return out


def verdict_message(result: Mapping[str, Any]) -> str:
    """One line per blocking finding (already escaped by the JSON report): what fails the play."""
    blocking = set(result["failing_rules"]) | set(result["unknown_rules"])
    lines = [f"{result['verdict'].upper()}: {result['plan']['dest_uri']}"]
    for f in result["findings"]:
        if f["rule"] in blocking and f["status"] in ("fail", "unknown"):
            where = f" ({f['file']}:{f['line']})" if f.get("file") and f.get("line") else ""
            lines.append(f"{f['rule']} {f['status'].upper()} [{f['host']}]{where}: {f['message']}")
    for host in result["hosts"].values():
        if not host["reachable"]:
            lines.append(f"{host['spec']}: unreachable: {host['unreachable_reason']}")
    return "\n".join(lines)
