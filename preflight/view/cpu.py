"""A guest's CPU definition against a host's CPU, the way libvirt's x86 CPU driver compares them (GST008).

The host CPU is the ``host/cpu`` of the capabilities XML (a model of libvirt's CPU map plus the
features beyond it, as the CPU's CPUID shows them); the guest's is its ``<cpu>`` element. Model
names are expanded into features with the host's own libvirt CPU map (``/usr/share/libvirt/
cpu_map``, gathered as ``cmd:cpumap``). The comparison follows ``x86Compute`` in libvirt's
src/cpu/cpu_x86.c on feature names: a required vendor must be the host's, forbidden features must
be absent, the model's features plus the required and forced ones, minus the disabled and optional
ones, must all be the host's; ``match='strict'`` also refuses features the host has beyond them.
This is what ``virConnectCompareCPU`` answers (it compares with the capabilities' host CPU too).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from preflight.known import Known, known, unknown
from preflight.model import probes as P
from preflight.model.facts import GuestFact
from preflight.textsafe import escape_control
from preflight.view.guests import guest_root
from preflight.view.host import HostView
from preflight.xmlsafe import parse_xml

X86 = ("x86_64", "i686")
CPU_MAP_DIR = "/usr/share/libvirt/cpu_map"
BASE_DEPTH = 16  # a model's base chain; libvirt's maps use none or one


@dataclass(frozen=True)
class ModelDef:
    name: str
    vendor: str | None
    base: str | None
    features: frozenset[str]


@dataclass(frozen=True)
class CpuMap:
    """The x86 models, features and vendors of a host's libvirt CPU map."""

    vendors: frozenset[str]
    features: frozenset[str]
    models: dict[str, ModelDef]

    def expand(self, name: str) -> frozenset[str] | None:
        """Every feature of model ``name``, its base models' included; None when the map lacks one."""
        out: set[str] = set()
        seen: set[str] = set()
        cur: str | None = name
        while cur is not None:
            model = self.models.get(cur)
            if model is None or cur in seen or len(seen) >= BASE_DEPTH:
                return None
            seen.add(cur)
            out |= model.features
            cur = model.base
        return frozenset(out)


def parse_cpu_map(text: str) -> CpuMap | None:
    """The probe's lines: ``vendors V...``, ``features F...``, ``model NAME VENDOR|- BASE|- F...``."""
    vendors: set[str] = set()
    features: set[str] = set()
    models: dict[str, ModelDef] = {}
    for ln in text.splitlines():
        words = ln.split()
        if not words:
            continue
        if words[0] == "vendors":
            vendors.update(words[1:])
        elif words[0] == "features":
            features.update(words[1:])
        elif words[0] == "model" and len(words) >= 4:
            name, vendor, base = words[1], words[2], words[3]
            models[name] = ModelDef(name, None if vendor == "-" else vendor, None if base == "-" else base,
                                    frozenset(words[4:]))
    if not models:
        return None
    return CpuMap(frozenset(vendors), frozenset(features), models)


def cpu_map(host: HostView) -> Known[CpuMap]:
    """The host's libvirt x86 CPU map (the models its libvirt knows and their features)."""
    return host.text(P.CPU_MAP).map(parse_cpu_map, f"{CPU_MAP_DIR}: no x86 CPU model in the map")


@dataclass(frozen=True)
class HostCpu:
    arch: str
    vendor: str | None
    model: str | None
    features: frozenset[str]  # listed beyond the model
    signature: str  # "family 6 model 167 stepping 1", or ""


def host_cpu(host: HostView) -> Known[HostCpu]:
    """``host/cpu`` of the host's capabilities XML (libvirt's read-only getCapabilities)."""
    lv = host.libvirt_reason()
    if not lv.ok:
        return unknown(lv.reason, lv.not_applicable)
    facts = lv.get()
    if host.libvirt_is_test_driver:
        return unknown(f"libvirt test driver ({facts.uri}) does not model the host CPU", not_applicable=True)
    if not facts.capabilities:
        return unknown(f"libvirt {facts.uri}: no capabilities XML ({facts.errors.get('host_uuid', 'not read')})")
    try:
        cpu = parse_xml(facts.capabilities).find("host/cpu")
    except ET.ParseError as exc:
        return unknown(f"libvirt {facts.uri}: the capabilities XML does not parse: {exc}")
    if cpu is None:
        return unknown(f"libvirt {facts.uri}: the capabilities XML has no host/cpu")
    sig = cpu.find("signature")
    signature = (" ".join(f"{k} {sig.get(k)}" for k in ("family", "model", "stepping") if sig.get(k))
                 if sig is not None else "")
    return known(HostCpu(arch=(cpu.findtext("arch") or "").strip(),
                         vendor=(cpu.findtext("vendor") or "").strip() or None,
                         model=(cpu.findtext("model") or "").strip() or None,
                         features=frozenset(f.get("name", "") for f in cpu.findall("feature") if f.get("name")),
                         signature=signature),
                 f"capabilities XML of libvirt {facts.uri}")


@dataclass(frozen=True)
class GuestCpu:
    mode: str  # custom | host-model | host-passthrough | maximum | none (no <cpu>, or one without a model)
    virt_type: str
    arch: str
    model: str | None = None
    match: str = "exact"
    check: str = ""
    vendor: str | None = None
    policies: dict[str, str] = field(default_factory=dict)  # feature -> require|force|optional|disable|forbid


