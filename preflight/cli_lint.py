"""`preflight lint [SPEC ...]`: the command, its settings (CLI > config > default) and its outputs.

The logic is :mod:`preflight.lint`; this module turns words and the config file into
:class:`~preflight.lint_context.LintSettings` per host, and renders a :class:`~preflight.lint.LintRun`
in check's formats: each host's findings go through check's own renderers (JSON finding dicts,
SARIF results, JUnit cases, GitHub annotations), merged into one document that names the host of
every finding.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import click
import typer

import preflight.cli_options as opt
from preflight.lint_context import DEFAULT_CONCURRENCY, TRANSPORTS, LintSettings

if TYPE_CHECKING:
    from preflight.config import Config
    from preflight.engine import Note
    from preflight.lint import HostLint, LintRun
    from preflight.model.findings import Finding

LINT = "Lint (what each host must carry)"
Specs = Annotated[list[str] | None, typer.Argument(
    metavar="[SPEC...]", show_default=False,
    help="Hosts to judge: image root directories, local, ssh://\\[user@]host\\[:port] \\[default: the config's "
         "[[paths]] roots].")]
LintConcurrency = Annotated[int | None, typer.Option(
    "--concurrency", metavar="N", rich_help_panel=LINT, min=1,
    help=f"Migrations each host sends and receives at once \\[default: the config's, else {DEFAULT_CONCURRENCY}].")]
Peers = Annotated[list[str], typer.Option(
    "--peer", metavar="NAME", rich_help_panel=LINT,
    help="A host these hosts migrate to and from (repeatable or comma-separated); each must resolve on each host "
         "\\[default: the config's peers].")]
Transport = Annotated[str, typer.Option("--transport", click_type=click.Choice(TRANSPORTS), rich_help_panel=LINT,
                                        help="The DESTURI transport the hosts are judged for (qemu+ssh, +tls, +tcp).")]


def _split(values: list[str]) -> list[str]:
    """--peer's names (repeatable, comma-separated); an empty one (``--peer ''``, ``a,,b``) is a usage error:
    it would silently judge fewer peers than the user meant."""
    from preflight.cli import fail_usage
    from preflight.textsafe import escape_control

    out = []
    for item in values:
        for v in item.split(","):
            if not v.strip():
                raise fail_usage(escape_control(f"--peer {item!r}: an empty peer name (name a host, or leave "
                                                "--peer out)", keep_newlines=False))
            out.append(v.strip())
    return out


def settings_for(spec: str, cfg: Config, concurrency: int | None, peers: list[str], transport: str,
                 tls: bool) -> LintSettings:
    """CLI wins, then the config's [[paths]] entry (image roots), then its top level, then the default."""
    import os

    where = str(cfg.source.name) if cfg.source else "config"
    entry = cfg.for_path(spec) if spec not in ("local",) and "://" not in spec and os.path.isdir(spec) else None
    conc: tuple[int, str] = (DEFAULT_CONCURRENCY, "default: the RHEL guide's 'max_clients 20 allows 10 "
                             "migrations'; set concurrency in preflight.toml or --concurrency")
    if concurrency is not None:
        conc = (concurrency, "--concurrency")
    elif entry is not None and entry.concurrency is not None:
        conc = (entry.concurrency, f"[[paths]] at {entry.origin or entry.root}")
    elif cfg.concurrency is not None:
        conc = (cfg.concurrency, where)
    named: tuple[list[str], str] = ([], "none named")
    if peers:
        named = (peers, "--peer")
    elif entry is not None and entry.peers is not None:
        named = (list(entry.peers), f"[[paths]] at {entry.origin or entry.root}")
    elif cfg.peers:
        named = (list(cfg.peers), where)
    return LintSettings(conc[0], conc[1], tuple(named[0]), named[1], transport, tls)


def check_peers(peers: list[str]) -> None:
    """A peer goes into a pseudo-DESTURI: a host name or an IP address, nothing else (exit 2)."""
    from preflight.access.spec import HostSpecError, check_host
    from preflight.cli import fail_usage

    for p in peers:
        try:
            check_host(p.strip("[]"))
        except HostSpecError as exc:
            raise fail_usage(f"peer: {exc}") from None


