"""GST006 emulator-on-dest — each guest's emulator exists on the destination and runs.

What it checks
    The ``<emulator>`` path in each planned guest's XML (from the source's
    libvirt, e.g. ``/usr/bin/qemu-system-x86_64``) exists on the
    destination and ``EMULATOR -version`` runs there. The gather script
    probes the binary itself (no side effects, stdin /dev/null, under the
    command timeout): a read-only libvirt connection cannot ask for domain
    capabilities, and libvirt caches its capabilities, so they can still
    list a binary that no longer runs (measured: the read-only
    capabilities XML kept every machine type of a binary that failed to
    start, while the migration failed at once, with no libvirtd restart:
    libvirt re-checks the binary's ctime when it starts a guest). The
    finding names this path. Only
    an absolute path named ``qemu*`` or ``kvm`` is run (the XML is the
    source's, hostile like all input): any other is UNKNOWN.

Why it breaks a migration
    The destination's libvirt starts the same emulator for the incoming
    guest; when it is missing or does not run, the migration fails at once
    (measured: a missing one, ``Cannot check QEMU binary
    /usr/libexec/qemu-kvm: No such file or directory``; one that does not
    run, ``internal error: Failed to start QEMU binary
    /usr/bin/qemu-system-x86_64 for probing: ...`` with its own error).

How to fix it
    Install the emulator on the destination at the same path (the
    distribution's qemu-kvm / qemu-system-x86 package), or repair it (the
    error line shown is its own: a missing library, a broken package);
    a different path across distributions needs the guest's XML changed.
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed, skipped
from preflight.rules._guests import guests_on_runnable_dest
from preflight.view.guests import emulator_of, emulator_run

ID = "GST006"
NAME = "emulator-on-dest"
SEVERITY = Severity.ERROR
NEEDS = ("libvirt", "emulator_run")
SEED = "Beyond the RHEL guide: the destination must be able to start the guest's QEMU binary."

DST = Scope.DESTINATION
JUDGED = "judged by running the binary on the destination (EMULATOR -version)"


def check(ctx: Context) -> Iterator[Outcome]:
    guests, stop = guests_on_runnable_dest(ctx, "guest emulators", "the libvirt test driver runs no emulator",
                                           "an image root cannot run the destination's emulator")
    if stop is not None:
        yield stop
        return
    for guest in guests:
        name = guest.name
        path = emulator_of(guest)
        if not path.ok:
            yield skipped(DST, f"{name}: no emulator to check ({path.reason})", subject=name)
            continue
        emu = path.get()
        run = emulator_run(ctx.dest, emu)
        if not run.ok:
            yield not_seen(DST, f"{name}: emulator {emu}", run, subject=name)
            continue
        seen = run.get()
        ev = {"emulator": emu, "state": seen.state, "output": seen.line, "judged_by": "EMULATOR -version"}
        if seen.state == "runs":
            yield passed(DST, f"{name}: the destination runs {emu} ({seen.line}); {JUDGED}", subject=name,
                         evidence=ev)
        elif seen.state == "missing":
            yield failed(DST, f"{name}: the destination has no {emu}: libvirt will say 'Cannot check QEMU "
                         f"binary {emu}: No such file or directory'; {JUDGED}",
                         f"Install the emulator on the destination at {emu} (qemu-kvm / qemu-system-x86), or "
                         "change the guest's <emulator> to the destination's path (planned downtime)",
                         subject=name, evidence=ev)
        else:
            yield failed(DST, f"{name}: {emu} does not run on the destination (exit {seen.rc}: {seen.line}): "
                         f"libvirt will say 'Failed to start QEMU binary {emu} for probing'; {JUDGED}",
                         f"Repair the emulator on the destination (reinstall its package; the error is its own: "
                         f"{seen.line})", subject=name, evidence={**ev, "rc": seen.rc})
