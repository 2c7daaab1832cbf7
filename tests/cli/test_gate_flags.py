"""Gate policy flags: `preflight --version`, `check --exit-zero`."""

from __future__ import annotations

from importlib import metadata

from preflight import __version__
from tests.cli.test_cli import EXAMPLES, example_args, preflight


def test_version() -> None:
    out = preflight("--version")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["preflight", "(migration-preflight)", __version__]
    assert metadata.version("migration-preflight") == __version__


def test_exit_zero_keeps_the_verdict_and_exits_0() -> None:
    plain = preflight(*example_args())
    assert plain.returncode == 1
    out = preflight(*example_args(), "--exit-zero")
    assert out.returncode == 0, out.stderr
    assert out.stdout == plain.stdout and out.stdout.splitlines()[-1].startswith("NOT READY")


def test_exit_zero_when_a_host_could_not_be_inspected() -> None:
    out = preflight("check", "--live", "guest1-rhel6-64", "qemu+ssh://root@127.0.0.1:1/system",
                    "--source", str(EXAMPLES / "host1"), "--source-libvirt", f"test://{EXAMPLES / 'host1.xml'}",
                    "--timeout", "5", "--exit-zero")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1].startswith("UNKNOWN")


def test_exit_zero_does_not_hide_usage_errors() -> None:
    out = preflight(*example_args(), "--exit-zero", "--concurrency", "0")
    assert out.returncode == 2, out.stdout + out.stderr
    out = preflight(*example_args(), "--exit-zero", "--select", "NOPE999")
    assert out.returncode == 2
