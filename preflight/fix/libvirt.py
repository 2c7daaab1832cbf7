"""libvirt daemon config (libvirtd.conf / virtqemud.conf): limits sized to the plan, obsolete keys out.

One desired state per host, computed from the file and the plan (so a second
run finds nothing to change): T = the largest of the recommended size, the
file's own max_clients and max_workers, max_anonymous_clients and
min_workers; max_workers = T and max_clients = T (the seed: keep them equal),
never lowering a value, and never lowering the modern compiled default
max_clients 5000 to match.
"""

from __future__ import annotations

from dataclasses import dataclass

import augeas

from preflight.defaults import LibvirtDefaults
from preflight.fix.context import FixContext
from preflight.fix.model import FileChange, FixPlan, NotFixed
from preflight.fix.templates import render
from preflight.fix.textstyle import LineStyle
from preflight.fix.tree import quoted
from preflight.model import probes as P
from preflight.model.facts import Availability
from preflight.model.findings import Finding, ParseError, Scope
from preflight.parsers.augeas_util import edit_text
from preflight.parsers.libvirtconf import LENS, LibvirtConf, format_value, parse_libvirt_conf
from preflight.rules import (
    dmn002_daemon_config_valid,
    dmn003_obsolete_keys,
    lim001_client_slots,
    lim002_source_workers,
    lim003_clients_equal_workers,
    rule_of,
)
from preflight.view import HostView, JudgedDaemon
from preflight.view.daemons import connected_clients, file_limits, judged_by, limits_target

LIM001, LIM002 = rule_of(lim001_client_slots), rule_of(lim002_source_workers)
LIM003 = rule_of(lim003_clients_equal_workers)
DMN002, DMN003 = rule_of(dmn002_daemon_config_valid), rule_of(dmn003_obsolete_keys)
RULES = (LIM001, LIM002, LIM003, DMN002, DMN003)
LIMIT_RULES = (LIM001, LIM002, LIM003, DMN002)
OBSOLETE = ("max_requests",)
CRLF_WHY = ("line endings CRLF -> LF: libvirt reads both, but Augeas lenses (libvirt's own included) reject "
            "CR, so the file could not be checked or edited as it was")


@dataclass
class Setting:
    key: str
    value: int
    why: str
    changed: bool = True


def fix(fc: FixContext, out: FixPlan) -> None:
    """Each judged daemon's own file (libvirtd.conf; virtqemud.conf and virtproxyd.conf on modular hosts)."""
    for scope in (Scope.SOURCE, Scope.DESTINATION):
        found = [f for f in fc.failing(RULES, scope) if P.QEMU_CONF not in (f.file, f.subject)]
        if not found:
            continue
        host = fc.ctx.host(scope)
        incoming = fc.ctx.plan.dest_transport if scope is Scope.DESTINATION else None
        judged = host.judged_daemons(incoming)
        for d in judged:
            # a finding names the daemon it judged; one that names none is the first daemon's (as before)
            mine = [f for f in found if judged_by(f.evidence) == d.name
                    or (judged_by(f.evidence) is None and d is judged[0])]
            if mine:
                _fix_host(fc, host, scope, d, mine, out)


def _fix_host(fc: FixContext, host: HostView, scope: Scope, d: JudgedDaemon, found: list[Finding],
              out: FixPlan) -> None:
    path = d.path
    probe = host.snap.probe(P.file_key(path))
    if probe.status is not Availability.MISSING and not probe.ok:
        out.not_fixed += [NotFixed(f, f"{path} could not be read: {probe.reason()}") for f in found]
        return
    old = probe.text if probe.ok else None
    style = LineStyle.of(old or "")
    text = style.normalise(old or "")
    conf = parse_libvirt_conf(text, path)
    if conf.errors:
        err = conf.errors[0]
        why = f"{err.file}:{err.line or '?'}: {err.message}: Augeas cannot parse the file; left untouched"
        out.not_fixed += [NotFixed(f, why) for f in found]
        return
    limits = _limits(fc, host, d, conf) if any(_about_limits(f) for f in found) else []
    obsolete = [k for k in OBSOLETE if conf.get(k) is not None and any(f.rule == DMN003.id for f in found)]
    reasons = [s.why for s in limits] + ([f"defaults used: {host.defaults_for(d.name).label}"] if limits else []) + [
        f"{k} (line {_line(conf, k)}) commented out: not enforced, and current libvirt ignores it" for k in obsolete]
    if old is None:
        new = render("libvirtd-limits.conf.j2", path=path, settings=limits) if limits else ""
        reasons.append(f"{path} did not exist: written from templates/libvirtd-limits.conf.j2")
    else:
        reasons += [_placement(conf, s.key) for s in limits if s.changed]
        try:
            fixed = edit_text(LENS, text, path, lambda aug, root: _edit(aug, root, limits, obsolete))
        except ParseError as exc:
            why = f"{exc.file}:{exc.line or '?'}: {exc.message}: left untouched"
            out.not_fixed += [NotFixed(f, why) for f in found]
            return
        # Keep CRLF only if the project's parser (and so the next check) can still read the result.
        convert = style.crlf and bool(parse_libvirt_conf(style.restore(fixed), path).errors)
        new = style.restore(fixed, keep_crlf=not convert)
        if convert:
            reasons.append(CRLF_WHY)
    daemon = d.name
    live = []
    for s in limits:
        if s.key == "max_clients":
            live.append(f"virt-admin -c {d.admin_uri} srv-clients-set {daemon} --max-clients {s.value}")
        elif s.key == "max_workers":
            live.append(f"virt-admin -c {d.admin_uri} srv-threadpool-set {daemon} --max-workers {s.value}")
    fc.handle(found)
    out.changes.append(FileChange(scope.value, path, old, new if old is not None or new else "",
                                  sorted({f.rule for f in found}), reasons, f"systemctl restart {daemon}", live))
    _unresolved(host, d, limits, found, out)


