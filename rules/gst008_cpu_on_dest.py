"""GST008 cpu-on-dest — the guest's CPU definition is usable on the destination.

What it checks
    For each planned guest, its ``<cpu>`` (from the source's libvirt: the
    live XML, where a running host-model guest is already expanded into a
    custom model, vendor and features) against the destination's host CPU
    (``host/cpu`` of its capabilities XML: vendor, model, features):

    - ``host-passthrough`` (and ``maximum``): the guest sees the source's
      CPU, so the destination's must be the same: a different vendor or a
      feature of the source's CPU missing on the destination is an error;
      another model name, signature or extra features a warning (libvirt
      supports passthrough migration only between identical hosts).
    - ``custom`` (and an expanded ``host-model``) under KVM: the model's
      features from the destination's own libvirt CPU map
      (/usr/share/libvirt/cpu_map, gathered), plus ``require``/``force``
      features, minus ``disable``/``optional``, must all be the
      destination's; a ``<vendor>`` must match; ``forbid`` features must be
      absent; a model or feature the destination's map lacks is refused.
      This is libvirt's own x86Compute (src/cpu/cpu_x86.c), on names.
    - TCG guests (``type='qemu'``) with a custom model, guests without a
      model: skipped (libvirt compares nothing; QEMU emulates the model),
      as is an ``--offline`` migration (the destination only defines it).

    Each finding says what judged it. The method is the one
    virConnectCompareCPU uses (the capabilities' host CPU; 406 model and
    policy cases agreed with it on a real libvirtd), which is also what
    libvirt checks before starting a ``check='partial'`` guest (measured:
    qemu64 and Skylake-Client-noTSX-IBRS refused with the same features).
    A ``check='full'`` guest (a running host-model one) is also verified
    against what QEMU/KVM gave it, which can be less than the CPU's CPUID
    on a nested or firmware-limited host: measured on a nested host whose
    KVM withholds SSE3, every ``check='full'`` custom model failed to
    start while the capabilities listed it. Only domain capabilities show
    that, and a read-only connection cannot ask for them. Facts missing
    (capabilities XML, the CPU map) are UNKNOWN, never a pass.

Why it breaks a migration
    The destination starts QEMU with the guest's CPU; without the model's
    features libvirt refuses it (``the CPU is incompatible with host CPU:
    Host CPU does not provide required features: ...``, or ``guest CPU
    doesn't match specification: missing features``); with ``check='none'``
    the guest loses the features under it and may crash. A
    host-passthrough guest moved to another CPU crashes or loses state.

How to fix it
    Give the guest a CPU model every host of the migration pool has: a
    named model both support (``virsh cpu-baseline`` over both hosts'
    capabilities, or ``virsh hypervisor-cpu-baseline``), or ``host-model``
    started on the oldest host; disable (``<feature policy='disable'>``)
    what the destination lacks. Keep host-passthrough for hosts with
    identical CPUs, or migrate to such a host.
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.known import Known, unknown
from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed, skipped
from preflight.rules._guests import guests_on_runnable_dest
from preflight.view.cpu import CpuMap, GuestCpu, HostCpu, compare, cpu_map, guest_cpu, host_cpu, passthrough_difference

ID = "GST008"
NAME = "cpu-on-dest"
SEVERITY = Severity.ERROR
SEVERITIES = (Severity.ERROR, Severity.WARNING)
NEEDS = ("libvirt", "cmd:cpumap")  # probes.CPU_MAP
SEED = "Beyond the RHEL guide: the guest's CPU model and features must be usable on the destination's CPU."

DST = Scope.DESTINATION
BY_MAP = "judged from the destination's capabilities XML and its libvirt CPU map, as virConnectCompareCPU does"
BY_CAPS = "judged from both hosts' capabilities XML (host/cpu)"
BASELINE = ("Give the guest a CPU model both hosts support (virsh cpu-baseline over both hosts' capabilities), or "
            "disable the missing features in its <cpu>, or migrate to a host with this CPU")


def check(ctx: Context) -> Iterator[Outcome]:
    guests, stop = guests_on_runnable_dest(ctx, "guest CPUs", "the libvirt test driver does not model host CPUs",
                                           "an image root has no host CPU to look at",
                                           "the destination only defines the guests (the CPU is compared at start)")
    if stop is not None:
        yield stop
        return
    dest: Known[HostCpu] | None = None
    for g in guests:
        got = guest_cpu(g)
        if not got.ok:
            yield not_seen(DST, f"{g.name}: its CPU definition", got, subject=g.name)
            continue
        cpu = got.get()
        if cpu.mode == "none":
            yield skipped(DST, f"{g.name}: no CPU model in its XML (QEMU's default; libvirt compares nothing)",
                          subject=g.name)
            continue
        if cpu.mode == "host-model" and cpu.model is None:
            yield skipped(DST, f"{g.name}: host-model not yet expanded (the guest is not running); the host "
                          "that starts it expands it", subject=g.name)
            continue
        if cpu.mode == "custom" and cpu.virt_type == "qemu":
            yield skipped(DST, f"{g.name}: a TCG guest's custom CPU is emulated (libvirt does not compare it with "
                          "the host CPU)", subject=g.name)
            continue
        dest = dest if dest is not None else host_cpu(ctx.dest)
        if not dest.ok:
            yield not_seen(DST, f"{g.name}: the destination's host CPU", dest, subject=g.name)
            continue
        if cpu.mode in ("host-passthrough", "maximum"):
            yield _passthrough(ctx, g.name, cpu, dest.get())
        else:
            yield _custom(ctx, g.name, cpu, dest.get())


def _map(ctx: Context, scope: Scope) -> Known[CpuMap]:
    return cpu_map(ctx.host(scope))


def shown(cpu: HostCpu) -> str:
    """Vendor and model, e.g. Intel Broadwell; a capabilities XML may name neither (never "None None")."""
    return " ".join(x for x in (cpu.vendor, cpu.model) if x) or "CPU (no vendor or model in its capabilities XML)"


def _custom(ctx: Context, name: str, cpu: GuestCpu, dest: HostCpu) -> Outcome:
    cmap = _map(ctx, DST)
    if not cmap.ok:
        return not_seen(DST, f"{name}: the destination's libvirt CPU map", cmap, subject=name)
    got = compare(dest, cpu, cmap.get())
    if not got.ok:
        return not_seen(DST, f"{name}: CPU {cpu.model}", got, subject=name)
    v = got.get()
    ev = {"guest_model": cpu.model, "guest_vendor": cpu.vendor, "guest_mode": "custom", "check": cpu.check,
          "dest_model": dest.model, "dest_vendor": dest.vendor, "judged_by": "capabilities XML + CPU map"}
    if v.usable:
        return passed(DST, f"{name}: CPU {v.why} on the destination's {shown(dest)}; {BY_MAP}",
                      subject=name, evidence=ev)
    if v.missing:
        ev["features"] = ", ".join(v.missing)
    lost = " (check='none': libvirt will not refuse, the guest loses these features under it)" \
        if cpu.check == "none" else ""
    return failed(DST, f"{name}: CPU {cpu.model} is not usable on the destination's {shown(dest)}: "
                  f"{v.why}{lost}; {BY_MAP}", BASELINE, subject=name, evidence=ev)


def _passthrough(ctx: Context, name: str, cpu: GuestCpu, dest: HostCpu) -> Outcome:
    src = host_cpu(ctx.source)
    if not src.ok:
        return not_seen(DST, f"{name}: the source's host CPU (host-passthrough)", src, subject=name)
    maps = _map(ctx, Scope.SOURCE), _map(ctx, DST)
    got = passthrough_difference(src.get(), maps[0].value, dest, maps[1].value)
    if not got.ok:
        why = "; ".join(m.reason for m in maps if not m.ok)
        return not_seen(DST, f"{name}: host-passthrough, the two host CPUs",
                        unknown(got.reason + (f" ({why})" if why else "")), subject=name)
    d = got.get()
    s = src.get()
    ev = {"guest_mode": cpu.mode, "source": f"{shown(s)} {s.signature}".strip(),
          "destination": f"{shown(dest)} {dest.signature}".strip(), "judged_by": "capabilities XML"}
    what = f"{name}: host-passthrough guest (it sees the source's {shown(s)})"
    fix = ("Migrate host-passthrough guests only between hosts with identical CPUs, or give the guest a named "
           "CPU model both hosts support (virsh cpu-baseline over both hosts' capabilities)")
    if d.missing or s.vendor != dest.vendor:
        lacks = f"the destination lacks {', '.join(d.missing)}" if d.missing else f"vendor {s.vendor} vs {dest.vendor}"
        ev["missing"] = ", ".join(d.missing)
        return failed(DST, f"{what}: {lacks}; {BY_CAPS}", fix, subject=name, evidence=ev)
    if d.other:
        return failed(DST, f"{what}: the destination's CPU differs ({d.other}); libvirt supports host-passthrough "
                      f"migration only between identical hosts; {BY_CAPS}", fix, subject=name,
                      severity=Severity.WARNING, evidence=ev)
    return passed(DST, f"{what}: the destination's host CPU is the same (vendor, model, signature, features); "
                  f"{BY_CAPS}", subject=name, evidence=ev)
