"""A source and two destinations as fact fixtures (tests/rule_checks/factory.py's baseline, plus host3)."""

from __future__ import annotations

import dataclasses

from preflight.evacuate.judge import Flags
from preflight.evacuate.plan import Dest, Evacuation, build
from preflight.model import probes as P
from preflight.model.facts import InterfaceFact, MemoryFact
from preflight.rules import ALL_RULES
from tests.rule_checks.factory import HostBuilder, baseline, guest

MIB, GIB = 1 << 20, 1 << 30
H3_ADDR = "198.18.0.13"


def xml(name: str, mib: int) -> str:
    return (f"<domain type='qemu'><name>{name}</name><memory unit='KiB'>{mib * 1024}</memory>"
            f"<currentMemory unit='MiB'>{mib}</currentMemory><os><type arch='x86_64' "
            "machine='pc-i440fx-7.2'>hvm</type></os><devices/></domain>")


def vm(name: str, mib: int, n: int, **kw: object) -> object:
    # XML 1.0 cannot hold a control character: libvirt's XML of such a guest is left to other tests
    return guest(name, uuid=f"22222222-2222-2222-2222-{n:012d}", xml=xml(name if name.isprintable() else "g", mib),
                 **kw)


def hosts(guests: list[tuple[str, int]], available: list[int] | None = None) -> tuple[HostBuilder, list[HostBuilder]]:
    """The source running ``guests`` (name, MiB), host2 and host3 with ``available`` bytes each."""
    src, dst = baseline()
    src.guests = [vm(name, mib, i) for i, (name, mib) in enumerate(guests)]  # type: ignore[misc]
    h3 = dataclasses.replace(dst, hostname="host3.example.com", addr=H3_ADDR,
                             uuid="aaaaaaaa-0000-0000-0000-000000000003", files=dict(dst.files), cmds=dict(dst.cmds))
    h3.files[P.ETC_HOSTNAME] = "host3.example.com\n"
    h3.cmds[P.HOSTNAME] = "host3\n"
    h3.cmds[P.HOSTNAME_F] = "host3.example.com\n"
    h3.cmds[P.ADDRESSES] = f"1: lo    inet 127.0.0.1/8 scope host lo\n2: eth0    inet {H3_ADDR}/24 scope global eth0\n"
    src.cmds[P.getent_key("host3.example.com")] = f"{H3_ADDR}      STREAM host3.example.com\n"
    src.files[P.ETC_HOSTS] = (src.files[P.ETC_HOSTS] or "") + f"{H3_ADDR} host3.example.com host3\n"
    for d, avail in zip((dst, h3), available or [12 * GIB, 12 * GIB], strict=True):
        d.memory = MemoryFact(total=16 * GIB, free=avail, available=avail)
    return src, [dst, h3]


def evacuate(src: HostBuilder, dests: list[HostBuilder], flags: Flags | None = None,
             concurrency: int | None = None) -> Evacuation:
    snaps = [d.build() for d in dests]
    ds = [Dest(f"dest{i + 1}", f"ssh://root@{d.hostname}", f"qemu+ssh://root@{d.hostname}/system", s)
          for i, (d, s) in enumerate(zip(dests, snaps, strict=True))]
    return build("local", src.build(), ds, flags or Flags(), ALL_RULES, concurrency)


def bridge(name: str) -> list[InterfaceFact]:
    return [InterfaceFact("bridge", name)]
