"""Command-line options shared by `check`, `fix` and `facts`, defined once.

typer reads these annotations at run time, so they keep the typing forms it
understands (Optional, List).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, List, Optional  # noqa: UP035

import click
import typer

# --help groups (rich panels): what is planned, which hosts and how to reach them, what is printed, which rules.
PLAN, HOSTS, OUTPUT, SELECTION, FIX = "Plan (as for virsh migrate)", "Hosts", "Output", "Rule selection", "Fix"

GuestsAndUri = Annotated[List[str], typer.Argument(metavar="[GUEST...] DESTURI", help="As for virsh migrate.")]
Live = Annotated[bool, typer.Option("--live", help="Live migration (the guest must be running).",
                                     rich_help_panel=PLAN)]
P2p = Annotated[bool, typer.Option("--p2p", help="Peer-to-peer: the source daemon connects to DESTURI.",
                                   rich_help_panel=PLAN)]
Tunnelled = Annotated[bool, typer.Option("--tunnelled", help="Data over the libvirt connection (with --p2p).",
                                         rich_help_panel=PLAN)]
Tls = Annotated[bool, typer.Option("--tls", help="QEMU's own TLS for the migration stream (certificates in "
                                                  "qemu.conf's migrate_tls_x509_cert_dir).", rich_help_panel=PLAN)]
CopyStorageAll = Annotated[
    bool, typer.Option("--copy-storage-all", help="Disks are copied: no shared storage needed.", rich_help_panel=PLAN)
]
CopyStorageInc = Annotated[
    bool, typer.Option("--copy-storage-inc", help="Disks are copied, their backing images must already be on the "
                       "destination.", rich_help_panel=PLAN)
]
Unsafe = Annotated[bool, typer.Option("--unsafe", help="The migration will pass --unsafe (storage is still judged).",
                                      rich_help_panel=PLAN)]
Offline = Annotated[bool, typer.Option("--offline", help="Offline migration of the definition only.",
                                       rich_help_panel=PLAN)]
MigrateUri = Annotated[Optional[str], typer.Option("--migrateuri", help="Data-stream URI, e.g. tcp://10.0.0.20.",
                                                   rich_help_panel=PLAN)]
AllRunning = Annotated[bool, typer.Option("--all-running", help="Every running guest of the source.",
                                          rich_help_panel=PLAN)]


def _concurrency(value: Optional[int]) -> Optional[int]:
    if value is not None and value < 1:
        typer.echo(f"preflight: error: --concurrency must be at least 1, got {value}", err=True)
        raise typer.Exit(2)
    return value


Concurrency = Annotated[
    Optional[int], typer.Option("--concurrency", callback=_concurrency, metavar="N", rich_help_panel=PLAN,
                                help="Migrations at once, >= 1 \\[default: number of guests].")
]
Source = Annotated[str, typer.Option("--source", help="local | ssh://\\[user@]host\\[:port] | image root directory.",
                                     rich_help_panel=HOSTS)]
Dest = Annotated[Optional[str], typer.Option("--dest", help="Destination host \\[default: ssh://HOST of DESTURI].",
                                             rich_help_panel=HOSTS)]
SourceLibvirt = Annotated[
    Optional[str], typer.Option("--source-libvirt", rich_help_panel=HOSTS,
                                help="libvirt URI of the source \\[default: from --source]; test://FILE.xml "
                                     "(relative to the current directory) models guests.")
]
DestLibvirt = Annotated[
    Optional[str], typer.Option("--dest-libvirt", help="libvirt URI of the destination \\[default: from --dest].",
                                rich_help_panel=HOSTS)
]
SourceFacts = Annotated[
    Optional[Path], typer.Option("--source-facts", help="Use a saved snapshot instead of gathering.",
                                 rich_help_panel=HOSTS)
]
DestFacts = Annotated[Optional[Path], typer.Option("--dest-facts", help="Use a saved snapshot instead of gathering.",
                                                   rich_help_panel=HOSTS)]
Sudo = Annotated[bool, typer.Option("--sudo", help="Run the remote gather script with sudo -n.", rich_help_panel=HOSTS)]
SshConfig = Annotated[Optional[Path], typer.Option("--ssh-config", help="ssh -F FILE for inspection connections.",
                                                   rich_help_panel=HOSTS)]
MAX_TIMEOUT = 86400.0  # a day: beyond it time arithmetic overflows in places (poll, ssh ConnectTimeout)


def _timeout(value: float) -> float:
    """A finite number of seconds > 0: inf/nan/0/-5 would disable or break every deadline."""
    if not math.isfinite(value) or not 0 < value <= MAX_TIMEOUT:
        typer.echo(f"preflight: error: --timeout must be a number of seconds > 0 and <= {MAX_TIMEOUT:g}, "
                   f"got {value!r}", err=True)
        raise typer.Exit(2)
    return value


Timeout = Annotated[
    float, typer.Option("--timeout", callback=_timeout, help="Seconds per connection / gather phase (> 0).",
                        rich_help_panel=HOSTS)
]

OUTPUT_HOW = (
    "written atomically (a temporary beside it, renamed: a symlink there is replaced, not followed); "
    "an existing character device or FIFO such as /dev/stdout is written to; a directory, a missing "
    "directory or a new file in /dev is a usage error (exit 2)."
)
OUTPUT_HELP = "Report file, " + OUTPUT_HOW
SAVE_FACTS_HELP = (
    "Also save both snapshots into this directory as source.json and destination.json (created if missing; "
    "refused if DIR is a symbolic link; a symlink at either file is replaced, never written through)."
)


# --- `fix` only (appended: the options above are shared) -------------------------------------------------
FIX_FORMATS = ("text", "json")


def _fix_host(value: Optional[str]) -> Optional[str]:
    if value is not None and value not in ("source", "destination"):
        typer.echo(f"preflight: error: --host must be source or destination, got {value!r}", err=True)
        raise typer.Exit(2)
    return value


def _ip_address(value: Optional[str]) -> Optional[str]:
    """An IP address a host can be reached on (IPv6 may carry a %zone), never a name or loopback."""
    import ipaddress

    if value is None:
        return None
    try:
        ip = ipaddress.ip_address(value.split("%", 1)[0] if ":" in value else value)
    except ValueError:
        ip = None
    if ip is None or ip.is_loopback or ip.is_unspecified or ip.is_multicast:
        typer.echo(f"preflight: error: --dest-address must be the destination's IP address (not a name, loopback, "
                   f"0.0.0.0 or multicast), got {value!r}", err=True)
        raise typer.Exit(2)
    return value


FixFormat = Annotated[str, typer.Option("--format", click_type=click.Choice(FIX_FORMATS), rich_help_panel=OUTPUT,
                                        help="text, or json: per host and file the path, real target, diff, "
                                             "validation result and how it applies.")]
FixVerbose = Annotated[bool, typer.Option("--verbose", "-v", rich_help_panel=OUTPUT, help="Also the validation details (which sshd, "
                                                                     "its version); with --diff, the reasoning.")]
FixSelect = Annotated[List[str], typer.Option("--select", rich_help_panel=SELECTION, help="Only these rules (as for check): id prefix or slug, "
                                                               "repeatable or comma-separated (NET,SSH001).")]
FixIgnore = Annotated[List[str], typer.Option("--ignore", rich_help_panel=SELECTION, help="Leave these rules out (as for check): id prefix "
                                                               "or slug (LIM003).")]
FixDiff = Annotated[Optional[bool], typer.Option(
    "--diff/--no-diff", show_default=False, rich_help_panel=FIX,
    help="--diff: print only a unified diff on stdout (paths a/etc/..., apply with `patch -p1 -d ROOT`, ROOT = "
         "the image root or / on the host; prose to stderr, reasoning with -v); with changes on both hosts "
         "pick one with --host. --no-diff: the report without diffs. Default: the report with a diff per host.")]
FixHost = Annotated[Optional[str], typer.Option("--host", callback=_fix_host, metavar="source|destination",
                                                rich_help_panel=FIX,
                                                help="Only this host's changes (shown, saved and written).")]
FixOutputDir = Annotated[Optional[Path], typer.Option(
    "--output-dir", metavar="DIR", rich_help_panel=FIX,
    help="Write the fixed files as DIR/source/PATH and DIR/destination/PATH (e.g. DIR/source/etc/hosts); "
         "nothing is written outside DIR.")]
BackupDir = Annotated[Optional[Path], typer.Option(
    "--backup-dir", metavar="DIR", rich_help_panel=FIX,
    help="With --write: back the replaced files up as DIR/HOST/PATH.preflight-STAMP. Default: beside each file "
         "(FILE.preflight-STAMP), except for an image root inside a git work tree: "
         "$XDG_STATE_HOME/preflight/backups/STAMP/HOST/PATH (default ~/.local/state/...).")]
DestAddress = Annotated[Optional[str], typer.Option(
    "--dest-address", metavar="ADDR", callback=_ip_address, rich_help_panel=FIX,
    help="The destination's address as the source reaches it, for the /etc/hosts fix (NET001). Without it: "
         "DESTURI's IP address, else the destination's own /etc/hosts entry for its name, else its only address; "
         "several candidates: listed, never guessed, the file not written.")]


# --- `check`'s output and selection (and --color/--quiet for both) ------------------------------------------
FORMATS = ("text", "json", "sarif", "junit", "github")
Format = Annotated[str, typer.Option("--format", click_type=click.Choice(FORMATS), rich_help_panel=OUTPUT,
                                     metavar="FORMAT",
                                     help="Report format: text, json (the CI contract in README), sarif, "
                                          "junit or github (GitHub Actions annotations).")]
Output = Annotated[Optional[str], typer.Option("--output", "-o", metavar="FILE", help=OUTPUT_HELP,
                                               rich_help_panel=OUTPUT)]
SaveFacts = Annotated[Optional[str], typer.Option("--save-facts", metavar="DIR", help=SAVE_FACTS_HELP,
                                                  rich_help_panel=OUTPUT)]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Text: list passed and skipped checks too.",
                                       rich_help_panel=OUTPUT)]
Select = Annotated[List[str], typer.Option("--select", rich_help_panel=SELECTION,
                                           help="Only these rules: id prefix or slug, repeatable or comma-separated "
                                                "(NET,SSH001).")]
Ignore = Annotated[List[str], typer.Option("--ignore", rich_help_panel=SELECTION,
                                           help="Leave these rules out: id prefix or slug (LIM003).")]
COLOR_MODES = ("auto", "always", "never")
Color = Annotated[str, typer.Option("--color", "--colour", click_type=click.Choice(COLOR_MODES), rich_help_panel=OUTPUT,
                                    help="Colour the text report: auto = on a terminal unless NO_COLOR is set.")]
ExitZero = Annotated[bool, typer.Option("--exit-zero", rich_help_panel=OUTPUT,
                                        help="Exit 0 whatever the verdict (still printed); usage errors stay 2, "
                                             "internal errors 4.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", rich_help_panel=OUTPUT,
                                     help="No progress on the terminal while gathering; text: only the verdict line "
                                          "(the exit code and -o are unchanged).")]
FixQuiet = Annotated[bool, typer.Option("--quiet", "-q", rich_help_panel=OUTPUT,
                                        help="No progress on the terminal while gathering.")]


# --- gate policy: config file, waivers, fail-on, several outputs (check, baseline; --config for fix) ----------
POLICY = "Policy (config, waivers, gate)"
ConfigFile = Annotated[Optional[Path], typer.Option(
    "--config", metavar="FILE", rich_help_panel=POLICY,
    help="Config file (TOML) instead of the one found from the current directory upward: preflight.toml, "
         "or \\[tool.preflight] in pyproject.toml.")]
NoConfig = Annotated[bool, typer.Option("--no-config", rich_help_panel=POLICY,
                                        help="Use no config file (nor its baseline).")]
Baseline = Annotated[Optional[Path], typer.Option(
    "--baseline", metavar="FILE", rich_help_panel=POLICY,
    help="Waivers file written by `preflight baseline` (besides the config's own waivers and baseline).")]
FailOn = Annotated[Optional[str], typer.Option(
    "--fail-on", click_type=click.Choice(("error", "warning", "unknown")), rich_help_panel=POLICY,
    metavar="LEVEL",
    help="What fails the gate: error (default: an error FAIL exits 1, an error UNKNOWN 3), warning (a warning "
         "FAIL too exits 1), unknown (a warning UNKNOWN too exits 3). Waived findings never fail.")]
OUTPUT_FORMAT_HELP = (
    "Also write the report as FORMAT to PATH (repeatable: --output-format sarif:report.sarif --output-format "
    "junit:report.xml); FORMAT one of text, json, sarif, junit, github; every PATH is checked before any host "
    "is contacted and ")
OutputFormats = Annotated[List[str], typer.Option(
    "--output-format", metavar="FORMAT:PATH", rich_help_panel=OUTPUT, help=OUTPUT_FORMAT_HELP + OUTPUT_HOW)]
