"""`preflight fleet -i INVENTORY`: every host of an Ansible inventory gathered once, every ordered pair
inside a group judged offline (preflight.fleet). Registered on the app by preflight.cli."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, List, Optional  # noqa: UP035 - typer reads these at run time

import click
import typer

import preflight.cli_options as opt

if TYPE_CHECKING:
    from preflight.access import AccessOptions
    from preflight.fleet.hosts import FleetHost
    from preflight.fleet.inventory import Inventory as InventoryModel
    from preflight.fleet.judge import FleetResult
    from preflight.fleet.pairs import Pair, PlanFlags
    from preflight.fleet.run import FleetGather
    from preflight.model.facts import HostSnapshot

Usage = Callable[[str], typer.Exit]

FLEET = "Fleet"
FORMATS = ("text", "json")
DEFAULT_FORKS = 8
MAX_FORKS = 64


def _forks(value: int) -> int:
    if not 1 <= value <= MAX_FORKS:
        raise typer.BadParameter(f"must be 1-{MAX_FORKS}, got {value}")
    return value


Inventory = Annotated[str, typer.Option("--inventory", "-i", metavar="FILE", rich_help_panel=FLEET,
                                        help="Ansible inventory: INI, or YAML (.yml/.yaml/.json).")]
Limit = Annotated[Optional[str], typer.Option(  # noqa: UP045 - typer reads it at run time
    "--limit", "-l", metavar="PATTERN", rich_help_panel=FLEET,
    help="Hosts to judge, as Ansible's patterns: names, groups, globs, ~regex, a:b (or), &x (and), !x (not).")]
Groups = Annotated[List[str], typer.Option(  # noqa: UP006 - typer reads it at run time
    "--group", "-g", metavar="GROUP", rich_help_panel=FLEET,
    help="Pair hosts inside these groups only (repeatable) \\[default: every group but all].")]
Forks = Annotated[int, typer.Option("--forks", "-f", metavar="N", callback=_forks, rich_help_panel=FLEET,
                                    help=f"Hosts gathered at once (1-{MAX_FORKS}).")]
Format = Annotated[str, typer.Option("--format", click_type=click.Choice(FORMATS), metavar="FORMAT",
                                     rich_help_panel=opt.OUTPUT, help="text (a matrix per group) or json.")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", rich_help_panel=opt.OUTPUT,
                                       help="JSON: every finding of every pair (default: failures and unknowns).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", rich_help_panel=opt.OUTPUT,
                                     help="No progress on the terminal; text: only the verdict line.")]
SaveFacts = Annotated[Optional[str], typer.Option(  # noqa: UP045 - typer reads it at run time
    "--save-facts", metavar="DIR", rich_help_panel=opt.OUTPUT,
    help="Also save every host's snapshot (DIR/NAME.json) for a later --facts DIR.")]
Facts = Annotated[Optional[str], typer.Option(  # noqa: UP045 - typer reads it at run time
    "--facts", metavar="DIR", rich_help_panel=FLEET,
    help="Judge the snapshots saved by --save-facts DIR instead of gathering (no host is contacted).")]


def register(app: typer.Typer) -> None:
    app.command("fleet")(fleet)


def fleet(
    inventory: Inventory,
    limit: Limit = None,
    group: Groups = [],  # noqa: B006 - typer copies list defaults
    forks: Forks = DEFAULT_FORKS,
    p2p: opt.P2p = False,
    tunnelled: opt.Tunnelled = False,
    concurrency: opt.Concurrency = None,
    sudo: opt.Sudo = False,
    ssh_config: opt.SshConfig = None,
    timeout: opt.Timeout = 10.0,
    fmt: Format = "text",
    output: opt.Output = None,
    verbose: Verbose = False,
    quiet: Quiet = False,
    save_facts: SaveFacts = None,
    facts: Facts = None,
    select: opt.Select = [],  # noqa: B006
    ignore: opt.Ignore = [],  # noqa: B006
) -> None:
    """Judge every ordered pair of hosts inside each group of an Ansible inventory: can each host live-migrate all its running guests to each other one? Each host is gathered once.

    Example: preflight fleet -i hosts.ini --limit 'kvm:!kvm07' --forks 16

    The inventory is read as Ansible reads it: groups, \\[g:children], \\[g:vars], host ranges, host:port, group_vars/ and host_vars/ beside it, Ansible's variable precedence. Pairs: every ordered pair of hosts sharing a group (every group but all; --group to choose). Each host is also judged alone (as lint).

    Hosts: ansible_host / ansible_user / ansible_port (validated: a value ssh could read as an option is refused with its file:line), ansible_connection=local, ansible_become (sudo). preflight_root=DIR judges an image root instead (CI), with preflight_libvirt=test:///FILE.xml. Never used (a warning names each with its file:line): ansible_ssh_common_args / _extra_args, private keys, passwords, ansible_ssh_executable: put ProxyJump / IdentityFile in an ssh config file and pass --ssh-config FILE.

    Each pair is judged as `check --live GUESTS qemu+ssh://DEST/system` with every running guest of the source (DEST: the inventory name, or preflight_dest_name).

    Exit codes: 0 every pair READY, 1 a pair NOT READY, 2 usage or inventory error, 3 a host could not be inspected (or nothing NOT READY but something UNKNOWN), 4 internal error, 130 interrupted (what was judged so far is printed).
    """
    from preflight.cli import chosen_rules, fail_usage, write_output
    from preflight.report.output import OutputError, facts_directory, output_file

    try:
        out_path = output_file(output) if output is not None else None
        save_dir = facts_directory(save_facts, create=False) if save_facts is not None else None
    except OutputError as exc:
        raise fail_usage(str(exc)) from None
    if facts is not None and save_facts is not None:
        raise fail_usage("--facts judges saved snapshots; --save-facts saves gathered ones: not both")
    chosen = chosen_rules(select, ignore)
    from preflight.access import AccessOptions
    from preflight.fleet.pairs import PlanFlags

    flags = PlanFlags(live=True, p2p=p2p, tunnelled=tunnelled, concurrency=concurrency)
    _check_flags(flags, fail_usage)
    base = AccessOptions(timeout=timeout, sudo=sudo, ssh_config=str(ssh_config) if ssh_config else None)
    setup = _load(inventory, limit, group, base, fail_usage)
    if save_dir is not None and out_path is not None:  # the report written over a saved snapshot would replace it
        from preflight.fleet.facts import file_name

        if out_path.resolve() in {(save_dir / file_name(h)).resolve() for h in setup.hosts}:
            raise fail_usage(f"{output}: written twice in one run (--save-facts {save_facts} writes it too)")
    loaded = None
    if facts is not None:
        from preflight.fleet.facts import FactsError
        from preflight.fleet.facts import load as load_facts

        try:
            loaded = load_facts(Path(facts), list(setup.hosts))
        except FactsError as exc:
            raise fail_usage(str(exc)) from None
    result = _gather_and_judge(setup, flags, forks, chosen, quiet, keep_passes=verbose, loaded=loaded)
    if save_dir is not None:
        from preflight.fleet.facts import save

        try:
            save(facts_directory(str(save_dir), create=True), result.snapshots)
        except (OutputError, OSError) as exc:
            raise fail_usage(str(exc)) from None
    from preflight.fleet import matrix

    if fmt == "json":
        text = matrix.to_json(result, verbose)
    else:
        text = matrix.summary(result) + "\n" if quiet else matrix.to_text(result)
    write_output(text, out_path)
    raise typer.Exit(INTERRUPTED if result.interrupted else int(result.exit_code))


INTERRUPTED = 130  # 128 + SIGINT, as a shell reports it


def _check_flags(flags: PlanFlags, fail_usage: Usage) -> None:
    from preflight.model.plan import MigrationPlan
    from preflight.plan_checks import PlanError, check_flags

    try:
        check_flags(MigrationPlan(guests=[], dest_uri="qemu+ssh://host/system", live=flags.live, p2p=flags.p2p,
                                  tunnelled=flags.tunnelled))
    except PlanError as exc:
        raise fail_usage(str(exc)) from None


@dataclass
class _Setup:
    path: str
    limit: str | None
    inv: InventoryModel
    hosts: dict[str, FleetHost]
    pairs: dict[Pair, list[str]]
    groups: list[str]
    unmatched: list[str]


def _load(path: str, limit: str | None, groups: list[str], base: AccessOptions, fail_usage: Usage) -> _Setup:
    """Inventory -> selected, validated hosts -> pairs; every problem is a usage error (exit 2)."""
    from preflight.fleet import hosts as fleet_hosts
    from preflight.fleet.inventory import InventoryError, load
    from preflight.fleet.pairs import ordered_pairs, pairing_groups
    from preflight.fleet.patterns import PatternError, select
    from preflight.textsafe import escape_control

    try:
        inv = load(path)
        names, unmatched = select(inv, limit)
        for g in groups:
            if g not in inv.groups:
                raise PatternError(f"--group {g!r}: no such group in {path}")
    except (InventoryError, PatternError) as exc:
        raise fail_usage(str(exc)) from None
    for p in unmatched:
        sys.stderr.write(escape_control(f"preflight: warning: --limit {p!r} matches no host or group\n"))
    if not names:
        raise fail_usage(f"{path}: no host left to judge" + (f" with --limit {limit}" if limit else ""))
    built: dict[str, FleetHost] = {}
    problems: list[str] = []
    for name in names:
        try:
            built[name] = fleet_hosts.build(inv, name, base)
        except InventoryError as exc:
            problems.append(str(exc))
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise fail_usage("; ".join(problems[:5]) + more)
    _warn_ignored(built)
    pairing = pairing_groups(inv, groups)
    pairs = ordered_pairs(inv, names, pairing)
    if not pairs:
        raise fail_usage(f"{path}: no two selected hosts share a group: no pair to judge "
                         "(--group all pairs every host with every other)")
    return _Setup(path, limit, inv, built, pairs, pairing, unmatched)


def _warn_ignored(hosts: dict[str, FleetHost]) -> None:
    """One warning per ignored variable and file:line, naming its hosts (a group's var: one line, not 200)."""
    from preflight.textsafe import escape_control

    by: dict[tuple[str, str], list[str]] = {}
    advice: dict[tuple[str, str], str] = {}
    for name, fh in hosts.items():
        for i in fh.ignored:
            by.setdefault((i.variable, i.where), []).append(name)
            advice[(i.variable, i.where)] = i.advice
    for (variable, where), names in by.items():
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        sys.stderr.write(escape_control(f"preflight: warning: {where}: {variable} (host(s) {shown}) is ignored: "
                                        f"its value is never read nor passed to ssh; "
                                        f"{advice[(variable, where)]}\n"))


def _gather_and_judge(setup: _Setup, flags: PlanFlags, forks: int, rules: list[Any], quiet: bool,
                      keep_passes: bool = False, loaded: dict[str, HostSnapshot] | None = None) -> FleetResult:
    """Gather (Ctrl-C: stop, close every ssh master, judge what was gathered) and judge."""
    import contextlib

    from preflight.access import cleanup
    from preflight.fleet.judge import FleetResult, judge_pairs, lint_hosts
    from preflight.fleet.progress import FleetProgress
    from preflight.fleet.run import FleetGather

    cancel = threading.Event()
    shown = not quiet and sys.stderr.isatty() and loaded is None
    progress = FleetProgress(sys.stderr) if shown else None
    gather = FleetGather(setup.hosts, list(setup.pairs), flags, forks, cancel, progress)
    threading.Thread(target=_warm_up, name="warm-up", daemon=True).start()
    started = time.monotonic()

    stop_judging = threading.Event()

    def interrupted(signum: int, _frame: Any) -> None:
        if not gather.finished:
            cancel.set()  # the watcher closes the masters; what was gathered is judged
            return
        stop_judging.set()  # judging: the pairs left are UNKNOWN; one more Ctrl-C exits at once
        signal.signal(signal.SIGINT, previous)

    previous = signal.getsignal(signal.SIGINT)
    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        signal.signal(signal.SIGINT, interrupted)
    try:
        if loaded is not None:  # --facts: judged as saved, nothing gathered
            gather.snapshots.update(loaded)
            gather.finished = True
        else:
            with progress if progress is not None else contextlib.nullcontext():
                threading.Thread(target=_close_on_cancel, args=(cancel, gather), name="fleet-cancel",
                                 daemon=True).start()
                gather.run()
        if cancel.is_set():
            cleanup.close_all()
            sys.stderr.write("preflight: interrupted: ssh connections closed; judging what was gathered\n")
        with gather.lock:  # a step still ending (its master just closed) may add one
            snapshots = dict(gather.snapshots)
        if cancel.is_set():  # a host that ended while its master was being closed was not seen: not judged
            snapshots = {h: s for h, s in snapshots.items() if h in gather.ended_before_cancel}
        # a Ctrl-C while judging: the pairs not judged yet are UNKNOWN, what was judged is printed
        pairs = judge_pairs(setup.hosts, snapshots, setup.pairs, flags, rules, cancel=stop_judging,
                            keep_passes=keep_passes)
        lints = lint_hosts(setup.hosts, snapshots, setup.pairs, flags, rules, cancel=stop_judging)
    finally:
        if in_main and signal.getsignal(signal.SIGINT) is interrupted:
            signal.signal(signal.SIGINT, previous)
    stopped = cancel.is_set() or stop_judging.is_set()
    return FleetResult(setup.path, setup.limit, setup.hosts, snapshots, pairs, setup.groups, interrupted=stopped,
                       seconds=time.monotonic() - started, unmatched=setup.unmatched, lints=lints)


def _close_on_cancel(cancel: threading.Event, gather: FleetGather) -> None:
    """Ctrl-C: note which hosts had ended, then close every ssh master so the steps in flight end now."""
    from preflight.access import cleanup

    while not cancel.wait(0.1):
        if gather.finished:
            return
    if not gather.finished:
        gather.mark_cancelled()
        cleanup.close_all()


def _warm_up() -> None:
    """While the hosts answer: import the rules and compile the Augeas lenses (as `check` does)."""
    from preflight.inspect import _prepare_judging

    _prepare_judging()
