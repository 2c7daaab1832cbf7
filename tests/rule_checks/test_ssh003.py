"""SSH003: preflight's ssh connection from the source is the migration's control connection (issue 7 item 1).

The connection records are written by the gatherer's own function (preflight.gather.pair.connection_text),
so these facts are the ones a real run stores; tests/access/test_ssh_errors.py produces each cause
against a real sshd.
"""

from __future__ import annotations

import pytest

from preflight.access import AccessOptions, parse_host_spec
from preflight.access.ssh_errors import SshCause
from preflight.engine import ExitCode, Verdict
from preflight.gather.pair import connection_text
from preflight.model import probes as P
from preflight.model.facts import HostMode
from preflight.model.findings import Severity, Status
from preflight.model.plan import MigrationPlan
from tests.rule_checks.factory import baseline, of, run

URI = "qemu+ssh://host2.example.com/system"
SPEC = "ssh://host2.example.com"


def _pair(result: str = "ok", cause: str = "", reason: str = "", spec: str = SPEC,
          options: AccessOptions | None = None, source_local: bool = True,
          uid: int = 0) -> tuple:  # type: ignore[type-arg]
    src, dst = baseline()
    if source_local:
        src.mode = HostMode.LOCAL
    text = connection_text(parse_host_spec(spec), options or AccessOptions(), result, cause, reason)
    # who ran ssh, as the record would say for that user
    lines = [ln for ln in text.splitlines() if not ln.startswith(("uid\t", "user\t"))]
    dst.cmds[P.SSH_CONNECT] = "\n".join([*lines, f"uid\t{uid}", f"user\t{'root' if uid == 0 else 'alice'}"]) + "\n"
    return src, dst


def _run(src, dst, plan: MigrationPlan | None = None, reachable: bool = True, reason: str = ""):  # type: ignore[no-untyped-def]
    from preflight.engine import evaluate
    s, d = src.build(), dst.build()
    if not reachable:
        d.reachable, d.unreachable_reason = False, reason
    return evaluate(plan or MigrationPlan(guests=["g1"], dest_uri=URI, live=True), s, d)


CASES = [  # (cause, ssh's last words, a word the remedy must hold)
    (SshCause.REFUSED, "ssh: connect to host host2.example.com port 22: Connection refused", "systemctl start sshd"),
    (SshCause.TIMEOUT, "ssh: connect to host host2.example.com port 22: Connection timed out", "firewall"),
    (SshCause.HOST_KEY_UNKNOWN, "Host key verification failed.",
     "ssh-keyscan -t ed25519 host2.example.com >> "),
    (SshCause.HOST_KEY_CHANGED, "Host key verification failed.", "ssh-keygen -R host2.example.com"),
    (SshCause.AUTH_DENIED, "root@host2.example.com: Permission denied (publickey).",
     "ssh-copy-id"),
    (SshCause.DROPPED, "kex_exchange_identification: read: Connection reset by peer", "MaxStartups"),
]


@pytest.mark.parametrize(("cause", "words", "remedy"), CASES, ids=[c[0].value for c in CASES])
def test_failed_control_connection_is_a_fail_not_unknown(cause: SshCause, words: str, remedy: str) -> None:
    src, dst = _pair("failed", cause.value, words)
    report = _run(src, dst, reachable=False, reason=words)
    ssh3 = of(report, "SSH003")
    assert [f.status for f in ssh3] == [Status.FAIL] and ssh3[0].severity is Severity.ERROR
    assert words in ssh3[0].message and remedy in (ssh3[0].remediation or "")
    assert of(report, "INS001") == []  # one cause, said once
    assert report.verdict == Verdict.NOT_READY and report.exit_code is ExitCode.NOT_READY


@pytest.mark.parametrize("uid", [0, 1000])
def test_p2p_is_root_identity(uid: int) -> None:
    src, dst = _pair("failed", SshCause.HOST_KEY_UNKNOWN.value, "Host key verification failed.", uid=uid)
    plan = MigrationPlan(guests=["g1"], dest_uri=URI, live=True, p2p=True)
    report = _run(src, dst, plan, reachable=False, reason="Host key verification failed.")
    f = of(report, "SSH003")[0]
    if uid == 0:  # preflight as root is libvirtd's identity: proven, root's known_hosts named
        assert f.status is Status.FAIL and "/root/.ssh/known_hosts" in (f.remediation or "")
        assert report.verdict == Verdict.NOT_READY
    else:
        assert f.status is Status.UNKNOWN and "--p2p" in f.message and "alice's ssh" in f.message
        assert "root (the source's libvirtd, --p2p)" in f.message
        assert report.verdict == Verdict.UNKNOWN  # INS001 still speaks for the unreached host


def test_user_known_hosts_remedy_for_a_non_root_user() -> None:
    src, dst = _pair("failed", SshCause.HOST_KEY_UNKNOWN.value, "Host key verification failed.", uid=1000)
    f = of(_run(src, dst, reachable=False, reason="x"), "SSH003")[0]
    assert f.status is Status.FAIL and ">> ~/.ssh/known_hosts" in (f.remediation or "")


