"""The rule framework of issue 13: typed rules, INS001 a rule like the others, the import layering,
the names the migration resolves decided once, the kex-drop retry shared."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from preflight.access import kexdrop
from preflight.engine import evaluate
from preflight.gather.plan import destination_names
from preflight.model import probes as P
from preflight.model.facts import Availability, LibvirtFacts, Probe
from preflight.model.findings import Status
from preflight.model.plan import MigrationPlan
from preflight.rulekit import Applicability, Rule
from preflight.rules import ALL_RULES, find_rule, select
from tests.rule_checks.factory import baseline

TOP = Path(__file__).resolve().parents[2]
PLAN = MigrationPlan(guests=["g1"], dest_uri="qemu+ssh://host2.example.com/system", live=True)


def _imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


def test_no_rule_imports_a_parser_or_a_probe_key() -> None:
    """Rules read the view and its combiners only (the view's docstring says so; now it is checked)."""
    for path in sorted((TOP / "rules").glob("*.py")):
        bad = [m for m in _imports(path) if m.startswith(("preflight.parsers", "preflight.model.probes",
                                                          "preflight.gather", "preflight.access", "preflight.fix"))]
        assert not bad, f"{path.name} imports {bad}"


def test_rules_are_typed_objects() -> None:
    for rule in ALL_RULES:
        assert isinstance(rule, Rule)
        assert (rule.id, rule.slug) == (rule.ID, rule.NAME) and rule.docs
        assert isinstance(rule.FIX, Applicability)
    assert find_rule("SSH001").FIX is Applicability.UNSAFE  # type: ignore[union-attr]
    assert find_rule("GST001").FIX is Applicability.DISPLAY_ONLY  # type: ignore[union-attr]


def test_ins001_is_a_rule_found_selected_and_explained() -> None:
    ins = find_rule("INS001")
    assert ins is not None and find_rule("host-reachable") is ins
    assert [r.ID for r in select(["INS001"])] == ["INS001"]
    out = subprocess.run([sys.executable, "-m", "preflight.cli", "explain", "INS001"], capture_output=True,
                         text=True, cwd=TOP, timeout=60)
    assert out.returncode == 0 and out.stdout.startswith("INS001 host-reachable"), out.stderr


def test_ins001_reported_whatever_is_selected() -> None:
    src, dst = (b.build() for b in baseline())
    dst.reachable, dst.unreachable_reason = False, "ssh: connect to host port 22: No route to host"
    for chosen in (select(["SSH"]), select(["INS001"]), None):
        report = evaluate(PLAN, src, dst, chosen)
        ins = [f for f in report.findings if f.rule == "INS001"]
        assert len(ins) == 1 and ins[0].status is Status.UNKNOWN and "No route" in ins[0].message
        assert ins[0].remediation and "known_hosts" in ins[0].remediation
        assert report.findings[0] is ins[0]


def test_test_driver_destination_names_come_from_its_own_answers() -> None:
    """The test driver's getHostname is this machine's: the destination's hostname probes are resolved
    instead (before, neither was, and NET001 judged a name the source was never asked about)."""
    _, dst_b = baseline()
    dst = dst_b.build()
    dst.libvirt = LibvirtFacts(uri="test:///default", status=Availability.OK, hostname="this-machine")
    names = destination_names(PLAN, dst)
    assert "this-machine" not in names
    assert {"host2.example.com", "host2"} <= set(names)
    real = dst_b.build()
    assert destination_names(PLAN, real) == ["host2.example.com"]  # libvirt's name = DESTURI's host
    assert destination_names(PLAN, None) == ["host2.example.com"]
    assert P.HOSTNAME in dst.probes


def test_kex_drop_retry_is_shared_and_bounded() -> None:
    calls: list[str] = []
    drops: list[int] = []

    def attempt() -> str:
        calls.append("x")
        return "kex_exchange_identification: read: Connection reset" if len(calls) < 2 else "ok"

    assert kexdrop.retry(attempt, kexdrop.dropped, lambda: drops.append(1)) == "ok"
    assert (len(calls), len(drops)) == (2, 1)
    calls.clear()
    always = kexdrop.retry(lambda: calls.append("x") or "kex_exchange_identification", kexdrop.dropped)
    assert kexdrop.dropped(always) and len(calls) == kexdrop.MAX_ATTEMPTS
    calls.clear()
    assert kexdrop.retry(lambda: calls.append("x") or "Permission denied", kexdrop.dropped) == "Permission denied"
    assert len(calls) == 1
    for module in ("preflight/access/ssh.py", "preflight/gather/libvirt_facts.py"):
        text = (TOP / module).read_text()
        assert "kexdrop.retry(" in text and "kex_exchange_identification" not in text, module


def test_check_select_ins001_on_the_command_line() -> None:
    """Before: 'no rule matches INS001' (exit 2). Now the unreachable destination is its finding (exit 3)."""
    ex = TOP / "examples"
    for sel in ("INS001", "SSH"):
        out = subprocess.run(
            [sys.executable, "-m", "preflight.cli", "check", "--live", "guest1-rhel6-64",
             "qemu+ssh://root@127.0.0.1:1/system", "--source", str(ex / "host1"),
             "--source-libvirt", f"test://{ex / 'host1.xml'}", "--timeout", "5", "--select", sel],
            capture_output=True, text=True, cwd=TOP, timeout=120,
            env={"PATH": "/usr/sbin:/usr/bin:/bin", "NO_COLOR": "1"})
        assert out.returncode == 3, out.stdout + out.stderr
        assert "INS001" in out.stdout and "refused" in out.stdout.lower()


def test_a_fact_not_seen_is_unknown_by_the_framework() -> None:
    """A rule that just reads .get() of a fact that could not be seen: UNKNOWN with the reason (SKIP when
    the fact cannot exist in this mode), not an 'internal error in rule'."""
    import types

    from preflight.model.facts import HostMode
    from preflight.model.findings import Severity

    mod = types.ModuleType("rules.tst999_probe")
    mod.__doc__ = "TST999 reads-sshd-version — test"
    mod.ID, mod.NAME, mod.SEVERITY, mod.NEEDS = "TST999", "reads-sshd-version", Severity.ERROR, ("sshd_version",)

    def check(ctx):  # type: ignore[no-untyped-def]
        yield from ()
        ctx.dest.sshd_version.get()

    mod.check = check
    rule = Rule(mod)
    src, dst = (b.build() for b in baseline())
    del dst.probes[P.SSHD_VERSION]
    [found] = [f for f in evaluate(PLAN, src, dst, [rule]).findings if f.rule == "TST999"]
    assert found.status is Status.UNKNOWN and "not gathered" in found.message
    assert "internal error" not in found.message
    dst.mode = HostMode.IMAGE
    dst.probes[P.SSHD_VERSION] = Probe(P.SSHD_VERSION, P.SSHD_VERSION, Availability.NOT_AVAILABLE,
                                       error="not available in image mode")
    [found] = [f for f in evaluate(PLAN, src, dst, [rule]).findings if f.rule == "TST999"]
    assert found.status is Status.SKIP


def test_needs_may_name_a_declared_probe_key() -> None:
    """A rule reading a new file with HostView.file declares its key; only declared probes are accepted."""
    import pytest

    from preflight.view.needs import probe_keys

    assert probe_keys([P.file_key(P.OS_RELEASE), "sshd_version"]) == {P.file_key(P.OS_RELEASE), P.SSHD_VERSION}
    for bad in ("file:/etc/not-declared", "no-such-fact", P.GETENT_PREFIX + "x"):
        with pytest.raises(KeyError):
            probe_keys([bad])


def test_declared_severities_cover_what_each_rule_can_report() -> None:
    # `preflight rules` prints SEVERITIES: every severity a rule's source can put on a finding is declared
    import re
    from pathlib import Path

    from preflight.rules import ALL_RULES

    for rule in ALL_RULES:
        source = Path(rule.module.__file__ or "").read_text(encoding="utf-8")
        used = {m.lower() for m in re.findall(r"severity=Severity\.([A-Z]+)", source)}
        declared = {s.value for s in rule.SEVERITIES}
        assert rule.SEVERITY in rule.SEVERITIES and used <= declared, (rule.ID, used, declared)
