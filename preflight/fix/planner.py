"""From a check's report to a FixPlan, and what the check would say once the plan is applied."""

from __future__ import annotations

import copy
from collections.abc import Iterable

from preflight.engine import Report, evaluate
from preflight.fix.context import FixContext
from preflight.fix.model import FixPlan, NotFixed
from preflight.fix.registry import FIXERS
from preflight.model import probes as P
from preflight.model.facts import Availability, HostSnapshot, Probe
from preflight.model.findings import Status
from preflight.rulekit import Context, Rule
from preflight.view import HostView
from preflight.view.daemons import daemon_for_path


def plan_fixes(report: Report, policy: str | None = None, dest_address: str | None = None) -> FixPlan:
    src, dst = report.snapshots["source"], report.snapshots["destination"]
    # a waived finding (config, baseline, inline) was accepted on purpose: fix leaves its setting alone
    open_findings = [f for f in report.findings if f.waived is None]
    fc = FixContext(Context(report.plan, HostView(src), HostView(dst)), open_findings, policy, dest_address)
    out = FixPlan()
    for fixer in FIXERS:
        fixer.run(fc, out)
    refused = [n.finding for n in out.not_fixed]
    for f in report.findings:
        if f.status is Status.FAIL and f.waived is not None:
            out.not_fixed.append(NotFixed(f, f"waived ({f.waived.reason}): left as it is"))
        elif f.status is Status.FAIL and not any(f is h for h in fc.handled + refused):
            out.not_fixed.append(NotFixed(f, f.remediation or "no mechanical fix"))
    return out


def predict(report: Report, plan: FixPlan, rules: Iterable[Rule] | None = None) -> Report:
    """The check (the same ``rules``) re-run on the facts with the fixed files (live values they replace
    are dropped)."""
    snaps = {role: patched(report.snapshots[role], plan, role) for role in ("source", "destination")}
    return evaluate(report.plan, snaps["source"], snaps["destination"], rules)


def patched(snap: HostSnapshot, plan: FixPlan, role: str) -> HostSnapshot:
    out = copy.deepcopy(snap)
    for change in plan.changes:
        if change.host != role:
            continue
        out.add(Probe(P.file_key(change.path), f"{change.path} as fixed by preflight fix", Availability.OK,
                      text=change.new, rc=0))
        if change.path.startswith("/etc/ssh/"):
            _superseded(out, P.SSHD_T)
            index = out.probes.get(P.SSHD_FILES)
            if index is not None and index.ok and change.path not in (index.text or "").splitlines():
                index.text = (index.text or "").rstrip("\n") + f"\n{change.path}\n"
        elif (daemon := daemon_for_path(change.path)) is not None:
            _superseded(out, P.virt_admin_key(daemon))  # that daemon's live limits, once restarted
        elif change.path == P.ETC_HOSTS:
            # the resolver reads /etc/hosts first: judge names by the fixed file, as in image mode
            for key in [k for k in out.probes if k.startswith(P.GETENT_PREFIX)]:
                _superseded(out, key)
    return out


def _superseded(snap: HostSnapshot, key: str) -> None:
    if key in snap.probes:
        snap.add(Probe(key, key, Availability.NOT_AVAILABLE, error="replaced by the fixed file once applied"))
