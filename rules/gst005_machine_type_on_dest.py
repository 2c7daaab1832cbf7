"""GST005 machine-type-on-dest — the destination's QEMU offers each guest's machine type.

What it checks
    The machine type in each planned guest's XML (``<type machine=...>``,
    e.g. ``pc-q35-rhel9.2.0``) is among the machine types the guest's own
    emulator on the destination accepts: ``EMULATOR -machine help``, run
    by the gather script there (canonical names and aliases, ``pc`` ->
    ``pc-i440fx-7.2``), the same binary GST006 runs. libvirt caches its
    capabilities: with a binary that no longer runs, its read-only
    capabilities XML still listed every machine type (measured), so that
    list is used only when the binary's own was not gathered (an emulator
    path preflight does not run, a guest XML without ``<emulator>``, a
    snapshot of an older preflight). The finding says which source
    judged. When the destination's binary is missing or does not run
    (GST006 fails), or ``-machine help`` failed there, UNKNOWN.

Why it breaks a migration
    The destination starts QEMU with the same machine type so the guest
    sees the same hardware; an older QEMU, or another distribution's build,
    lacks newer or vendor machine types and the incoming QEMU fails to
    start (``unsupported machine type``).

How to fix it
    Migrate to a destination with the same or newer QEMU from the same
    vendor, or (planned downtime) change the guest to a machine type both
    hosts offer.
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.known import Known
from preflight.model.facts import GuestFact
from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed, skipped
from preflight.textsafe import escape_control
from preflight.view.guests import (
    emulator_machines,
    emulator_of,
    emulator_run,
    machine_help_gathered,
    runnable_emulator,
)

ID = "GST005"
NAME = "machine-type-on-dest"
SEVERITY = Severity.ERROR
NEEDS = ("libvirt", "emulator_run")  # the e: words bring -machine help with -version (same section)
SEED = "The destination must use the same hypervisor (beyond the RHEL guide: machine types it offers)."

DST = Scope.DESTINATION
BY_BINARY = "judged by the destination's binary itself (EMULATOR -machine help)"
BY_CAPS = "judged by libvirt's capabilities XML (cached by libvirt)"


def _offered(ctx: Context, guest: GuestFact, caps: Known[list[str]]) -> tuple[Known[list[str]], dict[str, str], str]:
    """What the destination offers this guest: (names, aliases, which source judged and why)."""
    emu = emulator_of(guest)
    if not emu.ok or not runnable_emulator(emu.get()):
        why = emu.reason if not emu.ok else f"{escape_control(emu.get())} is not run by preflight"
        return caps, {}, f"{BY_CAPS}; the binary's own list was not gathered: {why}"
    path = emu.get()
    run = emulator_run(ctx.dest, path)
    if run.ok and run.get().state != "runs":
        dead: Known[list[str]] = Known(None, f"the destination's {path} does not run ({run.get().line}; see GST006): "
                                             "no machine type is offered there")
        return dead, {}, ""
    machines = emulator_machines(ctx.dest, path)
    if machines.ok:
        m = machines.get()
        return Known(list(m.names), source=machines.source), m.aliases, f"{BY_BINARY} ({path})"
    if machine_help_gathered(ctx.dest, path):  # asked and failed: the cached list is no stand-in for it
        return Known(None, f"{machines.reason} (libvirt's cached capabilities are no stand-in)"), {}, ""
    return caps, {}, f"{BY_CAPS}; the binary's own list was not gathered: {machines.reason}"


def check(ctx: Context) -> Iterator[Outcome]:
    src = ctx.source.libvirt
    if src is None:
        yield not_seen(DST, "guest machine types", ctx.source.libvirt_reason())
        return
    if ctx.dest.libvirt_is_test_driver:
        yield skipped(DST, "the libvirt test driver does not model machine types")
        return
    caps: Known[list[str]] = ctx.dest.libvirt_reason().map(lambda lv: lv.machine_types,
                                                           "capabilities list no machine types")
    for name in ctx.guests:
        guest = src.guest(name)
        if guest is None or not guest.machine:
            continue
        offered, aliases, judged = _offered(ctx, guest, caps)
        machine = guest.machine
        if not offered.ok:
            yield not_seen(DST, f"{name}: machine type {machine}", offered, subject=name)
            continue
        ev = {"machine": machine, "offered": offered.get(), "judged_by": judged}
        if machine in offered.get():
            alias = f" (an alias of {aliases[machine]} there)" if machine in aliases else ""
            yield passed(DST, f"{name}: machine type {machine}{alias} is offered by the destination; {judged}",
                         subject=name, evidence=ev)
            continue
        same_family = [m for m in offered.get() if m.split("-")[:2] == machine.split("-")[:2] and m not in aliases]
        yield failed(DST, f"{name}: the destination's QEMU does not offer machine type {machine}"
                     + (f" (it has {', '.join(same_family[:3])})" if same_family else "") + f"; {judged}",
                     "Choose a destination with the same or newer QEMU from the same vendor, or change the "
                     "guest's machine type (planned downtime) to one both hosts offer",
                     subject=name, evidence=ev)