def _about_limits(f: Finding) -> bool:
    """DMN002 also reports syntax errors (subject: the file), which new limits would not cure."""
    return f.rule in {r.id for r in LIMIT_RULES} and not (f.rule == DMN002.id and (f.subject or "").startswith("/"))


def _limits(fc: FixContext, host: HostView, d: JudgedDaemon, conf: LibvirtConf) -> list[Setting]:
    defaults = host.defaults_for(d.name)
    explicit = file_limits(conf)

    def eff(key: str) -> int:
        return explicit.get(key, defaults.get(key) or 0)

    # T: the same function LIM001-LIM003's advice uses (view.daemons.limits_target_of)
    size = limits_target(fc.ctx.plan.n_concurrent, connected_clients(host, d), explicit, defaults)
    target, why_size = size.value, size.why
    out = []
    mc_default = conf.get("max_clients") is None
    if not mc_default or eff("max_clients") < target:
        out.append(_setting(defaults, conf, "max_clients", target,
                            f"{why_size}; >= max_anonymous_clients ({eff('max_anonymous_clients')})"))
    out.append(_setting(defaults, conf, "max_workers", target,
                        "equal to max_clients, as the RHEL guide recommends (one "
                        f"worker per client call; min_workers {eff('min_workers')} <= it)"))
    return out


def _setting(defaults: LibvirtDefaults, conf: LibvirtConf, key: str, target: int, why: str) -> Setting:
    entry = conf.get(key)
    if entry is not None and entry.value == target:
        return Setting(key, target, f"{key} = {target} already at line {entry.line} (applies once the daemon "
                       "restarts, or live with virt-admin)", changed=False)
    return Setting(key, target, f"{key} {_shown(defaults, conf, key)} -> {target}: {why}")


def _unresolved(host: HostView, d: JudgedDaemon, limits: list[Setting], found: list[Finding],
                out: FixPlan) -> None:
    """LIM003 stays when max_clients is the compiled 5000: matching it would mean 5000 workers."""
    keys = {s.key for s in limits}
    if "max_workers" in keys and "max_clients" not in keys:
        default = host.defaults_for(d.name).get("max_clients")
        for f in found:
            if f.rule == LIM003.id:
                out.not_fixed.append(NotFixed(f, f"max_clients stays at its compiled default {default}: lowering "
                                                 "it to match max_workers could lock out other clients, and "
                                                 f"{default} workers would be absurd"))


def _shown(defaults: LibvirtDefaults, conf: LibvirtConf, key: str) -> str:
    entry = conf.get(key)
    if entry is not None:
        return f"{entry.value} (line {entry.line})"
    return f"{defaults.get(key)} (compiled default)"


def _line(conf: LibvirtConf, key: str) -> int | None:
    entry = conf.get(key)
    return entry.line if entry is not None else None


def _placement(conf: LibvirtConf, key: str) -> str:
    entry = conf.get(key)
    if entry is not None:
        dup = [later for k, first, later in conf.duplicates if k == key]
        extra = f"; line(s) {', '.join(map(str, dup))} repeat it and libvirt ignores them (first wins)" if dup else ""
        return f"{key}: changed where it stands, line {entry.line}{extra}"
    if key in conf.commented_defaults:
        return f"{key}: added after its commented-out default (line {conf.commented_defaults[key]})"
    return f"{key}: added (no commented-out default to place it by)"


def _edit(aug: augeas.Augeas, root: str, limits: list[Setting], obsolete: list[str]) -> None:
    placed: list[str] = []
    for s in (s for s in limits if s.changed):
        _set(aug, root, s.key, format_value(s.value), placed)
        placed.append(s.key)
    for key in obsolete:
        for node in reversed(aug.match(f"{root}/{key}")):
            value = aug.get(node)
            shown = value if value is not None else "[ ... ]"
            aug.insert(node, "#comment", True)
            comment = aug.match(f"{node}/preceding-sibling::*[1]")[0]
            aug.set(comment, f"{key} = {shown}   (disabled by preflight fix: not enforced; libvirt ignores it)")
            aug.remove(node)


def _set(aug: augeas.Augeas, root: str, key: str, value: str, placed: list[str]) -> None:
    """Change the first (effective) entry; else add after `#key = ...`, after a key just placed, or at the end."""
    existing = aug.match(f"{root}/{key}")
    if existing:
        aug.set(existing[0], value)
        return
    anchors = aug.match(f"{root}/#comment[. =~ regexp('{quoted(key)}[ \t]*=.*')]")
    for other in reversed(placed):
        anchors = anchors or aug.match(f"{root}/{other}")
    if anchors:
        aug.insert(anchors[0], key, False)
    aug.set(f"{root}/{key}", value)
