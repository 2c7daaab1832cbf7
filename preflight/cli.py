"""The `preflight` command line (typer). Mirrors `virsh migrate` so a user can
put `preflight check` in front of the command they were about to run."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import traceback
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, List, Optional  # noqa: UP035 - typer reads these at run time

import click
import typer

import preflight.cli_options as opt  # not `from preflight import`: a stale package attribute after a sys.modules reset (pytester) would pair an old typer with the new
from preflight.exitcodes import ExitCode
from preflight.report.output import OutputError, facts_directory, output_file, write_file
from preflight.textsafe import escape_control

# The rule engine, the models and libvirt are imported where a command needs them, not here: `--help`
# and a usage error never load them, and a check starts its ssh handshakes before they load.
if TYPE_CHECKING:
    from preflight.config import Config, Waiver
    from preflight.engine import Report
    from preflight.model.facts import HostSnapshot
    from preflight.model.plan import MigrationPlan

DEBUG_ENV = "PREFLIGHT_DEBUG"


class _App(typer.Typer):
    """An unexpected error is one line and exit 4 (never 1 = NOT READY), no traceback, no locals:
    exception texts and locals can hold inspected file contents. PREFLIGHT_DEBUG=1 prints the traceback."""

    def __call__(self, *args: object, **kwargs: object) -> object:
        try:
            words = kwargs.get("args", args[0] if args else None)
            chosen = self.for_words(list(words) if isinstance(words, (list, tuple)) else sys.argv[1:])
            rv = typer.Typer.__call__(chosen, *args, standalone_mode=False, **kwargs)
        except click.exceptions.NoArgsIsHelpError as exc:  # `preflight check` alone: its help, as click does
            from typer import rich_utils

            rich_utils.rich_format_error(exc)
            raise SystemExit(exc.exit_code) from None
        except click.ClickException as exc:  # a usage error: one line, as ours are (no box, no usage dump)
            where = exc.ctx.command_path if isinstance(exc, click.UsageError) and exc.ctx else "preflight"
            print(f"preflight: error: {escape_control(exc.format_message(), keep_newlines=False)} "
                  f"(`{where} -h` for help)", file=sys.stderr)
            raise SystemExit(exc.exit_code) from None
        except click.exceptions.Abort:
            print("Aborted!", file=sys.stderr)
            raise SystemExit(1) from None
        except Exception as exc:
            if os.environ.get(DEBUG_ENV):  # frames and lines only (no locals), host text escaped
                sys.stderr.write(escape_control(traceback.format_exc()))
            detail = escape_control(f"{type(exc).__name__}: {exc}", keep_newlines=False)[:300]
            print(f"preflight: internal error: {detail} (run with {DEBUG_ENV}=1 for the traceback)",
                  file=sys.stderr)
            raise SystemExit(int(ExitCode.INTERNAL)) from None
        raise SystemExit(rv if isinstance(rv, int) else 0)  # non-standalone click returns typer.Exit's code

    def for_words(self, words: list[str]) -> typer.Typer:
        """The app that runs these words: for `preflight CMD ...` a copy holding CMD alone, as typer builds
        every registered command's click parameters from its signature on each call (~2 ms per command) and
        a LAZY_COMMANDS module is imported only when named; for anything else (--help, --version, shell
        completion, an unknown word) a copy holding every command, in the order of `preflight --help`."""
        import copy
        import importlib

        chosen = copy.copy(self)
        word = words[0] if words else ""
        named = [info for info in self.registered_commands if command_name(info) == word]
        if named:
            chosen.registered_commands = named
        elif word in LAZY_COMMANDS:
            chosen.registered_commands = []
            importlib.import_module(LAZY_COMMANDS[word]).register(chosen)
        else:
            chosen.registered_commands = list(self.registered_commands)
            for module in LAZY_COMMANDS.values():
                importlib.import_module(module).register(chosen)
        return chosen


def command_name(info: Any) -> str:
    """A registered command's name as typer derives it (`list_rules` registered as "rules" keeps that)."""
    return str(info.name or info.callback.__name__.lower().replace("_", "-"))


app = _App(
    add_completion=True,  # --install-completion, --show-completion (bash, zsh, fish, powershell)
    suggest_commands=False,  # click suggests a close command itself; typer's would repeat it
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    help="Will `virsh migrate --live GUEST DESTURI` work? Inspects both hosts, says why not, writes the fix.\n\n"
    "Exit codes: 0 ready, 1 not ready, 2 usage or configuration error, 3 could not inspect, 4 internal error; 141 the output's reader went away (| head).",
)

FORMATS = opt.FORMATS


