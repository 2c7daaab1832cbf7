"""`preflight lint`: judge hosts on their own, against the capacity the config declares.

``check`` judges a migration: a real source, a real destination, guests. A CI gate over golden
host images has none of these; it has hosts and what they must carry (the concurrency, the peers
they migrate to). Lint judges each host alone, with the same rule code and the same outputs.

Design
    Which rules: a rule module declares ``LINT``, the roles in which it can judge a lone host
    (read by :class:`preflight.rulekit.Rule`); a rule without it needs a real pair or a plan
    (guests, disks, two hosts' versions or UUIDs: comparing a host with itself proves nothing)
    and is not run. The roles:

    - ``"destination"``: this host receives N migrations (daemon limits and config, sshd's
      MaxStartups, its own name not being localhost, the migration port range, TCP without auth);
    - ``"source"``: this host sends N migrations (daemon limits as a client);
    - ``"peers"``: this host sends to each peer the config names (the names it must resolve);
      one judgement per peer, a SKIP saying so when no peer is named.

    How a rule sees it: each role is a pseudo-migration (:mod:`preflight.lint_context`) so the
    rules run unchanged: a plan with no guests, the configured concurrency, ``qemu+ssh``
    (``--transport``), and the other end modelled as a *peer*: this host's own facts under the
    peer's name, with the peer's addresses and UUID unknown. As the destination, DESTURI names this
    host itself; as the source, DESTURI names the peer. Only findings about this host are kept (the
    modelled peer's are dropped); the same finding from two roles is kept once.

    No finding contradicts itself: a host is never judged as the source of a migration to its own
    name (a peer equal to any of its names or their first label is left out and listed as such),
    and nothing is said about the peer's addresses, which lint does not know.

Settings per host (each report says which value came from where): ``--concurrency`` /
``--peer`` win, else the config's ``[[paths]]`` entry for an image root, else its top level, else
concurrency 10 (the RHEL guide's "default max_clients 20 allows 10 migrations") and no peers.

Policy as ``check`` (:func:`apply_policy`, preflight.waivers on each host's report): the config's
select/ignore and [severity], ``[[paths]]`` ignore/severity per image root, inline suppressions,
waivers (a waiver naming a host or image root applies there; it is "unused" only when no host
used it), ``--fail-on``. Rules without LINT that a selection names are listed as not run.

Exit codes as ``check``: 0 every host clean, 1 a failing finding (any host), 2 usage, 3 a host
that could not be inspected (or an error-level UNKNOWN) and nothing failed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from preflight.engine import Note, Report, evaluate
from preflight.lint_context import LintContext, LintSettings, contexts, own_names
from preflight.model.facts import HostSnapshot
from preflight.model.findings import Finding, Scope, Severity, Status
from preflight.model.plan import MigrationPlan
from preflight.rulekit import Rule

if TYPE_CHECKING:
    from preflight.config import Config, Waiver

NO_PEERS = ("no peers named (--peer NAME, or peers = [...] in preflight.toml): the names this host "
            "must resolve to migrate are not known")


@dataclass
class HostLint:
    """One host's judgement: its findings as a check-style Report (both roles: the same snapshot)."""

    spec: str
    settings: LintSettings
    report: Report
    peers_judged: list[str] = field(default_factory=list)
    peers_self: list[str] = field(default_factory=list)  # named peers that are this host itself

    @property
    def snapshot(self) -> HostSnapshot:
        return self.report.snapshots["destination"]


@dataclass
class LintRun:
    hosts: list[HostLint]
    rules: list[Rule]
    # the run's policy (cli_lint fills them from the config and the command line; see Report)
    fail_on: str = "error"
    notes: list[Note] = field(default_factory=list)
    not_selected: list[dict[str, str]] = field(default_factory=list)
    config: str | None = None

    @property
    def combined(self) -> Report:
        """Every host's findings in one Report: the verdict and exit code over all of them."""
        findings = [f for h in self.hosts for f in h.report.findings]
        snaps = {f"host{i}": h.snapshot for i, h in enumerate(self.hosts)}
        return Report(plan=lint_plan(self.hosts[0].settings if self.hosts else None), findings=findings,
                      snapshots=snaps, fail_on=self.fail_on, not_selected=self.not_selected, notes=self.notes,
                      config=self.config)


def lint_plan(settings: LintSettings | None) -> MigrationPlan:
    """The plan a lint report shows: no guests, the configured concurrency."""
    return MigrationPlan(guests=[], dest_uri="", concurrency=settings.concurrency if settings else None)


def lint_rules(rules: Iterable[Rule]) -> list[Rule]:
    """The rules that can judge a lone host (declared LINT), in registry order."""
    return [r for r in rules if r.LINT]


def _keep(f: Finding, ctx: LintContext, rule_ids: set[str]) -> bool:
    """A finding about this host from a rule run for this role (evaluate adds INS001/SSH003 itself)."""
    if f.rule not in rule_ids and f.rule != "INS001":
        return False
    return f.host in (ctx.scope, Scope.PAIR)