def test_working_control_connection_passes() -> None:
    report = _run(*_pair())
    ssh3 = of(report, "SSH003")
    assert [f.status for f in ssh3] == [Status.PASS] and "works" in ssh3[0].message
    assert report.verdict == Verdict.READY


@pytest.mark.parametrize("why", ["ssh_config", "other_target", "workstation", "sudo", "p2p", "query"])
def test_other_identity_says_what_was_and_was_not_proven(why: str) -> None:
    options = AccessOptions(ssh_config="/tmp/cfg" if why == "ssh_config" else None, sudo=why == "sudo")
    spec = "ssh://root@10.0.0.2" if why == "other_target" else SPEC
    src, dst = _pair("failed", SshCause.AUTH_DENIED.value, "Permission denied (publickey).", spec, options,
                     source_local=why != "workstation", uid=1000)
    uri = URI + "?keyfile=/k" if why == "query" else URI
    plan = MigrationPlan(guests=["g1"], dest_uri=uri, live=True, p2p=why == "p2p")
    report = _run(src, dst, plan, reachable=False, reason="Permission denied (publickey).")
    ssh3 = of(report, "SSH003")
    assert [f.status for f in ssh3] == [Status.UNKNOWN] and ssh3[0].severity is Severity.WARNING
    assert "proven: " in ssh3[0].message and "not proven: " in ssh3[0].message
    # the unreached destination stays INS001's UNKNOWN: no certain failure was shown
    assert [f.status for f in of(report, "INS001")] == [Status.UNKNOWN]
    assert report.verdict == Verdict.UNKNOWN and report.exit_code is ExitCode.COULD_NOT_INSPECT


def test_no_record_is_a_skip_and_tls_is_not_judged() -> None:
    src, dst = baseline()
    assert [f.status for f in of(run(src, dst), "SSH003")] == [Status.SKIP]
    src, dst = _pair()
    tls = MigrationPlan(guests=["g1"], dest_uri="qemu+tls://host2.example.com/system", live=True)
    assert [f.status for f in of(_run(src, dst, tls), "SSH003")] == [Status.SKIP]


def _root_files(state: str, ids: str = "present") -> str:
    return (f"known_hosts\t/root/.ssh/known_hosts\t{state}\nknown_hosts\t/etc/ssh/ssh_known_hosts\tmissing\n"
            f"identity\t/root/.ssh/id_ed25519\t{ids}\n")


def test_p2p_not_root_reads_roots_known_hosts() -> None:
    """--p2p run by a user: the user's ssh is proven, root's is judged from root's files on the source."""
    plan = MigrationPlan(guests=["g1"], dest_uri=URI, live=True, p2p=True)
    src, dst = _pair(uid=1000)
    src.cmds[P.known_host_key("host2.example.com")] = _root_files("absent")
    report = _run(src, dst, plan)
    f = of(report, "SSH003")[0]
    assert f.status is Status.FAIL and f.severity is Severity.WARNING
    assert "alice's ssh to host2.example.com works" in f.message and "does not know" in f.message
    assert "/root/.ssh/known_hosts" in (f.remediation or "")
    src.cmds[P.known_host_key("host2.example.com")] = _root_files("found")
    f = of(_run(src, dst, plan), "SSH003")[0]
    assert f.status is Status.UNKNOWN and "host key is in /root/.ssh/known_hosts" in f.message
    src.cmds[P.known_host_key("host2.example.com")] = _root_files("unreadable")
    f = of(_run(src, dst, plan), "SSH003")[0]
    assert f.status is Status.UNKNOWN and "unreadable" in f.message


def test_unrecognised_failure_is_not_claimed() -> None:
    """ssh's words name no known cause (it may be preflight's own master): INS001's UNKNOWN, not a FAIL."""
    src, dst = _pair("failed", SshCause.OTHER.value, "mux_client_request_session: read from master failed")
    report = _run(src, dst, reachable=False, reason="mux_client_request_session: read from master failed")
    assert [(f.status, f.severity) for f in of(report, "SSH003")] == [(Status.UNKNOWN, Severity.WARNING)]
    assert [f.status for f in of(report, "INS001")] == [Status.UNKNOWN]
    assert report.verdict == Verdict.UNKNOWN


def test_selection_never_hides_the_cause_of_an_unreachable_destination() -> None:
    # --select NET against a destination whose sshd refuses: SSH003 is judged anyway (INS001 defers to it)
    from preflight.engine import evaluate
    from preflight.rules import select

    words = "ssh: connect to host host2.example.com port 22: Connection refused"
    src, dst = _pair("failed", SshCause.REFUSED.value, words)
    s, d = src.build(), dst.build()
    d.reachable, d.unreachable_reason = False, words
    report = evaluate(MigrationPlan(guests=["g1"], dest_uri=URI, live=True), s, d, select(["NET"], []))
    fired = [f for f in report.findings if f.rule == "SSH003" and f.status is Status.FAIL]
    assert fired and report.exit_code == ExitCode.NOT_READY
