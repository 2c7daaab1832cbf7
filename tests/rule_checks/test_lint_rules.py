"""`preflight lint`'s rule selection follows the rules' own LINT declarations (issue 9 item 1).

A rule declares the roles in which it judges a lone host; these tests hold every rule module to
its declaration in both directions, on fact fixtures (tests/rule_checks/factory.py):
- declared: in each declared role it says something about the host itself (never only about the
  modelled peer), so `lint` can use it;
- undeclared: with nothing known of a peer and no guests it reaches no verdict about the host: a
  rule that does (a new one-host rule) must declare LINT, or `lint` would silently leave it out.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from preflight.lint import judge_host
from preflight.lint_context import LintContext, LintSettings, contexts
from preflight.model import probes as P
from preflight.model.facts import HostMode, HostSnapshot
from preflight.model.findings import Scope, Status
from preflight.rulekit import Context, Outcome, Rule
from preflight.rules import ALL_RULES
from preflight.view import HostView
from tests.rule_checks.factory import baseline

DECLARED = [r for r in ALL_RULES if r.LINT]
UNDECLARED = [r for r in ALL_RULES if not r.LINT]


def host(reachable: bool = True) -> HostSnapshot:
    snap = baseline()[1].build()  # host2.example.com, healthy, every live fact
    if not reachable:
        snap.reachable, snap.unreachable_reason = False, "ssh: connect to host host2 port 22: Connection refused"
    return snap


def settings_for(rule: Rule) -> LintSettings:
    tls = rule.ID.startswith("TLS")  # the TLS rules judge only a tls transport / --tls
    return LintSettings(12, "test", ("host1.example.com",), "test", "tls" if tls else "ssh", tls)


def outcomes(rule: Rule, ctx: LintContext, peer: HostSnapshot | None = None) -> list[Outcome]:
    """The rule's outcomes in ``ctx``; ``peer`` replaces the modelled peer (the other side)."""
    src, dst = ctx.source, ctx.dest
    if peer is not None:
        src, dst = (src, peer) if ctx.scope is Scope.SOURCE else (peer, dst)
    return list(rule.check(Context(plan=ctx.plan, source=HostView(src), dest=HostView(dst))))


def test_the_partition_is_not_trivial() -> None:
    """Both lists hold rules: a registry where LINT is read as nothing (or everything) fails here."""
    ids = {r.ID for r in DECLARED}
    assert {"LIM001", "SSH001", "NET001", "DMN002"} <= ids
    assert not ids & {"NET003", "OS001", "VER002", "GST001", "STO001", "SSH003"}


@pytest.mark.parametrize("rule", DECLARED, ids=lambda r: r.ID)
def test_a_declared_rule_judges_the_host_itself_in_each_declared_role(rule: Rule) -> None:
    snap = host(reachable=rule.ID != "INS001")  # INS001 speaks only of a host it could not inspect
    for ctx in contexts(snap, settings_for(rule), ["host1.example.com"]):
        if ctx.role in rule.LINT:
            about_host = [o for o in outcomes(rule, ctx) if o.host is ctx.scope]
            assert about_host, f"{rule.ID} declares LINT role {ctx.role!r} but says nothing about the host there"


def _empty_peer(role: str) -> HostSnapshot:
    return HostSnapshot(role=role, spec="ssh://peer.invalid", mode=HostMode.SSH)


@pytest.mark.parametrize("rule", UNDECLARED, ids=lambda r: r.ID)
def test_an_undeclared_rule_reaches_no_verdict_on_a_lone_host(rule: Rule) -> None:
    for ctx in contexts(host(), settings_for(rule), ["host1.example.com"]):
        peer = _empty_peer("source" if ctx.scope is Scope.DESTINATION else "destination")
        verdicts = [o for o in outcomes(rule, ctx, peer)
                    if o.host in (ctx.scope, Scope.PAIR) and o.status in (Status.PASS, Status.FAIL)]
        assert not verdicts, (f"{rule.ID} judges a lone host ({ctx.role}: {verdicts[0].message!r}): declare "
                              "LINT in its module so `preflight lint` runs it")


def test_lint_runs_exactly_the_declared_rules_in_their_roles() -> None:
    """judge_host keeps a rule's findings only from the roles it declares (from the rule objects)."""
    lone = judge_host(host(), LintSettings(12, "test", ("host1.example.com",)), DECLARED)
    roles = {}
    for f in lone.report.findings:
        roles.setdefault(f.rule, set()).update(f.evidence["lint_roles"])
    by_id = {r.ID: r for r in DECLARED}
    for rule_id, seen in roles.items():
        assert seen <= set(by_id[rule_id].LINT), rule_id
    assert roles["SSH001"] == {"destination"} and roles["LIM002"] == {"source"} and roles["NET001"] == {"peers"}
    assert set(roles) <= set(by_id)


def test_a_rule_with_an_unknown_lint_role_is_refused() -> None:
    import types

    module = types.ModuleType("fake")
    module.__dict__.update(ID="XXX001", NAME="x", SEVERITY=ALL_RULES[0].SEVERITY, NEEDS=(), check=lambda ctx: iter(()),
                           LINT=("destinaton",))
    with pytest.raises(ValueError, match="LINT roles"):
        Rule(module)


def test_a_peer_is_this_hosts_facts_under_the_peers_name_with_unknown_addresses() -> None:
    snap = host()
    peer = contexts(snap, LintSettings(4, "test"), ["host9.example.com"])[2].dest
    view = HostView(peer)
    assert view.hostname.get() == "host9.example.com"
    assert not view.addresses.ok and not view.host_uuid.ok
    assert HostView(snap).hostname.get() == "host2.example.com"  # the host's own facts are untouched
    assert replace(snap).probes == snap.probes


def _tls_host(server: str = "server.pem") -> HostSnapshot:
    from tests.rule_checks.test_tls_rules import NOW, pem, tls_pair

    dst = tls_pair()[1]
    dst.files[P.SERVER_CERT] = pem(server)
    snap = dst.build()
    snap.gathered_at = NOW
    return snap


def test_tls_certificates_of_a_lone_host_are_judged_against_its_own_ca() -> None:
    """--transport tls: the peer is this host's image, so its CA signs both ends (a fleet with one CA)."""
    tls = LintSettings(4, "test", ("host1.example.com",), "test", "tls")
    rule = [r for r in DECLARED if r.ID == "TLS002"]
    good = judge_host(_tls_host(), tls, rule).report.findings
    assert {(f.host, f.status) for f in good} == {(Scope.DESTINATION, Status.PASS), (Scope.SOURCE, Status.PASS)}
    bad = judge_host(_tls_host("server-other-ca.pem"), tls, rule).report.findings
    assert {(f.host, f.status) for f in bad if f.status is Status.FAIL} == {(Scope.DESTINATION, Status.FAIL)}
