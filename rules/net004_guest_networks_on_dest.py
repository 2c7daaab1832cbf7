"""NET004 guest-networks-on-dest — every network a guest plugs into exists on the destination.

What it checks
    For each interface of each planned guest: a ``type='network'`` source
    is an active libvirt network on the destination; a ``type='bridge'``
    bridge or a ``type='direct'`` (macvtap) parent device exists there.

Why it breaks a migration
    The destination's QEMU is started with the guest's XML as is: a
    missing bridge fails with ``Cannot get interface MTU on 'br0'``, a
    missing or inactive network with ``Network not found`` (measured).

How to fix it
    Create the bridge (same name) on the destination, or define and start
    the libvirt network there (``virsh net-define`` / ``net-start`` /
    ``net-autostart``); or migrate with ``--xml`` pointing the interface
    at what the destination has.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator

from preflight.known import Known
from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed

ID = "NET004"
NAME = "guest-networks-on-dest"
SEVERITY = Severity.ERROR
NEEDS = ("libvirt", "netdevs")  # view facts read (preflight.view.needs)
SEED = "The destination must be able to run the guest as defined (beyond the RHEL guide: measured failure)."

DST = Scope.DESTINATION


def check(ctx: Context) -> Iterator[Outcome]:
    src = ctx.source.libvirt
    if src is None:
        yield not_seen(DST, "guest interfaces", ctx.source.libvirt_reason())
        return
    dest_lv = ctx.dest.libvirt_reason()
    for name in ctx.guests:
        guest = src.guest(name)
        if guest is None:
            continue
        for nic in guest.interfaces:
            if nic.type not in ("network", "bridge", "direct") or not nic.source:
                continue
            what = f"{name}: {nic.type} {nic.source!r}"
            if nic.type == "network":
                nets: Known[list[str]] = dest_lv.map(lambda lv: lv.networks, "libvirt could not list its networks")
                net = shlex.quote(nic.source)  # from the guest's XML: one shell word in the commands we suggest
                fix = (f"On the destination: virsh net-define {shlex.quote(nic.source + '.xml')}; "
                       f"virsh net-start {net}; virsh net-autostart {net}")
                missing_msg = "Network not found"
            else:
                nets = ctx.dest.netdevs
                kind = "bridge" if nic.type == "bridge" else "device"
                fix = f"Create the {kind} {nic.source} on the destination (same name as on the source)"
                missing_msg = f"Cannot get interface MTU on '{nic.source}'"
            if not nets.ok:
                yield not_seen(DST, what, nets, subject=what)
            elif nic.source in nets.get():
                yield passed(DST, f"{what} exists on the destination", subject=what)
            else:
                yield failed(DST, f"{what} does not exist on the destination: QEMU fails with '{missing_msg}'",
                             fix, subject=what, evidence={"available": nets.get()})