def guest_cpu(guest: GuestFact) -> Known[GuestCpu]:
    """The guest's ``<cpu>``, from the XML the source's libvirt reported (the live one for a running
    guest: a host-model CPU there is already expanded into a custom model and features)."""
    parsed = guest_root(guest)
    if parsed.value is None:
        return unknown(parsed.reason)
    root = parsed.value
    vtype = root.get("type", "")
    arch = (root.find("os/type").get("arch", "") if root.find("os/type") is not None else "")  # type: ignore[union-attr]
    cpu = root.find("cpu")
    if cpu is None:
        return known(GuestCpu("none", vtype, arch), "the guest's XML")
    model_el = cpu.find("model")
    model = (model_el.text or "").strip() or None if model_el is not None else None
    mode = cpu.get("mode", "custom")
    if mode == "custom" and model is None:
        mode = "none"  # topology only: libvirt compares nothing
    policies = {f.get("name", ""): f.get("policy", "require") for f in cpu.findall("feature") if f.get("name")}
    return known(GuestCpu(mode, vtype, arch, model, cpu.get("match", "exact"), cpu.get("check", ""),
                          (cpu.findtext("vendor") or "").strip() or None, policies), "the guest's XML")


@dataclass(frozen=True)
class Verdict:
    usable: bool
    why: str  # libvirt's words for the refusal, or what was compared
    missing: tuple[str, ...] = ()


def features_of(host: HostCpu, cmap: CpuMap) -> frozenset[str] | None:
    """Every feature of a host CPU: its model's (from the map) plus those listed beyond it."""
    if host.model is None:
        return host.features
    base = cmap.expand(host.model)
    return None if base is None else base | host.features


def compare(host: HostCpu, guest: GuestCpu, cmap: CpuMap) -> Known[Verdict]:
    """Whether ``guest``'s custom CPU runs on ``host``, as libvirt's x86Compute judges it.

    UNKNOWN when the map cannot say what the host's own model holds (a map without it).
    """
    if guest.arch and guest.arch not in X86:
        return unknown(f"a {escape_control(guest.arch)} guest: preflight knows only libvirt's x86 CPU map")
    if guest.vendor and guest.vendor != host.vendor:
        return known(Verdict(False, f"host CPU vendor does not match required CPU vendor {guest.vendor} "
                                    f"(the destination's is {host.vendor or 'unknown'})"), "x86Compute")
    have = features_of(host, cmap)
    if have is None:
        return unknown(f"the destination's host CPU model {escape_control(host.model or '')} is not in its "
                       "own CPU map as gathered")
    if guest.model is None:
        return unknown(f"a {escape_control(guest.mode)} CPU without a model")
    if guest.model not in cmap.models:
        return known(Verdict(False, f"Unknown CPU model {guest.model} (the destination's libvirt CPU map does "
                                    "not have it)"), "x86Compute")
    unknown_features = sorted(f for f in guest.policies if f not in cmap.features)
    if cmap.features and unknown_features:
        return known(Verdict(False, f"unknown CPU feature(s) {', '.join(unknown_features)} (not in the "
                                    "destination's libvirt CPU map)", tuple(unknown_features)), "x86Compute")
    by = {p: {f for f, q in guest.policies.items() if q == p} for p in ("force", "require", "optional", "disable",
                                                                         "forbid")}
    forbidden = sorted(by["forbid"] & have)
    if forbidden:
        return known(Verdict(False, f"Host CPU provides forbidden features: {', '.join(forbidden)}",
                             tuple(forbidden)), "x86Compute")
    model = cmap.expand(guest.model) or frozenset()
    required = (model | by["require"]) - by["force"] - by["optional"] - by["disable"]
    missing = sorted(required - have)
    if missing:
        return known(Verdict(False, f"Host CPU does not provide required features: {', '.join(missing)}",
                             tuple(missing)), "x86Compute")
    extra = sorted(have - required - by["optional"] - by["disable"] - by["force"])
    if guest.match == "strict" and extra:
        return known(Verdict(False, f"Host CPU does not strictly match guest CPU: Extra features: "
                                    f"{', '.join(extra)}", tuple(extra)), "x86Compute")
    return known(Verdict(True, f"{guest.model} with {len(required)} required features: all present"),
                 "x86Compute")


@dataclass(frozen=True)
class Difference:
    missing: tuple[str, ...]  # the source's host CPU features the destination lacks
    other: str  # vendor / model / signature / extra features that differ, or ""


def passthrough_difference(src: HostCpu, src_map: CpuMap | None, dst: HostCpu,
                           dst_map: CpuMap | None) -> Known[Difference]:
    """How the destination's host CPU differs from the source's (a host-passthrough guest sees the source's)."""
    if (src.model, src.features) == (dst.model, dst.features):
        have_src, have_dst = src.features, dst.features  # same description: no map needed
    else:
        if src_map is None or dst_map is None:
            return unknown("the two host CPUs are described differently and a CPU map to expand them is missing")
        got_src, got_dst = features_of(src, src_map), features_of(dst, dst_map)
        if got_src is None or got_dst is None:
            return unknown("a host CPU model is not in its host's CPU map as gathered")
        have_src, have_dst = got_src, got_dst
    other = []
    if src.vendor != dst.vendor:
        other.append(f"vendor {src.vendor} vs {dst.vendor}")
    if src.model != dst.model:
        other.append(f"model {src.model} vs {dst.model}")
    if src.signature != dst.signature:
        other.append(f"signature {src.signature or '-'} vs {dst.signature or '-'}")
    extra = sorted(have_dst - have_src)
    if extra:
        other.append(f"destination-only features {', '.join(extra)}")
    return known(Difference(tuple(sorted(have_src - have_dst)), "; ".join(other)), "capabilities XML")