def _print_version(value: bool) -> None:
    if value:
        from preflight import __version__

        print(f"preflight (migration-preflight) {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_print_version,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Will `virsh migrate --live GUEST DESTURI` work? Inspects both hosts, says why not, writes the fix."""


def fail_usage(message: str) -> typer.Exit:
    typer.echo(f"preflight: error: {escape_control(message, keep_newlines=False)}", err=True)
    return typer.Exit(int(ExitCode.USAGE))


def dest_spec_from_uri(uri: str) -> str:
    """qemu+ssh://root@host2:22/system -> ssh://root@host2:22 (validated; a HostSpecError is a ValueError)."""
    from preflight.uri import dest_spec_from_uri as from_uri

    return from_uri(uri)


def evaluate(plan: MigrationPlan, source: HostSnapshot, dest: HostSnapshot, rules: list[Any] | None = None,
             severity: dict[str, str] | None = None) -> Report:
    """preflight.engine.evaluate, imported when the hosts are gathered (a module attribute: tests replace it)."""
    from preflight.engine import evaluate as run

    return run(plan, source, dest, rules, severity=severity)


def build_plan(args: list[str], source_libvirt: str | None = None, **flags: object) -> MigrationPlan:
    """The plan from virsh-style words, checked as virsh and libvirt would (preflight.plan_checks)."""
    from preflight.model.plan import MigrationPlan
    from preflight.plan_checks import check_plan

    if not args:
        raise ValueError("missing DESTURI (e.g. qemu+ssh://host2.example.com/system)")
    *guests, dest_uri = args
    if "://" not in dest_uri:
        raise ValueError(f"the last argument must be the destination URI, got {dest_uri!r}")
    if not guests and not flags.get("all_running"):
        raise ValueError("name at least one GUEST, or pass --all-running")
    conc = flags.get("concurrency")
    if conc is not None and int(conc) < 1:  # type: ignore[call-overload]
        raise ValueError("--concurrency must be at least 1")
    plan = MigrationPlan(guests=list(guests), dest_uri=dest_uri, **flags)  # type: ignore[arg-type]
    check_plan(plan, source_libvirt)
    return plan


def libvirt_arg(uri: str | None, option: str) -> str | None:
    """A test:// URI naming a relative file (test://examples/host1.xml) made absolute from the current
    directory; libvirt would read the relative part as a host name and fail on a TLS certificate."""
    if uri is None or not uri.startswith("test://") or uri.startswith("test:///"):
        return uri
    rest = uri[len("test://"):]
    if not rest or rest.split("/", 1)[0] in ("localhost", "127.0.0.1"):
        return uri
    path = os.path.abspath(rest)
    if not os.path.isfile(path):
        raise ValueError(f"{option} {uri}: {path} is not a file (test:// takes an XML file; "
                         "an absolute path is test:///PATH)")
    return "test://" + path


def progress_shown(quiet: bool) -> contextlib.AbstractContextManager[object]:
    """Progress on stderr while gathering: on a terminal only, and not with --quiet."""
    from preflight.progress import TerminalProgress

    if quiet or not sys.stderr.isatty():
        return contextlib.nullcontext()
    return TerminalProgress(sys.stderr)


def load_snapshot(path: Path, role: str) -> HostSnapshot:
    from preflight.model.facts import HostSnapshot

    try:
        snap = HostSnapshot.load(path)
    except (OSError, ValueError) as exc:  # SnapshotError is a ValueError; UnsafePath an OSError
        raise ValueError(f"{path}: not a usable facts snapshot ({exc})") from None
    snap.role = role
    return snap


def write_output(text: str, output: Path | None) -> None:
    """stdout, or ``output`` (checked by output_file) written atomically; a failure is exit 2."""
    if output is None:
        sys.stdout.write(text)
        return
    try:
        write_file(output, text)
    except OutputError as exc:
        raise fail_usage(str(exc)) from None


def plan_and_snapshots(
    args: list[str], flags: dict[str, object], source: str, dest: str | None, source_libvirt: str | None,
    dest_libvirt: str | None, source_facts: Path | None, dest_facts: Path | None, sudo: bool,
    ssh_config: Path | None, timeout: float, only: list[str] | None = None, quiet: bool = False,
) -> tuple[MigrationPlan, HostSnapshot, HostSnapshot]:
    """The plan from virsh-style words, and both hosts' snapshots (loaded or gathered); usage errors exit 2."""
    from preflight.inspect import InspectError, inspect_pair

    try:
        plan = build_plan(args, source_libvirt=source_libvirt, **flags)
        dest_spec = dest or dest_spec_from_uri(plan.dest_uri)
        source_libvirt = libvirt_arg(source_libvirt, "--source-libvirt")
        dest_libvirt = libvirt_arg(dest_libvirt, "--dest-libvirt")
        src_snap = load_snapshot(source_facts, "source") if source_facts else None
        dst_snap = load_snapshot(dest_facts, "destination") if dest_facts else None
        with progress_shown(quiet or (src_snap is not None and dst_snap is not None)):
            src_snap, dst_snap = inspect_pair(plan, source, dest_spec, source_libvirt, dest_libvirt, src_snap,
                                              dst_snap, sudo=sudo, ssh_config=str(ssh_config) if ssh_config else None,
                                              timeout=timeout, only=only)
    except (ValueError, InspectError) as exc:
        raise fail_usage(str(exc)) from None
    return plan, src_snap, dst_snap


def save_snapshots(directory: Path, source: HostSnapshot, dest: HostSnapshot) -> None:
    """--save-facts: DIR made if missing (never through a symlink); each file replaced atomically."""
    try:
        facts_directory(str(directory), create=True)
        for name, snap in (("source.json", source), ("destination.json", dest)):
            try:
                snap.save(directory / name)
            except OSError as exc:
                raise OutputError(f"--save-facts: cannot write {directory / name}: {exc.strerror or exc}") from None
    except OutputError as exc:
        raise fail_usage(str(exc)) from None


def _split(values: list[str]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def chosen_rules(select: list[str], ignore: list[str]) -> list[Any]:
    """--select/--ignore; a key naming no rule is a usage error with the closest rule ids or slugs suggested."""
    import difflib

    from preflight.rules import ALL_RULES
    from preflight.rules import select as select_rules

    try:
        return select_rules(_split(select), _split(ignore))
    except ValueError as exc:
        words = [w for r in ALL_RULES for w in (r.ID, r.NAME)]
        words += sorted({r.ID.rstrip("0123456789") for r in ALL_RULES})  # the categories: NET, SSH, ...
        hints = []
        for key in _split(select) + _split(ignore):
            try:
                select_rules([key])
                continue
            except ValueError:
                pass
            close = difflib.get_close_matches(key, words, n=3) or difflib.get_close_matches(key.upper(), words, n=3)
            if close:
                hints.append(f"{key}: did you mean {' or '.join(close)}?")
        raise fail_usage(str(exc) + ("; " + "; ".join(hints) if hints else "")) from None


def load_policy(config_file: Path | None, no_config: bool, baseline: Path | None,
                config_baseline: bool = True) -> tuple[Config, list[tuple[str, Waiver]]]:
    """The config (given, found upward from the current directory, or none) and every waiver: the config's,
    its baseline's (unless ``config_baseline`` is off) and --baseline's. A bad file is a usage error."""
    from preflight.config import ConfigError, load_config, load_waiver_file

    if config_file is not None and no_config:
        raise fail_usage("--config and --no-config exclude each other")
    try:
        cfg = load_config(config_file, Path.cwd(), search=not no_config)
        waivers: list[tuple[str, Waiver]] = [("config", w) for w in cfg.waivers]
        files = ([cfg.baseline] if cfg.baseline is not None and config_baseline else []) + (
            [baseline] if baseline is not None else [])
        for f in files:
            waivers += [("baseline", w) for w in load_waiver_file(f)]
    except ConfigError as exc:
        raise fail_usage(str(exc)) from None
    return cfg, waivers


def selection(select: list[str], ignore: list[str], cfg: Config) -> tuple[list[Any], list[dict[str, str]]]:
    """--select replaces the config's select, --ignore adds to its ignore (as ruff does). Returns the rules
    and, for the report, every rule left out and why. Nothing selected is a usage error."""
    from preflight.rules import ALL_RULES
    from preflight.rules import _named as named

    where = cfg.source.name if cfg.source else "config"
    sel, sel_from = (_split(select), "--select") if _split(select) else (cfg.select, f"select in {where}")
    ignores = [(k, f"ignore in {where}") for k in cfg.ignore] + [(k, "--ignore") for k in _split(ignore)]
    chosen = chosen_rules(sel, [k for k, _ in ignores])
    if not chosen:
        raise fail_usage(f"no rule left to judge: {sel_from} {','.join(sel)} minus the ignored "
                         f"{','.join(k for k, _ in ignores)} selects nothing")
    left_out = []
    for r in ALL_RULES:
        if r in chosen:
            continue
        why = next((f"{src} {k}" for k, src in ignores if named(r, [k])), None)
        left_out.append({"rule": r.ID, "why": f"ignored ({why})" if why else f"not selected ({sel_from} "
                                                                               f"{','.join(sel)})"})
    return chosen, left_out


def output_formats(values: list[str], output: Path | None) -> list[tuple[str, Path]]:
    """--output-format FMT:PATH, each checked now (before any host is contacted); one file per path."""
    outs: list[tuple[str, Path]] = []
    taken = {os.path.abspath(output)} if output is not None else set()
    for value in values:
        fmt, sep, raw = value.partition(":")
        if not sep or fmt not in FORMATS or not raw:
            raise fail_usage(f"--output-format takes FORMAT:PATH with FORMAT one of {', '.join(FORMATS)}, "
                             f"got {value!r}")
        try:
            path = output_file(raw, "--output-format")
        except OutputError as exc:
            raise fail_usage(str(exc)) from None
        if os.path.abspath(path) in taken and not path.is_char_device():
            raise fail_usage(f"--output-format {value}: {raw} is written twice in one run")
        taken.add(os.path.abspath(path))
        outs.append((fmt, path))
    return outs


def rendered(report: Report, fmt: str, stream: Any, verbose: bool, color: str = "auto", quiet: bool = False) -> str:
    from preflight.report import machine, text

    if fmt == "json":
        return machine.to_json(report)
    if fmt == "sarif":
        return machine.to_sarif(report)
    if fmt == "junit":
        return machine.to_junit(report)
    if fmt == "github":
        from preflight.report import github

        return github.to_github(report)
    return (text.verdict_line(report, text.use_colour(stream, color)) + "\n" if quiet
            else text.render(report, stream, verbose=verbose, color=color))


def render(report: Report, fmt: str, output: Path | None, verbose: bool, color: str = "auto",
           quiet: bool = False, extra: list[tuple[str, Path]] | None = None) -> None:
    """The report on stdout or -o, and in each --output-format file (text there: no colour, not quiet)."""
    write_output(rendered(report, fmt, sys.stdout if output is None else None, verbose, color, quiet), output)
    for extra_fmt, path in extra or []:
        try:
            write_file(path, rendered(report, extra_fmt, None, verbose, "never"), "--output-format")
        except OutputError as exc:
            raise fail_usage(str(exc)) from None


def print_notes(report: Report, quiet: bool, verbose: bool) -> None:
    """Policy notes (expired/unused waivers, suppressions without a reason) on stderr; -v: the config used."""
    if verbose:
        used = report.config or "none (no preflight.toml or [tool.preflight] found)"
        print(f"preflight: config: {escape_control(used, keep_newlines=False)}", file=sys.stderr)
    if quiet:
        return
    for note in report.notes:
        print(f"preflight: {note.level}: {escape_control(note.message, keep_newlines=False)}", file=sys.stderr)


def policy_report(report: Report, cfg: Config, waivers: list[tuple[str, Waiver]], left_out: list[dict[str, str]],
                  fail_on: str | None) -> Report:
    """The run's policy on a fresh report: fail-on, what was left out, per-path settings, waivers."""
    from preflight.waivers import apply_policy

    report.fail_on = fail_on or cfg.fail_on or "error"
    report.config = str(cfg.source) if cfg.source else None
    judged = {f.rule for f in report.findings}
    report.not_selected = [d for d in left_out if d["rule"] not in judged]  # INS001 is judged whatever is selected
    apply_policy(report, cfg, waivers)
    return report


@app.command()
def check(
    args: opt.GuestsAndUri,
    live: opt.Live = False,
    p2p: opt.P2p = False,
    tunnelled: opt.Tunnelled = False,
    tls: opt.Tls = False,
    copy_storage_all: opt.CopyStorageAll = False,
    copy_storage_inc: opt.CopyStorageInc = False,
    unsafe: opt.Unsafe = False,
    offline: opt.Offline = False,
    migrateuri: opt.MigrateUri = None,
    all_running: opt.AllRunning = False,
    concurrency: opt.Concurrency = None,
    source: opt.Source = "local",
    dest: opt.Dest = None,
    source_libvirt: opt.SourceLibvirt = None,
    dest_libvirt: opt.DestLibvirt = None,
    source_facts: opt.SourceFacts = None,
    dest_facts: opt.DestFacts = None,
    sudo: opt.Sudo = False,
    ssh_config: opt.SshConfig = None,
    timeout: opt.Timeout = 10.0,
    fmt: opt.Format = "text",
    output: opt.Output = None,
    save_facts: opt.SaveFacts = None,
    verbose: opt.Verbose = False,
    color: opt.Color = "auto",
    quiet: opt.Quiet = False,
    select: opt.Select = [],  # noqa: B006 - typer copies list defaults
    ignore: opt.Ignore = [],  # noqa: B006
    exit_zero: opt.ExitZero = False,
    config_file: opt.ConfigFile = None,
    no_config: opt.NoConfig = False,
    baseline: opt.Baseline = None,
    fail_on: opt.FailOn = None,
    output_format: opt.OutputFormats = [],  # noqa: B006
) -> None:
    """Inspect the source and destination and judge the planned migration.

    Example: preflight check --live guest1 qemu+ssh://host2.example.com/system --concurrency 10

    SSH: one multiplexed connection per host, BatchMode (keys only, never a prompt), host keys verified against known_hosts; libvirt's read-only qemu+ssh connection rides that same connection (a --dest-libvirt URI is used as is).

    Values come from the live daemons (virt-admin, sshd -T) when they answer, else from the files, else from the compiled defaults of the installed release; each finding says which.

    An image root has no commands: those checks are skipped (not available in image mode) and names are judged on its /etc/hosts alone. Warnings do not change the exit code (unless --fail-on warning).

    Exit codes: 0 READY, 1 NOT READY, 2 usage or configuration error (bad arguments, config, snapshot or output path), 3 could not inspect, 4 internal error. --fail-on warning: a warning FAIL exits 1 too; --fail-on unknown: also a warning UNKNOWN exits 3; a waived finding never fails.

    Config: preflight.toml or \\[tool.preflight] in pyproject.toml, from the current directory upward (-v says which): select, ignore, \\[severity], concurrency, peers, fail-on, baseline, \\[\\[paths]], \\[\\[waivers]] (rule, host, subject, reason, expires). Inline: `# preflight: ignore\\[SSH001] reason` on the finding's line or the line above it; `# preflight: ignore-file\\[SSH001] reason` anywhere in the file for a setting it lacks (a compiled default).
    """
    report, settings = judged(args, dict(live=live, p2p=p2p, tunnelled=tunnelled, tls=tls,
                                         copy_storage_all=copy_storage_all, copy_storage_inc=copy_storage_inc,
                                         unsafe=unsafe, offline=offline, migrate_uri=migrateuri,
                                         all_running=all_running, concurrency=concurrency),
                              source, dest, source_libvirt, dest_libvirt, source_facts, dest_facts, sudo, ssh_config,
                              timeout, quiet, select, ignore, config_file, no_config, baseline, fail_on,
                              output=output, save_facts=save_facts, output_format=output_format)
    render(report, fmt, settings.output, verbose, color, quiet, settings.extra)
    print_notes(report, quiet, verbose)
    raise typer.Exit(0 if exit_zero else int(report.exit_code))


@dataclass
class RunFiles:
    output: Path | None = None
    facts_dir: Path | None = None
    extra: list[tuple[str, Path]] = field(default_factory=list)


def judged(args: list[str], flags: dict[str, object], source: str, dest: str | None, source_libvirt: str | None,
           dest_libvirt: str | None, source_facts: Path | None, dest_facts: Path | None, sudo: bool,
           ssh_config: Path | None, timeout: float, quiet: bool, select: list[str], ignore: list[str],
           config_file: Path | None, no_config: bool, baseline: Path | None, fail_on: str | None,
           output: str | None = None, save_facts: str | None = None, output_format: list[str] | None = None,
           config_baseline: bool = True) -> tuple[Report, RunFiles]:
    """check and baseline: every path and the policy checked before any host is contacted, the hosts
    gathered (only what the selected rules need), judged, and the policy applied."""
    files = RunFiles()
    try:
        files.output = output_file(output) if output is not None else None
        files.facts_dir = facts_directory(save_facts, create=False) if save_facts is not None else None
    except OutputError as exc:
        raise fail_usage(str(exc)) from None
    files.extra = output_formats(output_format or [], files.output)
    if files.facts_dir is not None:  # a report over a snapshot --save-facts writes: refused, as a path written twice
        saved = {os.path.abspath(files.facts_dir / name) for name in ("source.json", "destination.json")}
        reports = [("--output", files.output)] if files.output is not None else []
        for flag, path in reports + [("--output-format", p) for _, p in files.extra]:
            if os.path.abspath(path) in saved:
                raise fail_usage(f"{flag} {path}: --save-facts {save_facts} writes that file too "
                                 "(a path written twice in one run)")
    cfg, waivers = load_policy(config_file, no_config, baseline, config_baseline)
    chosen: list[Any] | None = None  # None: every rule, imported while the hosts are gathered
    left_out: list[dict[str, str]] = []
    if _split(select) or _split(ignore) or cfg.select or cfg.ignore:
        chosen, left_out = selection(select, ignore, cfg)
    if flags.get("concurrency") is None and cfg.concurrency is not None:
        flags = {**flags, "concurrency": cfg.concurrency}
    # a selection gathers only what its rules declare they need (NEEDS); no selection: every fact
    only = None
    if left_out:
        from preflight.gather.plan import probes_for

        only = probes_for(n for r in chosen or () for n in r.NEEDS)
    plan, src_snap, dst_snap = plan_and_snapshots(args, flags, source, dest, source_libvirt, dest_libvirt,
                                                  source_facts, dest_facts, sudo, ssh_config, timeout, only, quiet)
    if files.facts_dir is not None:
        save_snapshots(files.facts_dir, src_snap, dst_snap)
    report = evaluate(plan, src_snap, dst_snap, chosen, severity=cfg.severity)
    return policy_report(report, cfg, waivers, left_out, fail_on), files


def _date(value: Optional[str]) -> Optional[str]:
    import datetime

    if value is not None:
        try:
            day = datetime.date.fromisoformat(value)
        except ValueError:
            typer.echo(f"preflight: error: --expires takes a date YYYY-MM-DD, got {value!r}", err=True)
            raise typer.Exit(2) from None
        if day < datetime.date.today():  # waivers that never apply, each reported expired on every run
            typer.echo(f"preflight: error: --expires {value} is in the past: its waivers would never apply",
                       err=True)
            raise typer.Exit(2)
    return value


@app.command("baseline")
def baseline_cmd(
    args: opt.GuestsAndUri,
    output: str = typer.Option(..., "--output", "-o", metavar="FILE", rich_help_panel=opt.OUTPUT,
                               help="Baseline file to write (TOML, \\[\\[waivers]]); " + opt.OUTPUT_HOW),
    expires: Optional[str] = typer.Option(None, "--expires", metavar="YYYY-MM-DD", callback=_date,
                                          rich_help_panel=opt.POLICY,
                                          help="Every waiver written expires after this day."),
    live: opt.Live = False,
    p2p: opt.P2p = False,
    tunnelled: opt.Tunnelled = False,
    tls: opt.Tls = False,
    copy_storage_all: opt.CopyStorageAll = False,
    copy_storage_inc: opt.CopyStorageInc = False,
    unsafe: opt.Unsafe = False,
    offline: opt.Offline = False,
    migrateuri: opt.MigrateUri = None,
    all_running: opt.AllRunning = False,
    concurrency: opt.Concurrency = None,
    source: opt.Source = "local",
    dest: opt.Dest = None,
    source_libvirt: opt.SourceLibvirt = None,
    dest_libvirt: opt.DestLibvirt = None,
    source_facts: opt.SourceFacts = None,
    dest_facts: opt.DestFacts = None,
    sudo: opt.Sudo = False,
    ssh_config: opt.SshConfig = None,
    timeout: opt.Timeout = 10.0,
    quiet: opt.FixQuiet = False,
    select: opt.Select = [],  # noqa: B006 - typer copies list defaults
    ignore: opt.Ignore = [],  # noqa: B006
    config_file: opt.ConfigFile = None,
    no_config: opt.NoConfig = False,
) -> None:
    """Write a waiver for every finding that fails now (errors and warnings), to adopt the tool on an existing fleet: later checks with --baseline FILE (or baseline = "FILE" in preflight.toml) fail only on new findings. Same arguments as check.

    Example: preflight baseline --live guest1 qemu+ssh://host2/system --source images/host1 --dest images/host2 -o preflight-baseline.toml

    Each waiver's reason is "baseline: accepted on DATE": replace it with the real one. The config's own waivers and inline suppressions are applied first (not written again); its baseline is not (the new file replaces it). An UNKNOWN cannot be waived: it is counted on stderr, never written.

    Exit codes: 0 written, 2 usage or configuration error, 3 could not inspect (nothing written), 4 internal error.
    """
    import datetime

    from preflight.waivers import baseline_text

    report, files = judged(args, dict(live=live, p2p=p2p, tunnelled=tunnelled, tls=tls,
                                      copy_storage_all=copy_storage_all, copy_storage_inc=copy_storage_inc,
                                      unsafe=unsafe, offline=offline, migrate_uri=migrateuri,
                                      all_running=all_running, concurrency=concurrency),
                           source, dest, source_libvirt, dest_libvirt, source_facts, dest_facts, sudo, ssh_config,
                           timeout, quiet, select, ignore, config_file, no_config, None, "warning", output=output,
                           config_baseline=False)
    if report.unreachable:
        reasons = "; ".join(f"{s.role}: {s.unreachable_reason}" for s in report.unreachable)
        typer.echo(escape_control(f"preflight: error: could not inspect ({reasons}): no baseline written",
                                  keep_newlines=False), err=True)
        raise typer.Exit(int(ExitCode.COULD_NOT_INSPECT))
    assert files.output is not None
    text, count = baseline_text(report.findings, report.snapshots, files.output.resolve().parent,
                                datetime.date.today(), datetime.date.fromisoformat(expires) if expires else None)
    write_output(text, files.output)
    unknown = report.counts()["unknown"]
    typer.echo(escape_control(f"{output}: {count} waiver(s) written"
                              + (f"; {unknown} finding(s) could not be judged (UNKNOWN, never waived)" if unknown
                                 else ""), keep_newlines=False), err=True)
    raise typer.Exit(0)


@app.command()
def fix(
    args: opt.GuestsAndUri,
    live: opt.Live = False,
    p2p: opt.P2p = False,
    tunnelled: opt.Tunnelled = False,
    tls: opt.Tls = False,
    copy_storage_all: opt.CopyStorageAll = False,
    copy_storage_inc: opt.CopyStorageInc = False,
    unsafe: opt.Unsafe = False,
    offline: opt.Offline = False,
    migrateuri: opt.MigrateUri = None,
    all_running: opt.AllRunning = False,
    concurrency: opt.Concurrency = None,
    source: opt.Source = "local",
    dest: opt.Dest = None,
    source_libvirt: opt.SourceLibvirt = None,
    dest_libvirt: opt.DestLibvirt = None,
    source_facts: opt.SourceFacts = None,
    dest_facts: opt.DestFacts = None,
    diff: opt.FixDiff = None,
    output_dir: opt.FixOutputDir = None,
    write: bool = typer.Option(False, "--write", rich_help_panel=opt.FIX, help="Replace the files in place (local and image roots only; validated, backed up)."),
    backup_dir: opt.BackupDir = None,
    dest_address: opt.DestAddress = None,
    policy: Optional[str] = typer.Option(None, "--policy", rich_help_panel=opt.FIX, help="Hardening policy the fix must not loosen: cis."),
    host: opt.FixHost = None,
    fmt: opt.FixFormat = "text",
    verbose: opt.FixVerbose = False,
    select: opt.FixSelect = [],  # noqa: B006 - typer copies list defaults
    ignore: opt.FixIgnore = [],  # noqa: B006
    sudo: opt.Sudo = False,
    ssh_config: opt.SshConfig = None,
    timeout: opt.Timeout = 10.0,
    quiet: opt.FixQuiet = False,
    config_file: opt.ConfigFile = None,
    no_config: opt.NoConfig = False,
) -> None:
    """Corrected libvirtd.conf, sshd_config and /etc/hosts for the planned migration (diffs by default).

    Example: preflight fix --live guest1 qemu+ssh://host2/system --source IMG1 --dest IMG2 --diff --host source | patch -p1 -d IMG1

    A finding the config waives (or a baseline, or an inline suppression) is left as it is, as check counts it waived.

    Exit codes: 0 nothing left to change and the check after the fix says READY, 1 changes to apply (or not written, or an answer fix will not guess, e.g. --dest-address, or findings fix cannot change still block), 2 usage, 3 could not inspect, 4 internal error."""
    from preflight.fix.command import FixOptions, run, target_for
    from preflight.fix.context import POLICIES

    if policy is not None and policy not in POLICIES:
        raise fail_usage(f"--policy must be one of {', '.join(POLICIES)}")
    if diff and fmt != "text":
        raise fail_usage("--diff prints a plain diff; it does not combine with --format json (which holds the diffs)")
    cfg, waivers = load_policy(config_file, no_config, None)  # selection, severity, concurrency, waivers
    chosen, _ = selection(select, ignore, cfg)
    plan, src_snap, dst_snap = plan_and_snapshots(
        args, dict(live=live, p2p=p2p, tunnelled=tunnelled, tls=tls, copy_storage_all=copy_storage_all,
                   copy_storage_inc=copy_storage_inc, unsafe=unsafe, offline=offline, migrate_uri=migrateuri,
                   all_running=all_running, concurrency=concurrency if concurrency is not None else cfg.concurrency),
        source, dest, source_libvirt, dest_libvirt, source_facts, dest_facts, sudo, ssh_config, timeout,
        quiet=quiet)
    targets = {"source": target_for("source", src_snap.spec, source_facts is not None),
               "destination": target_for("destination", dst_snap.spec, dest_facts is not None)}
    report = evaluate(plan, src_snap, dst_snap, chosen, severity=cfg.severity)
    from preflight.waivers import apply_policy

    def policy_of(rep: Report) -> None:  # the same waivers as check: a waived finding is left as it is
        apply_policy(rep, cfg, waivers)

    policy_of(report)
    options = FixOptions(diff=diff, fmt=fmt, verbose=verbose, host=host, write=write, policy=policy,
                         output_dir=str(output_dir) if output_dir else None,
                         backup_dir=str(backup_dir) if backup_dir else None, dest_address=dest_address, rules=chosen,
                         apply_policy=policy_of)
    raise typer.Exit(run(report, targets, options))


@app.command()
def facts(
    spec: str = typer.Argument(..., help="local | ssh://\\[user@]host\\[:port] | image root directory."),
    output: str = typer.Option(..., "--output", "-o", metavar="FILE", help="Snapshot file (JSON) to write; " + opt.OUTPUT_HOW),
    libvirt: Optional[str] = typer.Option(None, "--libvirt", help="libvirt URI \\[default: from SPEC]."),
    role: str = typer.Option("source", "--role", help="source | destination (a source also resolves --resolve names)."),
    resolve: List[str] = typer.Option([], "--resolve", help="Name to resolve on this host (getent ahosts)."),
    disk: List[str] = typer.Option([], "--disk", help="Disk path to stat on this host."),
    sudo: opt.Sudo = False,
    ssh_config: opt.SshConfig = None,
    timeout: opt.Timeout = 10.0,
    quiet: opt.FixQuiet = False,
) -> None:
    """Gather one host's facts snapshot (JSON) to judge later with check --source-facts/--dest-facts.

    Example: preflight facts ssh://root@host2.example.com -o host2.json --role destination

    For identical results, `preflight check ... --save-facts DIR` saves both hosts' snapshots
    gathered for exactly that plan."""
    if role not in ("source", "destination"):
        raise fail_usage("--role must be source or destination")
    try:
        out_path = output_file(output)
    except OutputError as exc:
        raise fail_usage(str(exc)) from None
    from preflight.inspect import InspectError, inspect_one

    try:
        with progress_shown(quiet):
            snap = inspect_one(spec, role, libvirt_arg(libvirt, "--libvirt"), list(resolve), list(disk), sudo=sudo,
                               ssh_config=str(ssh_config) if ssh_config else None, timeout=timeout)
    except (InspectError, ValueError) as exc:
        raise fail_usage(str(exc)) from None
    write_output(snap.to_json() + "\n", out_path)
    ok = sum(1 for p in snap.probes.values() if p.ok)
    typer.echo(escape_control(f"{output}: {ok}/{len(snap.probes)} probes ok, libvirt "
                              f"{snap.libvirt.status.value if snap.libvirt else 'not consulted'}"
                              + ("" if snap.reachable else f"; UNREACHABLE: {snap.unreachable_reason}"),
                              keep_newlines=False))
    raise typer.Exit(0 if snap.reachable else int(ExitCode.COULD_NOT_INSPECT))


@app.command("rules")
def list_rules() -> None:
    """List every rule: id, slug, severity, fix (safe / unsafe / display-only), one-line summary.

    Example: preflight rules | grep SSH"""
    from preflight.report.ruledocs import plain_doc
    from preflight.rules import ALL_RULES

    for r in ALL_RULES:
        summary = plain_doc((r.__doc__ or "").strip().splitlines()[0].split(" — ", 1)[-1])
        severities = "/".join(sev.value for sev in r.SEVERITIES)
        typer.echo(f"{r.ID:<7} {r.NAME:<30} {severities:<13} {r.FIX.value:<12} {summary}")


@app.command()
def explain(rule: str = typer.Argument(..., help="Rule id (NET001) or slug (dest-name-resolves).")) -> None:
    """Print a rule's documentation: what it checks, why it breaks a migration, how to fix it.

    Example: preflight explain SSH001"""
    import difflib

    from preflight.report.ruledocs import plain_doc
    from preflight.report.words import GUIDE, human, reference
    from preflight.rules import ALL_RULES, find_rule

    found = find_rule(rule)
    if found is None:
        close = difflib.get_close_matches(rule, [w for r in ALL_RULES for w in (r.ID, r.NAME)], n=3)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise fail_usage(f"no rule {rule!r}{hint} (`preflight rules` lists them)")
    typer.echo(plain_doc(human((found.__doc__ or "").strip())))
    typer.echo(f"\nSeverity: {found.SEVERITY.value}")
    if found.SEED:
        typer.echo(f"Comes from: {reference(found.SEED) or GUIDE}")


# Commands in modules of their own (they use the helpers above): NAME -> the module whose register(app)
# adds it. Imported only when NAME is the command run, or for the whole list (--help, completion), so
# that `check` does not pay for lint's, fleet's or evacuate's imports. (A module registered eagerly, as
# `from preflight import cli_x; cli_x.register(app)`, works too: it is in app.registered_commands.)
LAZY_COMMANDS: dict[str, str] = {
    "lint": "preflight.cli_lint",
    "fleet": "preflight.cli_fleet",
    "evacuate": "preflight.cli_evacuate",
}


def _encodable_streams() -> None:
    """A terminal that cannot encode "—" (PYTHONIOENCODING=ascii, LANG=C on old Pythons) gets \\u2014,
    never a UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass


class _DeferredClass(type):
    """The class of a stand-in for a rich class: attribute access and calls reach the real class,
    imported then (see _defer_unused_rich)."""

    _module: str
    _name: str

    def _real(cls) -> Any:
        import importlib

        if isinstance(sys.modules.get(cls._module), _DeferredModule):
            del sys.modules[cls._module]
        return getattr(importlib.import_module(cls._module), cls._name)

    def __getattr__(cls, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(cls._real(), attr)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return cls._real()(*args, **kwargs)


class _DeferredModule(types.ModuleType):
    def __getattr__(self, attr: str) -> Any:
        import importlib

        if attr.startswith("__"):  # the import system asks for __path__ etc.: a plain module has none
            raise AttributeError(attr)
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attr)


# typer's help formatter (typer.rich_utils) imports these at module level but uses them only for
# markup_mode="markdown" and for pretty tracebacks, both off here: ~30 ms of `--help` (markdown-it, pygments).
UNUSED_RICH = {"rich.markdown": "Markdown", "rich.traceback": "Traceback"}


def _defer_unused_rich() -> None:
    """Stand-ins for UNUSED_RICH in sys.modules (the command-line process only, before typer.rich_utils is
    imported): a module attribute or class used after all imports the real module then."""
    for module, name in UNUSED_RICH.items():
        if module in sys.modules:
            continue
        stand_in = _DeferredModule(module)
        setattr(stand_in, name, _DeferredClass(name, (), {"_module": module, "_name": name}))
        sys.modules[module] = stand_in


def _stdout_closed_early() -> bool:
    """Whether the report's reader went away (EPIPE): click/typer then swap stdout for a wrapper that
    swallows the error and exit 1. Told by that wrapper's class name (click renamed it across releases)."""
    return type(sys.stdout).__name__.endswith("PacifyFlushWrapper")


def main() -> None:
    from preflight.access import cleanup

    _defer_unused_rich()
    # SIGTERM/SIGHUP/SIGINT: close our ssh masters and remove their directories, exit 128+N
    cleanup.install_signal_handlers()
    _encodable_streams()
    try:
        app(prog_name="preflight")  # also under `python -m preflight.cli`: one completion variable, one usage line
    except SystemExit as exc:
        cleanup.close_all()  # normally a no-op: the gather closed its accesses; os._exit skips atexit
        # Skip the interpreter's teardown (~40 ms of module and thread cleanup): every file we
        # write is closed and renamed before this point; only the std streams need flushing.
        code = exc.code
        if isinstance(code, str):
            print(code, file=sys.stderr)
            code = 1
        if _stdout_closed_early():  # `preflight check … | head`: not a verdict (1 would read as NOT READY)
            code = 128 + signal.SIGPIPE
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code or 0)
    finally:
        cleanup.close_all()  # a traceback: nothing may outlive us either


if __name__ == "__main__":
    main()
