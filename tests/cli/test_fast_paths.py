"""Issue 11 item 4 (speed): what each command line imports. `--help` does not load the rule engine
nor the parts of rich typer's help never uses here (its output unchanged); `check` does not load
lint's or fleet's modules; lint and fleet are listed and run though they are imported lazily."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"

# The real entry point (preflight.cli.main, which ends with os._exit); just before the process ends,
# the modules it imported are written to stderr as one JSON line.
DRIVER = r"""
import json, os, sys
real_exit = os._exit
def spy_exit(code):
    sys.stderr.write("MODULES " + json.dumps(sorted(sys.modules)) + "\n")
    sys.stderr.flush()
    real_exit(code)
os._exit = spy_exit
from preflight.cli import main
sys.argv = ["preflight", *sys.argv[1:]]
main()
"""

ENV = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}


def run_main(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    out = subprocess.run([sys.executable, "-c", DRIVER, *args], capture_output=True, text=True, cwd=REPO,
                         env=ENV, timeout=60, check=False)
    lines = [line for line in out.stderr.splitlines() if line.startswith("MODULES ")]
    assert lines, out.stderr
    return out, set(json.loads(lines[-1][len("MODULES "):]))


def in_process_help(*args: str) -> str:
    """The same help from the app called in a fresh interpreter without main()'s stand-ins."""
    code = ("import sys\nfrom preflight.cli import app\ntry:\n    app(sys.argv[1:], prog_name='preflight')\n"
            "except SystemExit:\n    pass\nassert 'markdown_it' in sys.modules\n")
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO, env=ENV,
                         timeout=60, check=True)
    return out.stdout


@pytest.mark.parametrize("args", [("--help",), ("check", "-h"), ("lint", "-h")])
def test_help_skips_the_engine_and_unused_rich_and_is_unchanged(args: tuple[str, ...]) -> None:
    out, modules = run_main(*args)
    assert out.returncode == 0, out.stderr
    assert not modules & {"preflight.engine", "preflight.rules", "libvirt", "markdown_it", "pygments"}
    assert out.stdout == in_process_help(*args)


def test_top_level_help_lists_the_lazily_registered_commands() -> None:
    out, _ = run_main("--help")
    for command in ("check", "baseline", "fix", "facts", "rules", "explain", "lint", "fleet", "evacuate"):
        assert f" {command} " in out.stdout, command


def test_check_does_not_import_lint_or_fleet() -> None:
    out, modules = run_main(
        "check", "--live", "guest1-rhel6-64", "qemu+ssh://host2.example.com/system", "--concurrency", "12",
        "--source", str(EXAMPLES / "host1"), "--source-libvirt", f"test://{EXAMPLES / 'host1.xml'}",
        "--dest", str(EXAMPLES / "host2"), "--dest-libvirt", f"test://{EXAMPLES / 'host2.xml'}", "--no-config")
    assert out.returncode == 1, out.stderr  # the example is NOT READY
    assert "NOT READY" in out.stdout
    assert not modules & {"preflight.cli_lint", "preflight.cli_fleet", "preflight.fleet", "preflight.cli_evacuate",
                          "markdown_it"}


def test_lint_runs_though_registered_lazily() -> None:
    out, modules = run_main("lint", str(EXAMPLES / "host1"), "--concurrency", "12", "--no-config")
    assert "lint of 1 host(s)" in out.stdout, out.stderr
    assert "preflight.cli_lint" in modules and "preflight.cli_fleet" not in modules


def test_stand_ins_give_the_real_rich_when_used() -> None:
    code = ("import sys\nimport preflight.cli as c\nc._defer_unused_rich()\n"
            "from rich.markdown import Markdown\nfrom rich.traceback import Traceback\n"
            "assert 'markdown_it' not in sys.modules\n"
            "md = Markdown('# x')\nimport rich.markdown\nassert isinstance(md, rich.markdown.Markdown)\n"
            "assert callable(Traceback.from_exception)\nprint('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60,
                         check=False)
    assert out.stdout.strip() == "ok", out.stderr
