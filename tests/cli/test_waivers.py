"""Waivers with reasons, the baseline, inline suppression (issue 9 item 3): a waived finding is reported
as waived and does not fail the gate; expired and unused waivers are reported; a baseline adopts the
tool on an existing fleet; `# preflight: ignore[RULE] reason` in the inspected file itself."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import tomllib

from preflight.config import Waiver
from preflight.model.findings import Finding, Scope, Severity, Status
from preflight.suppress import near
from preflight.waivers import apply_waivers
from tests.cli.test_cli import example_args, preflight
from tests.cli.test_config import failing, images, run_json

TODAY = datetime.date.today()


def waived(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(f["rule"], f["host"]): f["waived"] for f in report["findings"] if f["waived"]}


WAIVE_NET001 = ('[[waivers]]\nrule = "NET001"\nhost = "images/host1"\nsubject = "host2.example.com"\n'
                'reason = "names come from DNS in production, not /etc/hosts"\n')
WAIVE_SSH001 = ('[[waivers]]\nrule = "sshd-max-startups"\nhost = "destination"\n'
                'reason = "MaxStartups raised by Ansible"\n')


def test_waived_findings_do_not_fail_the_gate(tmp_path: Path) -> None:
    root = images(tmp_path)
    code, rep, _ = run_json(*example_args(root), cwd=tmp_path)
    assert code == 1 and {("NET001", "source"), ("SSH001", "destination")} <= set(failing(rep))
    (tmp_path / "preflight.toml").write_text(WAIVE_NET001 + "\n" + WAIVE_SSH001)
    code, rep, err = run_json(*example_args(root), cwd=tmp_path)
    assert code == 0 and rep["verdict"] == "ready", err
    w = waived(rep)
    assert w[("NET001", "source")]["reason"].startswith("names come from DNS")
    assert w[("NET001", "source")]["kind"] == "config"
    assert w[("NET001", "source")]["origin"] == f"{tmp_path / 'preflight.toml'}:1"
    assert w[("SSH001", "destination")]["reason"] == "MaxStartups raised by Ansible"
    assert rep["counts"]["waived"] == 2 and ("NET001", "source") in failing(rep)  # still reported as a FAIL


def test_a_waiver_for_another_host_or_subject_does_not_apply_and_is_reported_unused(tmp_path: Path) -> None:
    root = images(tmp_path)
    (tmp_path / "preflight.toml").write_text(
        WAIVE_NET001.replace("images/host1", "images/host2") + "\n"
        + WAIVE_SSH001.replace('"destination"', '"destination"\nsubject = "some-other-subject"'))
    code, rep, err = run_json(*example_args(root), cwd=tmp_path)
    assert code == 1 and not waived(rep)
    assert err.count("matches no failing finding") == 2, err


def test_an_expired_waiver_does_not_apply_and_is_reported(tmp_path: Path) -> None:
    root = images(tmp_path)
    yesterday = TODAY - datetime.timedelta(days=1)
    (tmp_path / "preflight.toml").write_text(WAIVE_NET001 + f"expires = {yesterday.isoformat()}\n\n" + WAIVE_SSH001)
    code, rep, err = run_json(*example_args(root), cwd=tmp_path)
    assert code == 1 and rep["verdict"] == "not-ready"
    assert ("NET001", "source") not in waived(rep) and ("SSH001", "destination") in waived(rep)
    assert f"preflight.toml:1: waiver NET001 host='images/host1' subject='host2.example.com' expired on " \
           f"{yesterday.isoformat()}: not applied (1 finding(s) fail again)" in err
    (tmp_path / "preflight.toml").write_text(WAIVE_NET001 + f"expires = {TODAY.isoformat()}\n\n" + WAIVE_SSH001)
    code, rep, err = run_json(*example_args(root), cwd=tmp_path)  # the expiry day itself still applies
    assert code == 0 and "expired" not in err
    assert waived(rep)[("NET001", "source")]["expires"] == TODAY.isoformat()


def test_an_unused_waiver_is_a_warning_that_keeps_the_exit_code(tmp_path: Path) -> None:
    root = images(tmp_path)
    body = WAIVE_NET001 + "\n" + WAIVE_SSH001 + '\n[[waivers]]\nrule = "NET002"\nreason = "old"\n'
    (tmp_path / "preflight.toml").write_text(body)
    code, rep, err = run_json(*example_args(root), cwd=tmp_path)
    assert code == 0, err
    line = len(body.splitlines()) - 2  # the last [[waivers]] header
    assert f"preflight: warning: {tmp_path / 'preflight.toml'}:{line}: waiver NET002 matches no failing finding" in err
    out = preflight(*example_args(root), "--select", "SSH", cwd=tmp_path)  # NET002 not judged: not "unused"
    assert "NET002 matches no failing" not in out.stderr


def test_a_waiver_never_turns_unknown_into_ready() -> None:
    unknown = Finding(rule="SSH001", name="sshd-max-startups", status=Status.UNKNOWN, severity=Severity.ERROR,
                      host=Scope.DESTINATION, message="sshd -T: could not run")
    notes = apply_waivers([unknown], {}, [("config", Waiver(rule="SSH001", reason="r", origin="p.toml:3"))],
                          {"SSH001"}, TODAY)
    assert unknown.waived is None
    assert [n.kind for n in notes] == ["waiver-on-unknown"] and "never waived" in notes[0].message


# --- baseline -------------------------------------------------------------------------------------------------
def baseline_args(root: Path) -> list[str]:
    return ["baseline", *example_args(root)[1:]]


def test_baseline_round_trip(tmp_path: Path) -> None:
    root = images(tmp_path)
    code, before, _ = run_json(*example_args(root), cwd=tmp_path)
    assert code == 1
    out = preflight(*baseline_args(root), "-o", "preflight-baseline.toml", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    data = tomllib.loads((tmp_path / "preflight-baseline.toml").read_text())
    fails = {(f["rule"], f["host"], f["subject"]) for f in before["findings"] if f["status"] == "fail"}
    assert len(data["waivers"]) == len(fails) and f"{len(fails)} waiver(s) written" in out.stderr
    assert {w["reason"] for w in data["waivers"]} == {f"baseline: accepted on {TODAY.isoformat()}"}
    assert {w["host"] for w in data["waivers"]} == {"images/host1", "images/host2"}  # relative: the repo moves
    assert all("expires" not in w for w in data["waivers"])

    code, after, err = run_json(*example_args(root), "--baseline", "preflight-baseline.toml", cwd=tmp_path)
    assert code == 0 and after["verdict"] == "ready", err
    assert len(waived(after)) == len({(r, h) for r, h, _ in fails})
    assert {w["kind"] for w in waived(after).values()} == {"baseline"}
    # the same file referenced from the config
    (tmp_path / "preflight.toml").write_text('baseline = "preflight-baseline.toml"\n')
    code, _, _ = run_json(*example_args(root), cwd=tmp_path)
    assert code == 0
    # a finding that is new since the baseline fails: judged for more migrations at once
    (tmp_path / "preflight.toml").unlink()
    out = preflight(*baseline_args(root), "--select", "NET", "-o", "net-only.toml", cwd=tmp_path)
    assert out.returncode == 0
    code, rep, _ = run_json(*example_args(root), "--baseline", "net-only.toml", cwd=tmp_path)
    assert code == 1 and ("NET001", "source") in waived(rep) and ("SSH001", "destination") not in waived(rep)


def test_baseline_expires_and_refuses_a_host_it_could_not_inspect(tmp_path: Path) -> None:
    root = images(tmp_path)
    out = preflight(*baseline_args(root), "-o", "b.toml", "--expires", "2031-02-28", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert {w["expires"] for w in tomllib.loads((tmp_path / "b.toml").read_text())["waivers"]} == {
        datetime.date(2031, 2, 28)}
    assert preflight(*baseline_args(root), "-o", "c.toml", "--expires", "soon", cwd=tmp_path).returncode == 2
    args = baseline_args(root)
    args[args.index("--dest") + 1] = "ssh://root@127.0.0.1:1"
    out = preflight(*args, "--timeout", "5", "-o", "d.toml", cwd=tmp_path)
    assert out.returncode == 3 and "no baseline written" in out.stderr and not (tmp_path / "d.toml").exists()


# --- inline suppression ---------------------------------------------------------------------------------------
def _set_max_startups(root: Path, comment: str | None) -> None:
    conf = root / "host2" / "etc" / "ssh" / "sshd_config"
    lines = conf.read_text().splitlines()
    i = lines.index("#MaxStartups 10:30:100")
    lines[i:i + 1] = ([comment] if comment else []) + ["MaxStartups 10:30:100"]
    conf.write_text("\n".join(lines) + "\n")


def test_inline_suppression_on_the_line_above_waives_with_its_reason(tmp_path: Path) -> None:
    root = images(tmp_path)
    _set_max_startups(root, None)
    code, rep, _ = run_json(*example_args(root), "--select", "SSH001", cwd=tmp_path)
    line = next(f["line"] for f in rep["findings"] if f["rule"] == "SSH001" and f["status"] == "fail")
    assert code == 1 and line
    root2 = images(tmp_path / "b")
    _set_max_startups(root2, "# preflight: ignore[SSH001] at most 10 migrations at once, by change policy")
    code, rep, err = run_json(*example_args(root2), "--select", "SSH001", cwd=tmp_path)
    assert code == 0, err
    w = waived(rep)[("SSH001", "destination")]
    assert w["kind"] == "inline" and w["reason"] == "inline: at most 10 migrations at once, by change policy"
    assert w["origin"] == f"{root2 / 'host2'}/etc/ssh/sshd_config:{line}"


def test_inline_suppression_without_a_reason_is_reported_and_not_applied(tmp_path: Path) -> None:
    root = images(tmp_path)
    _set_max_startups(root, "# preflight: ignore[sshd-max-startups]")
    code, rep, err = run_json(*example_args(root), "--select", "SSH001", cwd=tmp_path)
    assert code == 1 and not waived(rep)
    assert "sshd_config:" in err and "without a reason is not applied" in err


def test_inline_suppression_on_the_same_line_and_for_other_rules() -> None:
    text = "a\nmax_clients = 20  # preflight: ignore[LIM001, LIM003] measured: 1 slot per side\nb\n"
    (same,) = near(text, 2)
    assert same.rules == ("LIM001", "LIM003") and same.reason == "measured: 1 slot per side"
    assert near(text, 3)[0].line == 2  # the line above
    assert near(text, 1) == [] and near(text, 4) == []
    (hostile,) = near("# preflight: ignore[SSH001] ok\x1b[32m READY\n", 1)
    assert "\x1b" not in hostile.reason and "\\x1b" in hostile.reason


def test_a_waiver_names_a_live_host_by_spec_or_name() -> None:
    from preflight.model.facts import HostMode, HostSnapshot
    from preflight.waivers import host_matches

    snaps = {"destination": HostSnapshot(role="destination", spec="ssh://root@host2.example.com:22",
                                         mode=HostMode.SSH)}
    f = Finding(rule="SSH001", name="sshd-max-startups", status=Status.FAIL, severity=Severity.ERROR,
                host=Scope.DESTINATION, message="m")
    for host, expected in (("ssh://root@host2.example.com:22", True), ("host2.example.com", True),
                           ("destination", True), ("source", False), ("host1.example.com", False), (None, True)):
        assert host_matches(Waiver(rule="SSH001", reason="r", host=host), f, snaps) is expected, host


def test_ignore_file_suppresses_a_finding_about_a_setting_the_file_lacks(tmp_path: Path) -> None:
    """The example's findings are about compiled defaults (no line): only a file-level comment can name them."""
    root = images(tmp_path)
    code, rep, _ = run_json(*example_args(root), "--select", "NET001", cwd=tmp_path)
    (f,) = [f for f in rep["findings"] if f["rule"] == "NET001" and f["status"] == "fail"]
    assert code == 1 and f["file"] == "/etc/hosts" and f["line"] is None
    hosts = root / "host1" / "etc" / "hosts"
    hosts.write_text(hosts.read_text() + "# preflight: ignore-file[dest-name-resolves] DNS in production\n")
    code, rep, err = run_json(*example_args(root), "--select", "NET001", cwd=tmp_path)
    assert code == 0, err
    w = waived(rep)[("NET001", "source")]
    assert w["reason"] == "inline: DNS in production"
    assert w["origin"] == f"{root / 'host1'}/etc/hosts:{len(hosts.read_text().splitlines())}"
    # a line-level comment does not reach a finding without a line
    hosts.write_text(hosts.read_text().replace("ignore-file[", "ignore["))
    assert run_json(*example_args(root), "--select", "NET001", cwd=tmp_path)[0] == 1
