"""Issue 12: bad arguments and odd output paths are exit 2 with one line; writes never follow a planted
symlink and leave nothing behind; an internal error is one line and exit 4, never 1 (NOT READY)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.cli.test_cli import EXAMPLES, TOP, URI, example_args, preflight


def _usage_error(out: subprocess.CompletedProcess[str]) -> str:
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("preflight: error: "), out.stderr
    return lines[0]


@pytest.mark.parametrize("value", ["inf", "nan", "-5", "0", "-inf", "1e300"])
@pytest.mark.parametrize("command", ["check", "fix", "facts"])
def test_timeout_must_be_finite_and_positive(value: str, command: str, tmp_path: Path) -> None:
    args = {"check": example_args(), "fix": ["fix", *example_args()[1:]],
            "facts": ["facts", str(EXAMPLES / "host1"), "-o", str(tmp_path / "f.json")]}[command]
    line = _usage_error(preflight(*args, "--timeout", value))
    assert "--timeout" in line
    assert not (tmp_path / "f.json").exists()


def test_a_small_timeout_is_accepted() -> None:
    assert preflight(*example_args(), "--timeout", "0.5").returncode == 1


@pytest.mark.parametrize("command", ["check", "facts"])
@pytest.mark.parametrize("target, message", [
    ("missing/r.sarif", "does not exist"),
    ("odir", "is a directory"),
    ("odir/", "names a directory"),
    ("newdir/", "ends with '/'"),
    ("", "empty file name"),
])
def test_odd_output_paths_exit_2_and_leave_nothing(tmp_path: Path, command: str, target: str, message: str) -> None:
    (tmp_path / "odir").mkdir()
    before = sorted(p.name for p in tmp_path.rglob("*"))
    output = str(tmp_path / target) + ("/" if target.endswith("/") else "") if target else ""
    args = example_args() if command == "check" else ["facts", str(EXAMPLES / "host1")]
    line = _usage_error(preflight(*args, "-o", output))
    assert message in line
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # no odir.tmp, no newdir, nothing


def test_unwritable_output_directory(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "file").write_text("x")
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root ignores the mode: a file where a directory belongs instead
            line = _usage_error(preflight(*example_args(), "-o", str(locked / "file" / "r.json")))
            assert "is not a directory" in line
        else:
            line = _usage_error(preflight(*example_args(), "-o", str(locked / "r.json")))
            assert "not writable" in line
    finally:
        locked.chmod(0o700)


@pytest.fixture()
def victim(tmp_path: Path) -> Path:
    v = tmp_path / "victim"
    v.write_text("precious\n")
    return v


def test_planted_tmp_symlink_is_not_followed_by_output(tmp_path: Path, victim: Path) -> None:
    report = tmp_path / "r.json"
    (tmp_path / "r.json.tmp").symlink_to(victim)
    out = preflight(*example_args(), "--format", "json", "-o", str(report))
    assert out.returncode == 1, out.stderr
    assert victim.read_text() == "precious\n"
    assert report.is_file() and not report.is_symlink() and '"verdict"' in report.read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left


def test_output_that_is_a_symlink_is_replaced_not_followed(tmp_path: Path, victim: Path) -> None:
    report = tmp_path / "r.txt"
    report.symlink_to(victim)
    assert preflight(*example_args(), "-o", str(report)).returncode == 1
    assert victim.read_text() == "precious\n"
    assert not report.is_symlink() and "NOT READY" in report.read_text()


def test_planted_tmp_symlink_is_not_followed_by_facts(tmp_path: Path, victim: Path) -> None:
    snap = tmp_path / "s.json"
    (tmp_path / "s.json.tmp").symlink_to(victim)
    out = preflight("facts", str(EXAMPLES / "host1"), "-o", str(snap))
    assert out.returncode == 0, out.stderr
    assert victim.read_text() == "precious\n" and '"format_version"' in snap.read_text()


def test_save_facts_replaces_planted_symlinks(tmp_path: Path, victim: Path) -> None:
    facts = tmp_path / "facts"
    facts.mkdir()
    (facts / "source.json").symlink_to(victim)
    (facts / "destination.json.tmp").symlink_to(victim)
    out = preflight(*example_args(), "--save-facts", str(facts))
    assert out.returncode == 1, out.stderr
    assert victim.read_text() == "precious\n"
    for name in ("source.json", "destination.json"):
        assert not (facts / name).is_symlink() and '"probes"' in (facts / name).read_text()


def test_save_facts_directory_that_is_a_symlink_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    line = _usage_error(preflight(*example_args(), "--save-facts", str(tmp_path / "link")))
    assert "symbolic link" in line and list(real.iterdir()) == []


def test_save_facts_makes_missing_directories(tmp_path: Path) -> None:
    out = preflight(*example_args(), "--save-facts", str(tmp_path / "a" / "b"))
    assert out.returncode == 1, out.stderr
    assert (tmp_path / "a/b/source.json").is_file()


def test_output_to_our_own_stdout_through_a_symlink(tmp_path: Path) -> None:
    """-o /dev/stdout with stdout on a file: written there, the link itself left alone (never replaced).

    A link of our own to /proc/self/fd/1 stands in for /dev/stdout, so a regression cannot break the system's.
    """
    link = tmp_path / "stdout"
    link.symlink_to("/proc/self/fd/1")
    captured = tmp_path / "captured"
    with open(captured, "w") as fh:
        fh.write("before\n")
    with open(captured, "a") as fh:
        rc = subprocess.run([sys.executable, "-m", "preflight.cli", *example_args(), "--format", "json",
                             "-o", str(link)], stdout=fh, stderr=subprocess.PIPE, text=True, cwd=TOP,
                            timeout=120, env={"PATH": "/usr/bin:/bin"}).returncode
    assert rc == 1
    assert link.is_symlink() and os.readlink(link) == "/proc/self/fd/1"
    text = captured.read_text()
    assert text.startswith("before\n{") and '"verdict": "not-ready"' in text  # appended, as >> asked


def test_output_to_a_fifo_is_written_not_replaced(tmp_path: Path) -> None:
    """A FIFO (like /dev/null, /dev/stdout on a pipe) is written to; a regression would replace it with a file.

    Only files under tmp_path are used: a test must never be able to replace a real /dev node.
    """
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    out = preflight(*example_args(), "--format", "json", "-o", str(fifo))
    still_fifo = stat.S_ISFIFO(os.lstat(fifo).st_mode)
    if reader.is_alive() and still_fifo:  # nothing was written: release the reader
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    reader.join(10)
    assert out.returncode == 1, out.stderr
    assert still_fifo and got and b'"verdict": "not-ready"' in got[0]


@pytest.mark.parametrize("path", ["/dev/preflight-test-report", "/proc/self/preflight-test-report"])
def test_no_file_is_ever_created_in_dev_or_proc(path: str) -> None:
    """output_file() only checks (it never writes), so this is safe to run even if the check regressed."""
    from preflight.report.output import OutputError, output_file

    with pytest.raises(OutputError, match="refusing to create or replace a file in /dev or /proc"):
        output_file(path)


# --- internal errors ------------------------------------------------------------------

BOOM = """
import sys
import preflight.cli as cli