def same_host_notes(same: list[list[str]]) -> list[Note]:
    """A note per host named more than once: which specs were that host, and which spelling was judged."""
    from preflight.engine import Note

    return [Note("note", "same-host", ", ".join(g), f"{', '.join(repr(s) for s in g)} name the same host: "
                 f"judged once, as {g[0]!r}") for g in same]


# --- rendering: check's renderers per host, merged ---------------------------------------------------------
def header(h: HostLint) -> str:
    from preflight.report import safe

    s, snap = h.settings, h.snapshot
    peers = ", ".join(h.peers_judged) or "none"
    if h.peers_self:
        peers += f" ({', '.join(h.peers_self)}: this host, left out)"
    mode = {"image": "image root", "local": "this machine", "ssh": "over ssh"}[snap.mode.value]
    line = (f"{snap.spec} ({mode}) — destination and source of {s.concurrency} concurrent migration(s) "
            f"({s.concurrency_from}); qemu+{s.transport}{' --tls' if s.tls else ''}; peers: {peers} "
            f"({s.peers_from})")
    if not snap.reachable:
        line += f" — could not inspect: {snap.unreachable_reason}"
    return safe.line(line)


def _roles(f: object) -> str:
    roles = getattr(f, "evidence", {}).get("lint_roles") or []
    return " and ".join("source to peers" if r == "peers" else r for r in roles)


def to_text(run: LintRun, stream: object, verbose: bool, color: str) -> str:
    from preflight.model.findings import Severity, Status
    from preflight.report import safe, text

    colour = text.use_colour(stream, color)  # type: ignore[arg-type]

    def tag(status: Status, severity: Severity) -> str:
        label = status.value.upper() if status is not Status.FAIL or severity is Severity.ERROR \
            else severity.value.upper()
        key = "warning" if label in ("WARNING", "INFO") else status.value
        return f"\033[{text.COLOURS[key]}m{label:<7}\033[0m" if colour else f"{label:<7}"

    lines: list[str] = []
    for h in run.hosts:
        found = sorted((safe.finding(f) for f in h.report.findings), key=text.rank)
        rest, causes = text.group_unknowns(h.report, found)
        lines.append(header(h))
        for c in causes:
            lines.append(f"  {tag(Status.UNKNOWN, Severity.ERROR)} "
                         f"{c.text.split(' ', 1)[1]} ({sum(c.rules.values())} check(s) blocked)")  # no role
        skips = sum(1 for f in rest if f.status is Status.SKIP)
        shown = rest if verbose else [f for f in rest if f.status not in (Status.PASS, Status.SKIP)]
        for f in shown:
            where = f" [{f.file}{':' + str(f.line) if f.line else ''}]" if f.file else ""
            label = f"{'WAIVED':<7}" if f.waived is not None else tag(f.status, f.severity)
            lines.append(f"  {label} {f.rule} {f.name} (as {_roles(f)}): {f.message}{where}")
            if f.waived is not None:
                lines.append(f"          waived ({f.waived.origin}): {f.waived.reason}")
            elif f.remediation and f.status is Status.FAIL:
                lines.append(f"          fix: {f.remediation}")
        if not shown and not causes:
            lines.append("  (all checks passed)")
        if skips and not verbose:
            lines.append(f"  ({skips} check(s) skipped: -v lists them)")
        lines.append("")
    lines.append(verdict_line(run, colour))
    return "\n".join(lines) + "\n"


def verdict_line(run: LintRun, colour: bool = False) -> str:
    from preflight.engine import Verdict
    from preflight.model.findings import Severity, Status

    rep = run.combined
    c = rep.counts()
    word = {Verdict.READY: "READY", Verdict.NOT_READY: "NOT READY", Verdict.UNKNOWN: "UNKNOWN"}[rep.verdict]
    if colour:
        word = f"\033[1;{ {'READY': '32', 'NOT READY': '31', 'UNKNOWN': '35'}[word]}m{word}\033[0m"
    warnings = sum(1 for f in rep.findings if f.status is Status.FAIL and f.severity is not Severity.ERROR)
    bad = sum(1 for h in run.hosts if h.report.verdict == Verdict.NOT_READY)
    unseen = sum(1 for h in run.hosts if h.report.verdict == Verdict.UNKNOWN)  # not "not ready": it could not tell
    bad_text = f"{bad} not ready" + (f", {unseen} unknown host(s)" if unseen else "")
    waived = f", {c['waived']} waived" if c.get("waived") else ""
    return (f"{word}: lint of {len(run.hosts)} host(s), {bad_text} — {len(rep.blocking_failures)} error(s), "
            f"{warnings} warning(s){waived}, {c['unknown']} unknown, {c['skip']} skipped, {c['pass']} passed")


