"""GST007 kvm-on-dest — a ``type='kvm'`` guest needs KVM on the destination.

What it checks
    For each planned guest whose domain type (``<domain type='kvm'>`` in
    its XML from the source's libvirt) is ``kvm``: the destination has
    /dev/kvm as a character device and the kvm module loaded
    (/sys/module/kvm), as the gather script sees them, and the guest's own
    emulator there lists ``kvm`` in ``EMULATOR -accel help`` (a QEMU built
    without KVM lists only ``tcg``); judged from the host and the binary
    themselves, not from libvirt's cached capabilities (the finding says
    so). When the binary's answer could not be had (it does not run: see
    GST006; a path preflight does not run) the result is UNKNOWN. A
    warning when /dev/kvm's mode lets neither the user QEMU runs as
    (qemu.conf ``user``; unset: the build's non-root default) nor a
    non-root group read and write it (QEMU's own groups are not gathered:
    a group with read-write, the usual ``660 root kvm``, is taken as usable).

Why it breaks a migration
    Without KVM the destination's QEMU cannot accelerate the guest and
    libvirt refuses it: the incoming migration fails with ``unsupported
    configuration: Domain requires KVM, but it is not available``, and
    defining the guest there with ``Emulator '/usr/bin/qemu-system-x86_64'
    does not support virt type 'kvm'`` (both measured).

How to fix it
    On the destination enable virtualization in the firmware, load the
    module (``modprobe kvm_intel`` or ``kvm_amd``), and check that
    /dev/kvm exists (``ls -l /dev/kvm``, group kvm, mode 660); a nested
    host needs nested virtualization enabled on its own host.
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.known import Known
from preflight.model.facts import GuestFact
from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed, skipped
from preflight.rules._guests import guests_on_runnable_dest
from preflight.view.guests import (
    Kvm,
    emulator_accels,
    emulator_of,
    emulator_run,
    kvm,
    kvm_closed_to,
    qemu_user,
    virt_type_of,
)

ID = "GST007"
NAME = "kvm-on-dest"
SEVERITY = Severity.ERROR
SEVERITIES = (Severity.ERROR, Severity.WARNING)  # what its findings can carry
NEEDS = ("libvirt", "kvm", "qemu_conf", "emulator_run")  # -accel help comes with the e: words
SEED = "Beyond the RHEL guide: a type='kvm' guest needs a usable /dev/kvm on the destination."

DST = Scope.DESTINATION
JUDGED = "judged from /dev/kvm and /sys/module/kvm on the destination"
JUDGED_ALL = "judged from /dev/kvm, /sys/module/kvm and the emulator's own -accel help on the destination"


def _accels(ctx: Context, guest: GuestFact) -> Known[tuple[str, ...]]:
    """The accelerators the guest's emulator on the destination lists, or why that is not known."""
    emu = emulator_of(guest)
    if not emu.ok:
        return Known(None, emu.reason)
    run = emulator_run(ctx.dest, emu.get())
    if run.ok and run.get().state != "runs":
        return Known(None, f"the destination's {emu.get()} does not run ({run.get().line}; see GST006)")
    return emulator_accels(ctx.dest, emu.get())


def check(ctx: Context) -> Iterator[Outcome]:
    guests, stop = guests_on_runnable_dest(ctx, "guest virt types", "the libvirt test driver does not use KVM",
                                           "an image root has no /dev/kvm to look at")
    if stop is not None:
        yield stop
        return
    dest: Known[Kvm] | None = None
    for guest in guests:
        name = guest.name
        vtype = virt_type_of(guest)
        if not vtype.ok:
            yield skipped(DST, f"{name}: no virt type to check ({vtype.reason})", subject=name)
            continue
        if vtype.get() != "kvm":
            yield skipped(DST, f"{name}: virt type {vtype.get()!r} needs no KVM", subject=name)
            continue
        dest = dest if dest is not None else kvm(ctx.dest)
        if not dest.ok:
            yield not_seen(DST, f"{name}: KVM on the destination", dest, subject=name)
            continue
        k = dest.get()
        ev: dict[str, object] = {"dev_kvm": k.dev, "kvm_module": k.module, "mode": k.mode, "rdev": k.rdev,
                                 "judged_by": "/dev/kvm, /sys/module/kvm"}
        emu = emulator_of(guest).value or "the emulator"
        says = ("libvirt refuses the guest ('Domain requires KVM, but it is not available'; defining it there: "
                f"'Emulator '{emu}' does not support virt type 'kvm'')")
        if k.wrong_device:
            yield failed(DST, f"{name}: /dev/kvm on the destination is character device {k.rdev} (hex), not KVM's "
                         f"a:e8 (10:232), e.g. /dev/null mounted over it: QEMU fails with 'kvm version too old' "
                         f"(measured); {JUDGED}",
                         "On the destination remove what is mounted over /dev/kvm or recreate it (mknod /dev/kvm c 10 "
                         "232, group kvm, mode 660; udev does it when the kvm module loads)", subject=name, evidence=ev)
            continue
        if not k.usable:
            why = {"absent": "no /dev/kvm", "other": "/dev/kvm is not a character device"}.get(k.dev, "")
            why = why or "the kvm module is not loaded (no /sys/module/kvm)"
            yield failed(DST, f"{name}: a type='kvm' guest and {why} on the destination: {says}; {JUDGED}",
                         "On the destination enable virtualization in the firmware and load the module (modprobe "
                         "kvm_intel or kvm_amd) so /dev/kvm appears; a nested host needs nested virtualization",
                         subject=name, evidence=ev)
            continue
        accels = _accels(ctx, guest)
        if not accels.ok:
            yield not_seen(DST, f"{name}: /dev/kvm is fine on the destination, but whether {emu} there accepts "
                           "-accel kvm", accels, subject=name, evidence=ev)
            continue
        ev = {**ev, "accelerators": list(accels.get()), "judged_by": "/dev/kvm, /sys/module/kvm, EMULATOR -accel help"}
        if "kvm" not in accels.get():
            listed = ", ".join(accels.get()) or "none"
            yield failed(DST, f"{name}: a type='kvm' guest and the destination's {emu} has no KVM accelerator "
                         f"(-accel help lists: {listed}): {says}; {JUDGED_ALL}",
                         f"Install a QEMU built with KVM at {emu} on the destination (the distribution's qemu-kvm / "
                         "qemu-system-x86 package)", subject=name, evidence=ev)
            continue
        user = qemu_user(ctx.dest)
        closed = kvm_closed_to(k, user.get()) if user.ok else ""
        if closed:
            yield failed(DST, f"{name}: {closed} ('Could not access KVM kernel module: Permission denied'); "
                         f"{JUDGED_ALL}",
                         "On the destination give /dev/kvm to the kvm group, mode 660 (the udev rule of the qemu "
                         "packages), with QEMU's user in that group, or set qemu.conf's user accordingly",
                         subject=name, severity=Severity.WARNING, file=user.source,
                         evidence={**ev, "qemu_user": user.get() or "(default)"})
            continue
        yield passed(DST, f"{name}: the destination has KVM (/dev/kvm {k.mode}; {emu} lists kvm); {JUDGED_ALL}",
                     subject=name, evidence=ev)
