"""`preflight evacuate SOURCE --to DEST [DEST ...]`: a plan that moves every running guest of SOURCE
to the destinations that can take it (preflight.evacuate). Registered on the app by preflight.cli."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, List, Optional  # noqa: UP035 - typer reads these at run time

import click
import typer

import preflight.cli_options as opt

if TYPE_CHECKING:
    from preflight.evacuate.judge import Flags
    from preflight.evacuate.plan import Dest, Evacuation
    from preflight.model.facts import HostSnapshot

EVAC = "Evacuation"
FORMATS = ("text", "json")

Hosts = Annotated[List[str], typer.Argument(  # noqa: UP006 - typer reads it at run time
    metavar="SOURCE [DEST...]", show_default=False,
    help="The host to empty (local | ssh://\\[user@]host\\[:port] | image root | with -i, an inventory host); "
         "words after it are more destinations.")]
To = Annotated[List[str], typer.Option(  # noqa: UP006
    "--to", metavar="DEST", rich_help_panel=EVAC,
    help="A destination: ssh://\\[user@]host\\[:port] or an image root (repeatable; `--to A B C` works too). "
         "Migrations name it qemu+ssh://\\[user@]host\\[:port]/system.")]
SourceLibvirt = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--source-libvirt", metavar="URI", rich_help_panel=opt.HOSTS,
    help="libvirt URI of SOURCE \\[default: from SOURCE]; test://FILE.xml models guests (relative to the "
         "current directory).")]
DestLibvirts = Annotated[List[str], typer.Option(  # noqa: UP006
    "--dest-libvirt", metavar="URI", rich_help_panel=opt.HOSTS,
    help="libvirt URI of each destination, once per --to in the same order \\[default: from the spec].")]
DestFactsList = Annotated[List[Path], typer.Option(  # noqa: UP006
    "--dest-facts", metavar="FILE", rich_help_panel=opt.HOSTS,
    help="A saved snapshot instead of gathering, once per --to in the same order.")]
ToGroup = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--to-group", metavar="PATTERN", rich_help_panel=EVAC,
    help="Destinations from the inventory (-i): a group, or any --limit pattern of `preflight fleet` "
         "(kvm:!kvm07); the source is left out. With --to, both.")]
InventoryFile = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--inventory", "-i", metavar="FILE", rich_help_panel=EVAC,
    help="Ansible inventory (INI, or YAML .yml/.yaml/.json) for --to-group; SOURCE may then be one of its hosts.")]
PerDest = Annotated[Optional[int], typer.Option(  # noqa: UP045
    "--concurrency", callback=opt._concurrency, metavar="N", rich_help_panel=EVAC,
    help="At most N migrations at once per destination \\[default: what its limits allow].")]
Format = Annotated[str, typer.Option("--format", click_type=click.Choice(FORMATS), metavar="FORMAT",
                                     rich_help_panel=opt.OUTPUT, help="text (a shell script of waves) or json.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", rich_help_panel=opt.OUTPUT,
                                     help="No progress on the terminal; only the verdict line.")]


def register(app: typer.Typer) -> None:
    app.command("evacuate")(evacuate)


def evacuate(
    hosts: Hosts,
    to: To = [],  # noqa: B006 - typer copies list defaults
    to_group: ToGroup = None,
    inventory: InventoryFile = None,
    p2p: opt.P2p = False,
    tunnelled: opt.Tunnelled = False,
    tls: opt.Tls = False,
    copy_storage_all: opt.CopyStorageAll = False,
    copy_storage_inc: opt.CopyStorageInc = False,
    unsafe: opt.Unsafe = False,
    concurrency: PerDest = None,
    source_libvirt: SourceLibvirt = None,
    dest_libvirt: DestLibvirts = [],  # noqa: B006
    source_facts: opt.SourceFacts = None,
    dest_facts: DestFactsList = [],  # noqa: B006
    sudo: opt.Sudo = False,
    ssh_config: opt.SshConfig = None,
    timeout: opt.Timeout = 10.0,
    fmt: Format = "text",
    output: opt.Output = None,
    quiet: Quiet = False,
    select: opt.Select = [],  # noqa: B006
    ignore: opt.Ignore = [],  # noqa: B006
) -> None:
    """Plan the evacuation of a host: where each running guest can live-migrate, and in which waves.

    Example: preflight evacuate local --to ssh://root@host2 ssh://root@host3 --p2p

    Or from an Ansible inventory: preflight evacuate kvm03 --to-group kvm -i hosts.ini (hosts read as `preflight fleet` reads them: ansible_host, ansible_user, ansible_port, preflight_root, preflight_dest_name).

    Each host is gathered once; then each guest is judged on each destination as `check --live GUEST qemu+ssh://DEST/system` would judge it (a destination failing for reasons of its own, e.g. DMN001 or NET001, is excluded for every guest), guests are packed by memory (GST009's need: the guest's memory + QEMU overhead; the biggest first, onto the destination with the most room left), and each destination gets at most as many migrations at once as its limits allow (max_clients, max_workers, MaxStartups, the migration port range). The plan is a shell script: one `virsh migrate` per guest, each wave run at once. Guests that fit nowhere are named with each destination's reasons.

    Exit codes: 0 every running guest placed, 1 a guest fits nowhere, 2 usage error, 3 the source or every destination could not be inspected (or a guest is left out only by what could not be seen), 4 internal error.
    """
    from preflight.cli import chosen_rules, fail_usage, libvirt_arg, load_snapshot, write_output
    from preflight.report.output import OutputError, output_file

    try:
        out_path = output_file(output) if output is not None else None
    except OutputError as exc:
        raise fail_usage(str(exc)) from None
    if not hosts:
        raise fail_usage("name the SOURCE host (local, ssh://HOST or an image root)")
    source, dests = hosts[0], [*to, *hosts[1:]]
    if (to_group is None) != (inventory is None):
        raise fail_usage("--to-group and -i/--inventory go together")
    if not dests and to_group is None:
        raise fail_usage("name at least one destination with --to DEST (or --to-group GROUP -i INVENTORY)")
    if dest_facts and len(dest_facts) != len(dests):
        raise fail_usage(f"--dest-facts given {len(dest_facts)} time(s) for {len(dests)} destination(s): give it "
                         "once per --to, in the same order")
    rules = chosen_rules(select, ignore)
    flags = _flags(p2p, tunnelled, tls, copy_storage_all, copy_storage_inc, unsafe, fail_usage)
    from preflight.access import AccessOptions
    from preflight.evacuate import hosts as evac_hosts

    options = AccessOptions(timeout=timeout, sudo=sudo, ssh_config=str(ssh_config) if ssh_config else None)
    labels: dict[str, str] = {}
    try:
        group = None
        if to_group is not None and inventory is not None:
            from preflight.evacuate.group import load_group

            group = load_group(inventory, to_group, source, options)
        src, dsts = evac_hosts.build(source, dests, libvirt_arg(source_libvirt, "--source-libvirt"),
                                     [libvirt_arg(u, "--dest-libvirt") or u for u in dest_libvirt], options,
                                     group.source if group is not None else None)
        if group is not None:
            from preflight.evacuate.group import number

            taken = {d.dest_uri: f"--to {d.spec}" for d in dsts}
            more = number(group.members, len(dsts) + 1, taken)
            labels = {d.name: m.name for d, m in zip(more, group.members, strict=True)}
            dsts += more
        loaded: dict[str, HostSnapshot] = {}
        if source_facts is not None:
            loaded[src.name] = load_snapshot(source_facts, "source")
        for d, path in zip(dsts, dest_facts, strict=False):
            loaded[d.name] = load_snapshot(path, "destination")
    except ValueError as exc:
        raise fail_usage(str(exc)) from None
    import sys

    ev = _run(src, dsts, loaded, flags, rules, concurrency, progress=not quiet and sys.stderr.isatty(),
              labels=labels)
    from preflight.evacuate import render

    if quiet:
        text = render.to_text(ev).splitlines()[0] + "\n"
    else:
        text = render.to_json(ev) if fmt == "json" else render.to_text(ev)
    write_output(text, out_path)
    raise typer.Exit(int(ev.exit_code))


def _flags(p2p: bool, tunnelled: bool, tls: bool, copy_all: bool, copy_inc: bool, unsafe: bool,
           fail_usage: object) -> Flags:
    from preflight.evacuate.judge import Flags
    from preflight.plan_checks import PlanError, check_flags

    flags = Flags(p2p=p2p, tunnelled=tunnelled, copy_storage_all=copy_all, copy_storage_inc=copy_inc,
                  unsafe=unsafe, tls=tls)
    try:
        check_flags(flags.plan([], "qemu+ssh://host/system"))
    except PlanError as exc:
        raise fail_usage(str(exc)) from None  # type: ignore[operator]
    return flags


def _run(src: object, dsts: list, loaded: dict[str, HostSnapshot], flags: Flags, rules: list,  # type: ignore[type-arg]
         concurrency: int | None, progress: bool = False, labels: dict[str, str] | None = None) -> Evacuation:
    from preflight.evacuate import plan
    from preflight.evacuate.gather import gather
    from preflight.fleet.hosts import FleetHost
    from preflight.fleet.pairs import PlanFlags

    assert isinstance(src, FleetHost)
    snaps = gather(src, dsts, PlanFlags(live=True, p2p=flags.p2p, tunnelled=flags.tunnelled), loaded, progress)
    dests: list[Dest] = [plan.Dest(d.name, str(d.spec), d.dest_uri, snaps.get(d.name),
                                   "" if d.name in snaps else "not gathered", (labels or {}).get(d.name, ""))
                         for d in dsts]
    return plan.build(str(src.spec), snaps.get(src.name), dests, flags, rules, concurrency)