def _host_dict(h: HostLint) -> dict[str, object]:
    from preflight.report import safe

    s, snap = h.settings, h.snapshot
    return {"spec": safe.line(snap.spec), "mode": snap.mode.value, "reachable": snap.reachable,
            "unreachable_reason": safe.opt_line(snap.unreachable_reason),
            "gather_seconds": round(snap.gather_seconds, 3), "verdict": h.report.verdict,
            "exit_code": int(h.report.exit_code), "counts": h.report.counts(),
            "concurrency": s.concurrency, "concurrency_from": s.concurrency_from, "transport": s.transport,
            "tls": s.tls, "peers": [safe.line(p) for p in s.peers], "peers_from": s.peers_from,
            "peers_judged": [safe.line(p) for p in h.peers_judged],
            "peers_self": [safe.line(p) for p in h.peers_self]}


def to_json(run: LintRun) -> str:
    from preflight import __version__
    from preflight.report import machine, safe

    rep = run.combined
    data = {
        "schema_version": machine.JSON_SCHEMA_VERSION, "command": "lint",
        "tool": {"name": "migration-preflight", "version": __version__},
        "verdict": rep.verdict, "exit_code": int(rep.exit_code), "counts": rep.counts(),
        "rules": [r.ID for r in run.rules], "config": safe.opt_line(run.config), "fail_on": run.fail_on,
        "not_selected": [{k: safe.line(v) for k, v in d.items()} for d in run.not_selected],
        "notes": [{"level": n.level, "kind": n.kind, "where": safe.line(n.where), "message": safe.line(n.message)}
                  for n in run.notes],
        "hosts": [_host_dict(h) for h in run.hosts],
        "findings": [{**safe.finding_dict(f), "spec": safe.line(h.snapshot.spec)}
                     for h in run.hosts for f in h.report.findings],
    }
    return json.dumps(data, indent=2) + "\n"


def to_sarif(run: LintRun) -> str:
    """One SARIF run: every host's results (check's), each naming its host; fingerprints per host."""
    import hashlib

    from preflight.model.findings import Status
    from preflight.report import safe, sarif
    from preflight.report.locations import host_key

    rep = run.combined
    merged: dict[str, Any] | None = None
    results: list[dict[str, Any]] = []
    notes: list[Any] = []
    for h in run.hosts:
        doc = json.loads(sarif.to_sarif(h.report))
        hrun = doc["runs"][0]
        spec, hkey = safe.line(h.snapshot.spec), host_key(h.snapshot)  # hkey: not the checkout's path
        shown = [f for f in h.report.findings if f.status in (Status.FAIL, Status.UNKNOWN)]  # sarif's results
        for res, f in zip(hrun["results"], shown, strict=True):
            res["properties"]["spec"] = spec
            _lint_roles(res, f)
            for loc in res.get("locations", []):
                for logical in loc.get("logicalLocations", []):
                    logical["name"] = logical["fullyQualifiedName"] = f"{spec}/{logical['name']}"
            for name, value in res["partialFingerprints"].items():  # the same finding on two hosts differs
                res["partialFingerprints"][name] = hashlib.sha256(
                    f"{value}\0{hkey}".encode("utf-8", "surrogateescape")).hexdigest()[:32]
            results.append(res)
        notes += hrun["invocations"][0].get("toolExecutionNotifications", [])
        if merged is None:
            merged = doc
    assert merged is not None
    out_run = merged["runs"][0]
    out_run["results"] = results
    # the first host's invocation (workingDirectory ...) with the run's success and exit code
    inv: dict[str, Any] = {**out_run["invocations"][0], "executionSuccessful": not notes,
                           "exitCode": int(rep.exit_code)}
    inv.pop("toolExecutionNotifications", None)
    if notes:
        inv["toolExecutionNotifications"] = notes
    config = [{"level": n.level if n.level in ("none", "note", "warning", "error") else "warning",
               "message": {"text": safe.line(n.message)}, "properties": {"kind": n.kind, "where": safe.line(n.where)}}
              for n in run.notes]  # the run's notes (a waiver unused on every host, same-host specs), not host 1's
    inv.pop("toolConfigurationNotifications", None)
    if config:
        inv["toolConfigurationNotifications"] = config
    out_run["invocations"] = [inv]
    out_run["properties"] = {"verdict": rep.verdict, "command": "lint",
                             "hosts": [safe.line(h.snapshot.spec) for h in run.hosts]}
    return json.dumps(merged, indent=2) + "\n"