def evaluate(*args, **kwargs):
    secret_local = "CONTENTS-OF-A-HOST-FILE"
    raise RuntimeError("rule blew up\\x1b[31m")

cli.evaluate = evaluate
sys.argv = ["preflight", *sys.argv[1:]]
cli.main()
"""


@pytest.mark.parametrize("debug", [False, True])
def test_internal_error_is_one_line_exit_4(debug: bool) -> None:
    env = {"PATH": "/usr/bin:/bin", "NO_COLOR": "1", **({"PREFLIGHT_DEBUG": "1"} if debug else {})}
    out = subprocess.run([sys.executable, "-c", BOOM, *example_args()], capture_output=True, text=True,
                         cwd=TOP, timeout=120, env=env)
    assert out.returncode == 4, (out.returncode, out.stderr)
    assert "CONTENTS-OF-A-HOST-FILE" not in out.stderr  # no locals, ever
    assert "\x1b" not in out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("preflight: internal error: RuntimeError: rule blew up\\x1b[31m")
    assert "PREFLIGHT_DEBUG=1" in last
    if debug:
        assert "Traceback" in out.stderr and "in evaluate" in out.stderr
    else:
        assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


def test_bad_uri_words_are_usage_errors() -> None:
    for args in (["check", "g", "qemu+ssh:///system"], ["check", "g", URI, "--concurrency", "-3"]):
        _usage_error(preflight(*args))


def test_a_reader_that_goes_away_is_exit_141_not_a_verdict() -> None:
    """`preflight … | head -1` under `set -o pipefail`: a report cut short by its reader must not exit 1,
    which means NOT READY; it exits as a process killed by SIGPIPE would (128 + 13), silently."""
    import os
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte: every write is EPIPE
    try:
        done = subprocess.run([sys.executable, "-m", "preflight.cli", "rules"], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=60, check=False)
    finally:
        os.close(write_end)
    assert done.returncode == 141 and done.stderr == "", (done.returncode, done.stderr)
