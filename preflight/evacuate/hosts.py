"""SOURCE and DEST specs as the hosts to gather, each with the DESTURI a migration to it names.

The DESTURI is built from the validated HostSpec by preflight.uri's parts (never pasted from the
user's text) and read back to check it names the host that is judged.
"""

from __future__ import annotations

import os
from dataclasses import replace

from preflight.access import AccessOptions, HostSpec, HostSpecError
from preflight.access.spec import check_host, parse_host_spec
from preflight.fleet.hosts import FleetHost
from preflight.gather.image import read_file_probe
from preflight.uri import migration_uri

SOURCE = "source"


def dest_uri(spec: HostSpec) -> str:
    """``qemu+ssh://[user@]host[:port]/system`` for an ssh spec; an image root: its /etc/hostname."""
    if spec.kind == "image":
        target = HostSpec(kind="ssh", host=image_name(spec.root or ""))
    elif spec.kind == "ssh":
        target = spec
    else:
        raise HostSpecError("'local' cannot be a destination: name it as ssh://HOST (the source migrates "
                            "to it over ssh)")
    return migration_uri(target)  # read back: never a URI naming another host than the one judged


def image_name(root: str) -> str:
    """The host name an image root gives itself (/etc/hostname, confined read), else its directory name."""
    probe = read_file_probe(root, "/etc/hostname")
    words = (probe.text or "").split()
    for candidate in (words[0] if words else "", os.path.basename(root.rstrip("/"))):
        try:
            return check_host(candidate)
        except HostSpecError:
            continue
    raise HostSpecError(f"{root}: no usable host name in etc/hostname nor in the directory's name")


def build(source: str, dests: list[str], source_libvirt: str | None, dest_libvirt: list[str],
          options: AccessOptions, source_host: FleetHost | None = None) -> tuple[FleetHost, list[FleetHost]]:
    """The source and the destinations, keyed ``source``, ``dest1``...; HostSpecError (a ValueError) for
    a spec or URI we refuse. --dest-libvirt values pair with --to values in order. ``source_host``: the
    source as an inventory built it (SOURCE named an inventory host)."""
    if dest_libvirt and len(dest_libvirt) != len(dests):
        raise HostSpecError(f"--dest-libvirt given {len(dest_libvirt)} time(s) for {len(dests)} destination(s): "
                            "give it once per --to, in the same order")
    if source_host is not None:
        src = replace(source_host, name=SOURCE, libvirt=source_libvirt or source_host.libvirt, dest_uri="")
    else:
        src = FleetHost(SOURCE, parse_host_spec(source), source_libvirt, options, "", [])
    src_spec = src.spec
    out: list[FleetHost] = []
    seen: dict[str, str] = {}
    for i, text in enumerate(dests):
        spec = parse_host_spec(text)
        uri = dest_uri(spec)
        if spec == src_spec:
            raise HostSpecError(f"--to {text}: the destination is the source")
        if uri in seen:
            raise HostSpecError(f"--to {text}: the same destination as --to {seen[uri]} ({uri})")
        seen[uri] = text
        out.append(FleetHost(f"dest{i + 1}", spec, dest_libvirt[i] if dest_libvirt else None, options, uri, []))
    return src, out