def _lint_roles(res: dict[str, Any], f: Finding) -> None:
    """Every role the finding was judged in (a finding "as destination and source" is not only the
    destination's): in properties.lint_roles, the message's "[...]" and the logical location's name."""
    roles = list(f.evidence.get("lint_roles") or [])
    if not roles:
        return
    res["properties"]["lint_roles"] = roles
    words = _roles(f)
    text = res["message"]["text"]
    tag = f"[{f.host.value}] "
    if tag in text:
        res["message"]["text"] = text.replace(tag, f"[as {words}] ", 1)
    joined = "+".join("source-to-peers" if r == "peers" else r for r in roles)
    for loc in res.get("locations", []):
        for logical in loc.get("logicalLocations", []):
            name = logical["name"]
            if name == f.host.value or name.startswith(f"{f.host.value}/"):
                logical["name"] = logical["fullyQualifiedName"] = joined + name[len(f.host.value):]


def to_junit(run: LintRun) -> str:
    """<testsuites>: one suite per host (check's cases, the host in each classname)."""
    from xml.etree import ElementTree as ET

    from preflight.report import machine, safe

    top = ET.Element("testsuites", name="migration-preflight lint")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for h in run.hosts:
        suite = ET.fromstring(machine.to_junit(h.report))
        spec = safe.xml(h.snapshot.spec)
        suite.set("name", f"lint {spec}")
        for case in suite.iter("testcase"):
            case.set("classname", f"{spec}.{case.get('classname')}")
        for k in totals:
            totals[k] += int(suite.get(k, "0"))
        top.append(suite)
    for k, v in totals.items():
        top.set(k, str(v))
    return ET.tostring(top, encoding="unicode") + "\n"


def to_github(run: LintRun) -> str:
    from dataclasses import replace

    from preflight.model.facts import HostMode
    from preflight.model.findings import Status
    from preflight.report import github, safe

    lines = []
    for h in run.hosts:
        for f in h.report.findings:
            if f.status not in (Status.FAIL, Status.UNKNOWN):
                continue
            g = safe.finding(f)
            if h.snapshot.mode is not HostMode.IMAGE:  # no repo file to point at: the title names the host
                g = replace(g, subject=f"{safe.line(h.snapshot.spec)}{' ' + g.subject if g.subject else ''}")
            lines.append(github.annotation(g, h.report))
    lines.append(verdict_line(run))
    return "\n".join(lines) + "\n"


def rendered(run: LintRun, fmt: str, stream: object, verbose: bool, color: str, quiet: bool) -> str:
    from preflight.report import text

    if fmt == "json":
        return to_json(run)
    if fmt == "sarif":
        return to_sarif(run)
    if fmt == "junit":
        return to_junit(run)
    if fmt == "github":
        return to_github(run)
    return (verdict_line(run, text.use_colour(stream, color)) + "\n" if quiet  # type: ignore[arg-type]
            else to_text(run, stream, verbose, color))


def render(run: LintRun, fmt: str, output: Path | None, verbose: bool, color: str, quiet: bool,
           extra: list[tuple[str, Path]]) -> None:
    """The report on stdout or -o, and in each --output-format file (as check does)."""
    from preflight.cli import fail_usage, write_output
    from preflight.report.output import OutputError, write_file

    write_output(rendered(run, fmt, sys.stdout if output is None else None, verbose, color, quiet), output)
    for extra_fmt, path in extra:
        try:
            write_file(path, rendered(run, extra_fmt, None, verbose, "never", False), "--output-format")
        except OutputError as exc:
            raise fail_usage(str(exc)) from None


