"""Command-line options shared by `check`, `fix` and `facts`, defined once.

typer reads these annotations at run time, so they keep the typing forms it
understands (Optional, List).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, List, Optional  # noqa: UP035

import typer

GuestsAndUri = Annotated[List[str], typer.Argument(metavar="[GUEST ...] DESTURI", help="As for virsh migrate.")]
Live = Annotated[bool, typer.Option("--live", help="Live migration (the guest must be running).")]
P2p = Annotated[bool, typer.Option("--p2p", help="Peer-to-peer: the source daemon connects to DESTURI.")]
Tunnelled = Annotated[bool, typer.Option("--tunnelled", help="Data over the libvirt connection (with --p2p).")]
CopyStorageAll = Annotated[
    bool, typer.Option("--copy-storage-all", help="Disks are copied: no shared storage needed.")
]
Unsafe = Annotated[bool, typer.Option("--unsafe", help="The migration will pass --unsafe (storage is still judged).")]
Offline = Annotated[bool, typer.Option("--offline", help="Offline migration of the definition only.")]
MigrateUri = Annotated[Optional[str], typer.Option("--migrateuri", help="Data-stream URI, e.g. tcp://10.0.0.20.")]
AllRunning = Annotated[bool, typer.Option("--all-running", help="Every running guest of the source.")]
Concurrency = Annotated[
    Optional[int], typer.Option("--concurrency", help="Migrations at once \\[default: number of guests].")
]
Source = Annotated[str, typer.Option("--source", help="local | ssh://\\[user@]host\\[:port] | image root directory.")]
Dest = Annotated[Optional[str], typer.Option("--dest", help="Destination host \\[default: ssh://HOST of DESTURI].")]
SourceLibvirt = Annotated[
    Optional[str], typer.Option("--source-libvirt", help="libvirt URI of the source \\[default: from --source].")
]
DestLibvirt = Annotated[
    Optional[str], typer.Option("--dest-libvirt", help="libvirt URI of the destination \\[default: from --dest].")
]
SourceFacts = Annotated[
    Optional[Path], typer.Option("--source-facts", help="Use a saved snapshot instead of gathering.")
]
DestFacts = Annotated[Optional[Path], typer.Option("--dest-facts", help="Use a saved snapshot instead of gathering.")]
Sudo = Annotated[bool, typer.Option("--sudo", help="Run the remote gather script with sudo -n.")]
SshConfig = Annotated[Optional[Path], typer.Option("--ssh-config", help="ssh -F FILE for inspection connections.")]
MAX_TIMEOUT = 86400.0  # a day: beyond it time arithmetic overflows in places (poll, ssh ConnectTimeout)


def _timeout(value: float) -> float:
    """A finite number of seconds > 0: inf/nan/0/-5 would disable or break every deadline."""
    if not math.isfinite(value) or not 0 < value <= MAX_TIMEOUT:
        typer.echo(f"preflight: error: --timeout must be a number of seconds > 0 and <= {MAX_TIMEOUT:g}, "
                   f"got {value!r}", err=True)
        raise typer.Exit(2)
    return value


Timeout = Annotated[
    float, typer.Option("--timeout", callback=_timeout, help="Seconds per connection / gather phase (> 0).")
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
