"""Issue 10 item 6: progress while gathering, on a terminal's stderr only; silent in a pipe and with --quiet."""

from __future__ import annotations

import re

from tests.cli import ptyrun
from tests.cli.test_cli import EXAMPLES, URI, preflight

CLOSED = "ssh://127.0.0.1:1"


def args(*extra: str) -> list[str]:
    return ["check", "--live", "guest1-rhel6-64", URI, "--source", str(EXAMPLES / "host1"),
            "--source-libvirt", f"test://{EXAMPLES / 'host1.xml'}", "--dest", CLOSED, "--timeout", "5", *extra]


def test_progress_per_host_on_a_terminal_stderr() -> None:
    run = ptyrun.run(*args(), stdout_tty=False, env={"NO_COLOR": "1"})
    assert run.returncode in (1, 3)
    shown = run.tty  # stderr only: stdout is a pipe
    assert f"destination {CLOSED}: connecting" in shown
    assert re.search(rf"destination {re.escape(CLOSED)}: failed in \d+\.\d s: .*Connection refused", shown), shown
    assert re.search(rf"source {re.escape(str(EXAMPLES / 'host1'))}: done in \d+\.\d s", shown), shown
    assert "preflight:" not in run.stdout and "\x1b[K" not in run.stdout  # the report is untouched
    assert "could not be inspected" in run.stdout


def test_no_progress_in_a_pipe() -> None:
    done = preflight(*args())
    assert done.returncode in (1, 3)
    assert done.stderr == ""
    assert "connecting" not in done.stdout and "\r" not in done.stdout


def test_quiet_silences_progress_and_prints_only_the_verdict() -> None:
    run = ptyrun.run(*args("--quiet"), env={"NO_COLOR": "1"})
    lines = [line for line in run.tty.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(("NOT READY", "UNKNOWN")), run.tty
    assert "connecting" not in run.tty