def register(app: typer.Typer) -> None:
    app.command("lint")(lint_command)


def lint_command(
    specs: Specs = None,
    concurrency: LintConcurrency = None,
    peer: Peers = [],  # noqa: B006 - typer copies list defaults
    transport: Transport = "ssh",
    tls: opt.Tls = False,
    sudo: opt.Sudo = False,
    ssh_config: opt.SshConfig = None,
    timeout: opt.Timeout = 10.0,
    fmt: opt.Format = "text",
    output: opt.Output = None,
    verbose: opt.Verbose = False,
    color: opt.Color = "auto",
    quiet: opt.Quiet = False,
    select: opt.Select = [],  # noqa: B006
    ignore: opt.Ignore = [],  # noqa: B006
    exit_zero: opt.ExitZero = False,
    config_file: opt.ConfigFile = None,
    no_config: opt.NoConfig = False,
    baseline: opt.Baseline = None,
    fail_on: opt.FailOn = None,
    output_format: opt.OutputFormats = [],  # noqa: B006
) -> None:
    """Judge hosts on their own (no migration pair): every rule about one host, against the capacity the config declares (concurrency, peers).

    Example: preflight lint images/host1 images/host2 --concurrency 12 --peer host1.example.com,host2.example.com

    SPEC: an image root directory, local, or ssh://\\[user@]host\\[:port]; several are gathered in parallel. No SPEC: the \\[\\[paths]] roots of the config file.

    Each host is judged as the destination of N concurrent migrations and as their source (daemon config and limits, sshd's MaxStartups, TCP without auth, ...), and as the source toward each peer (the peer's name resolves, not to loopback nor to the host itself). A peer that is the host itself is left out. Rules that need a real pair or guests (versions, UUIDs, storage, guests) are `check`'s.

    Exit codes: 0 every host ready, 1 a failing finding, 2 usage or configuration error, 3 a host could not be inspected (and nothing failed), 4 internal error.
    """
    from preflight.cli import fail_usage, load_policy, output_formats, print_notes, progress_shown, selection
    from preflight.lint import apply_policy, distinct, gather_all, lint, lint_rules
    from preflight.report.output import OutputError, output_file

    try:  # before any host is contacted
        out_path = output_file(output) if output is not None else None
    except OutputError as exc:
        raise fail_usage(str(exc)) from None
    extra = output_formats(output_format, out_path)
    cfg, waivers = load_policy(config_file, no_config, baseline)
    selected, left_out = selection(select, ignore, cfg)
    chosen = lint_rules(selected)
    if not chosen:
        raise fail_usage("no selected rule can judge a lone host (the selection holds only pair rules: "
                         "use `preflight check`)")
    targets = list(specs or []) or [str(p.root) for p in cfg.paths]
    if not targets:
        raise fail_usage("name at least one SPEC (an image root, local or ssh://host), or [[paths]] in the config")
    try:  # before any host is contacted
        targets, same = distinct(targets)
    except ValueError as exc:  # a bad spec (HostSpecError)
        raise fail_usage(f"SPEC: {exc}") from None
    peers = _split(peer)
    check_peers(peers + list(cfg.peers) + [p for e in cfg.paths for p in (e.peers or [])])
    settings = [settings_for(t, cfg, concurrency, peers, transport, tls) for t in targets]
    try:
        with progress_shown(quiet):
            snaps = gather_all(targets, [list(s.peers) for s in settings], timeout=timeout, sudo=sudo,
                               ssh_config=str(ssh_config) if ssh_config else None)
    except ValueError as exc:  # a bad spec (HostSpecError)
        raise fail_usage(f"SPEC: {exc}") from None
    run = lint(snaps, settings, chosen, cfg.severity)
    apply_policy(run, cfg, waivers, fail_on, left_out)
    run.notes = same_host_notes(same) + run.notes
    render(run, fmt, out_path, verbose, color, quiet, extra)
    print_notes(run.combined, quiet, verbose)
    raise typer.Exit(0 if exit_zero else int(run.combined.exit_code))