def judge_host(snap: HostSnapshot, settings: LintSettings, rules: Sequence[Rule],
               severity: dict[str, str] | None = None) -> HostLint:
    """One host alone in each declared role; findings about it, each once. ``severity``: the config's
    per-rule overrides."""
    names = own_names(snap)
    peers = [p for p in settings.peers if p.lower() not in names]
    selves = [p for p in settings.peers if p.lower() in names]
    findings: list[Finding] = []
    seen: dict[tuple[object, ...], Finding] = {}
    ctxs = contexts(snap, settings, peers)
    for ctx in ctxs:
        chosen = [r for r in rules if ctx.role in r.LINT]
        ids = {r.ID for r in chosen}
        for f in evaluate(ctx.plan, ctx.source, ctx.dest, chosen, severity).findings:
            if not _keep(f, ctx, ids):
                continue
            f = replace(f, host=ctx.scope)
            key = (f.rule, f.status, f.severity, f.message, f.file, f.line, f.subject)
            if key in seen:
                roles = seen[key].evidence.setdefault("lint_roles", [])
                if ctx.role not in roles:
                    roles.append(ctx.role)
                continue
            f.evidence = {**f.evidence, "lint_roles": [ctx.role], **({"peer": ctx.peer} if ctx.peer else {})}
            seen[key] = f
            findings.append(f)
    if not peers:
        why = NO_PEERS if not selves else (f"the only peers named ({', '.join(selves)}) are this host itself: "
                                           "no name to resolve")
        findings += [Finding(rule=r.ID, name=r.NAME, status=Status.SKIP,
                             severity=Severity((severity or {}).get(r.ID) or r.SEVERITY.value), host=Scope.SOURCE,
                             message=why, seed=r.SEED, evidence={"lint_roles": ["peers"]})
                     for r in rules if "peers" in r.LINT]
    report = Report(plan=ctxs[0].plan, findings=findings,
                    snapshots={"source": ctxs[1].source, "destination": ctxs[0].dest})
    return HostLint(spec=snap.spec, settings=settings, report=report, peers_judged=peers, peers_self=selves)


def lint(snapshots: Sequence[HostSnapshot], settings: Sequence[LintSettings], rules: Sequence[Rule],
         severity: dict[str, str] | None = None) -> LintRun:
    """Judge each snapshot with its settings (``settings[i]`` for ``snapshots[i]``)."""
    chosen = lint_rules(rules)
    return LintRun(hosts=[judge_host(s, st, chosen, severity) for s, st in zip(snapshots, settings, strict=True)],
                   rules=chosen)


def apply_policy(run: LintRun, cfg: Config, waivers: list[tuple[str, Waiver]], fail_on: str | None,
                 left_out: list[dict[str, str]]) -> None:
    """check's policy (preflight.waivers: [[paths]] ignore/severity, inline suppressions, waivers) on each
    host's report; a waiver is "unused" only when no host used it."""
    from preflight.waivers import apply_policy as per_host

    run.fail_on = fail_on or cfg.fail_on or "error"
    run.config = str(cfg.source) if cfg.source else None
    judged = {r.ID for r in run.rules} | {"INS001"}
    run.not_selected = [d for d in left_out if d["rule"] not in judged] + [
        {"rule": r.ID, "why": "needs a migration pair (no LINT declaration): judged by `preflight check`"}
        for r in pair_only(left_out, judged)]
    per_note: list[list[Note]] = []
    for h in run.hosts:
        h.report.fail_on, h.report.config = run.fail_on, run.config
        h.report.notes = []
        per_host(h.report, cfg, waivers)
        per_note.append(h.report.notes)
    notes: dict[tuple[str, str], Note] = {}  # one per waiver and kind: an expired one says where it fails again
    for host_notes in per_note:
        for n in host_notes:
            key = (n.kind, n.where)
            if n.kind in ("unused-waiver", "waiver-on-unknown") and not all(
                    any((o.kind, o.where) == key for o in other) for other in per_note):
                continue  # used on another host
            if key not in notes or len(n.message) > len(notes[key].message):
                notes[key] = n
    run.notes = list(notes.values())


def pair_only(left_out: list[dict[str, str]], judged: set[str]) -> list[Rule]:
    """Selected rules lint does not run (no LINT declaration)."""
    from preflight.rules import ALL_RULES

    out = {d["rule"] for d in left_out}
    return [r for r in ALL_RULES if r.ID not in judged and r.ID not in out]


def host_key(spec: str) -> tuple[str, ...]:
    """What makes two specs the same host: an image root's real path (``host1``, ``./host1/`` and a symlink
    to it are one), an ssh spec's user, host (case-insensitive, as DNS) and port; HostSpecError for a bad one."""
    import os

    from preflight.access import parse_host_spec

    parsed = parse_host_spec(spec)
    if parsed.kind == "image":
        return ("image", os.path.realpath(parsed.root or spec))
    if parsed.kind == "ssh":
        return ("ssh", parsed.user or "", (parsed.host or "").lower(), str(parsed.port or ""))
    return (parsed.kind,)


def distinct(specs: Sequence[str]) -> tuple[list[str], list[list[str]]]:
    """Each host once (its first spelling), and the groups of specs that named one host (HostSpecError for a
    bad spec, before any host is contacted)."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for spec in specs:
        groups.setdefault(host_key(spec), []).append(spec)
    return [g[0] for g in groups.values()], [g for g in groups.values() if len(g) > 1]


def gather_all(specs: Sequence[str], peers: Sequence[Sequence[str]], *, timeout: float = 10.0, sudo: bool = False,
               ssh_config: str | None = None) -> list[HostSnapshot]:
    """Every host's snapshot, gathered at once (an unreachable host is a snapshot saying so, never an
    exception); ``peers[i]``: the names host i resolves (its resolver answers for live hosts)."""
    from preflight.access import AccessOptions, parse_host_spec
    from preflight.gather.pair import gather_host

    options = AccessOptions(timeout=timeout, sudo=sudo, ssh_config=ssh_config)
    parsed = [parse_host_spec(s) for s in specs]  # HostSpecError (a ValueError) before any host is contacted

    def one(i: int) -> HostSnapshot:
        return gather_host(parsed[i], "host", None, list(peers[i]), [], options)

    if len(parsed) == 1:
        return [one(0)]
    with ThreadPoolExecutor(max_workers=min(8, len(parsed)), thread_name_prefix="lint") as pool:
        return list(pool.map(one, range(len(parsed))))
