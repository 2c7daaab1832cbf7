"""GST007 kvm-on-dest — a ``type='kvm'`` guest needs KVM on the destination.

What it checks
    For each planned guest whose domain type (``<domain type='kvm'>`` in
    its XML from the source's libvirt) is ``kvm``: the destination has
    /dev/kvm as a character device and the kvm module loaded
    (/sys/module/kvm), as the gather script sees them (judged from the
    host itself, not from libvirt's cached capabilities; the finding says
    so). A warning when /dev/kvm's mode lets neither the user QEMU runs as
    (qemu.conf ``user``; unset: the build's non-root default) nor a
    non-root group read and write it (QEMU's own groups are not gathered:
    a group with read-write, the usual ``660 root kvm``, is taken as usable).

Why it breaks a migration
    Without KVM the destination's QEMU cannot accelerate the guest and
    libvirt refuses it: ``unsupported configuration: Emulator
    '/usr/bin/qemu-system-x86_64' does not support virt type 'kvm'``
    (measured).

How to fix it
    On the destination enable virtualization in the firmware, load the
    module (``modprobe kvm_intel`` or ``kvm_amd``), and check that
    /dev/kvm exists (``ls -l /dev/kvm``, group kvm, mode 660); a nested
    host needs nested virtualization enabled on its own host.
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.known import Known
from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed, skipped
from preflight.rules._guests import guests_on_runnable_dest
from preflight.view.guests import Kvm, emulator_of, kvm, kvm_closed_to, qemu_user, virt_type_of

ID = "GST007"
NAME = "kvm-on-dest"
SEVERITY = Severity.ERROR
SEVERITIES = (Severity.ERROR, Severity.WARNING)  # what its findings can carry
NEEDS = ("libvirt", "kvm", "qemu_conf")
SEED = "Beyond the RHEL guide: a type='kvm' guest needs a usable /dev/kvm on the destination."

DST = Scope.DESTINATION
JUDGED = "judged from /dev/kvm and /sys/module/kvm on the destination"


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
        ev = {"dev_kvm": k.dev, "kvm_module": k.module, "mode": k.mode, "judged_by": "/dev/kvm, /sys/module/kvm"}
        user = qemu_user(ctx.dest)
        closed = kvm_closed_to(k, user.get()) if k.usable and user.ok else ""
        if closed:
            yield failed(DST, f"{name}: {closed} ('Could not access KVM kernel module: Permission denied'); {JUDGED}",
                         "On the destination give /dev/kvm to the kvm group, mode 660 (the udev rule of the qemu "
                         "packages), with QEMU's user in that group, or set qemu.conf's user accordingly",
                         subject=name, severity=Severity.WARNING, file=user.source,
                         evidence={**ev, "qemu_user": user.get() or "(default)"})
            continue
        if k.usable:
            yield passed(DST, f"{name}: the destination has KVM (/dev/kvm {k.mode}); {JUDGED}", subject=name,
                         evidence=ev)
            continue
        emu = emulator_of(guest).value or "the emulator"
        why = {"absent": "no /dev/kvm", "other": "/dev/kvm is not a character device"}.get(k.dev, "")
        why = why or "the kvm module is not loaded (no /sys/module/kvm)"
        yield failed(DST, f"{name}: a type='kvm' guest and {why} on the destination: libvirt will say "
                     f"'unsupported configuration: Emulator '{emu}' does not support virt type 'kvm''; {JUDGED}",
                     "On the destination enable virtualization in the firmware and load the module (modprobe "
                     "kvm_intel or kvm_amd) so /dev/kvm appears; a nested host needs nested virtualization",
                     subject=name, evidence=ev)
