"""No READY on input that could not be read (issue 12, "Wrong READY"), end to end on image roots.

Each case starts from the built-in example fixed so that it is READY (as in
tests/cli), breaks one thing in a real image root on disk, gathers it with
the real image reader and judges it with every rule. Root can read a file
whatever its mode bits, so "unreadable" is made real in ways that stop root
too: a directory, a FIFO, a UNIX socket, a symlink loop, a path through a
regular file (ENOTDIR), and a file over the read cap.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from preflight.access import parse_host_spec
from preflight.engine import ExitCode, Report, Verdict, evaluate
from preflight.fsutil import MAX_FILE_BYTES
from preflight.gather import gather_pair
from preflight.model.findings import Finding, Severity, Status
from preflight.model.plan import MigrationPlan

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
GUEST = "guest1-rhel6-64"
URI = "qemu+ssh://host2.example.com/system"
GOOD_ENTRY = "10.0.0.20\thost2.example.com host2\n"


@pytest.fixture
def ex(tmp_path: Path) -> Path:
    """The example, fixed: READY (the same two edits as tests/cli's fixed example)."""
    root = tmp_path / "ex"
    shutil.copytree(EXAMPLES, root)
    with open(root / "host1/etc/hosts", "a") as fh:
        fh.write(GOOD_ENTRY)
    sshd = root / "host2/etc/ssh/sshd_config"
    sshd.write_text(sshd.read_text().replace("#MaxStartups 10:30:100", "MaxStartups 14:30:100"))
    return root


def _check(root: Path, uri: str) -> Report:
    plan = MigrationPlan(guests=[GUEST], dest_uri=uri, live=True, concurrency=12)
    src, dst = gather_pair(parse_host_spec(str(root / "host1")), parse_host_spec(str(root / "host2")), plan,
                           source_libvirt=f"test://{root / 'host1.xml'}",
                           dest_libvirt=f"test://{root / 'host2.xml'}")
    return evaluate(plan, src, dst)


def check(root: Path, uri: str = URI) -> Report:
    """Gather and judge, in a thread: a read that blocks (a FIFO) fails the test instead of hanging it."""
    box: list[Report | BaseException] = []

    def run() -> None:
        try:
            box.append(_check(root, uri))
        except BaseException as exc:  # shown by the assertion below
            box.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(60)
    assert box, "gathering the image roots did not finish within 60 s: a read blocked"
    if isinstance(box[0], BaseException):
        raise box[0]
    return box[0]


def findings(report: Report, rule: str, host: str | None = None) -> list[Finding]:
    return [f for f in report.findings if f.rule == rule and (host is None or f.host.value == host)]


def test_fixed_example_is_ready(ex: Path) -> None:
    """The starting point of every case below: READY, so each break is what changes the verdict."""
    report = check(ex)
    assert report.verdict == Verdict.READY, [f.message for f in report.blocking_failures]


# --- case 1: the source's /etc/hosts --------------------------------------------------------------
def _hosts(ex: Path) -> Path:
    return ex / "host1/etc/hosts"


def _missing(ex: Path) -> None:
    _hosts(ex).unlink()


def _directory(ex: Path) -> None:
    _hosts(ex).unlink()
    _hosts(ex).mkdir()


def _loop(ex: Path) -> None:
    _hosts(ex).unlink()
    os.symlink("hosts.b", _hosts(ex))
    os.symlink("hosts", ex / "host1/etc/hosts.b")


def _through_a_file(ex: Path) -> None:  # ENOTDIR: a path component is a regular file, even root cannot read it
    (ex / "host1/etc/network").write_text("not a directory\n")
    _hosts(ex).unlink()
    os.symlink("/etc/network/hosts", _hosts(ex))


def _fifo(ex: Path) -> None:
    _hosts(ex).unlink()
    os.mkfifo(_hosts(ex))


def _socket(ex: Path) -> None:
    _hosts(ex).unlink()
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(_hosts(ex)))
    sock.close()


def _too_large(ex: Path) -> None:
    good = _hosts(ex).read_text()
    filler = "# padding\n" * (MAX_FILE_BYTES // 10 + 1)
    _hosts(ex).write_text(good + filler)  # the good entry is there, but the file is over the cap


@pytest.mark.parametrize(
    "breaks, reason",
    [
        (_directory, "/etc/hosts: is a directory"),
        (_loop, "/etc/hosts: too many levels of symbolic links"),
        (_through_a_file, "/etc/hosts: Not a directory"),
        (_fifo, "/etc/hosts: is not a regular file"),
        (_socket, "/etc/hosts: is not a regular file"),
        (_too_large, f"/etc/hosts: is larger than {MAX_FILE_BYTES} bytes"),
    ],
    ids=["directory", "symlink-loop", "enotdir", "fifo", "socket", "too-large"],
)
def test_unreadable_source_hosts_is_unknown_never_ready(
    ex: Path, breaks: Callable[[Path], None], reason: str
) -> None:
    breaks(ex)
    report = check(ex)
    net = findings(report, "NET001")
    assert net and all(f.status is not Status.PASS for f in net)
    unknown = [f for f in net if f.status is Status.UNKNOWN]
    assert unknown and all(f.severity is Severity.ERROR for f in unknown), [f.message for f in net]
    assert any(reason in f.message for f in unknown), [f.message for f in unknown]
    assert report.verdict != Verdict.READY and report.exit_code is not ExitCode.READY


def test_missing_source_hosts_fails(ex: Path) -> None:
    """Image mode judges /etc/hosts alone: no file is no entry, a FAIL that names the file."""
    _missing(ex)
    report = check(ex)
    failed = [f for f in findings(report, "NET001") if f.status is Status.FAIL]
    assert failed and all(f.severity is Severity.ERROR and f.file == "/etc/hosts" for f in failed)
    assert "no /etc/hosts" in failed[0].message
    assert report.exit_code is ExitCode.NOT_READY


def test_symlinked_hosts_inside_the_image_is_followed(ex: Path) -> None:
    """README: "a missing entry fails" holds for a symlinked /etc/hosts; the link stays inside the image."""
    real = ex / "host1/usr/share/hosts"
    real.parent.mkdir(parents=True)
    shutil.move(_hosts(ex), real)
    os.symlink("/usr/share/hosts", _hosts(ex))  # absolute: relative to the image root, not to this machine
    assert check(ex).verdict == Verdict.READY  # followed: the good entry is read
    real.write_text(real.read_text().replace(GOOD_ENTRY, ""))
    report = check(ex)
    assert "no entry" in next(f for f in findings(report, "NET001") if f.status is Status.FAIL).message
    assert report.exit_code is ExitCode.NOT_READY


def test_escaping_hosts_symlink_is_confined(ex: Path, tmp_path: Path) -> None:
    """A link out of the image reads the image's own path, never this machine's file."""
    outside = tmp_path / "outside-hosts"
    outside.write_text(GOOD_ENTRY)  # would make it READY if it were read
    _hosts(ex).unlink()
    os.symlink(os.path.relpath(outside, _hosts(ex).parent), _hosts(ex))
    report = check(ex)
    assert report.verdict != Verdict.READY
    assert all(f.status is not Status.PASS for f in findings(report, "NET001") if f.subject == "host2.example.com")


# --- case 5: the destination's name mapped to the source's own address -------------------------------
def test_dest_name_on_source_address_without_source_hostname_is_never_ready(ex: Path) -> None:
    (ex / "host1/etc/hostname").unlink()  # the source's own addresses can no longer be known
    hosts = _hosts(ex)
    hosts.write_text(hosts.read_text().replace(GOOD_ENTRY, "10.0.0.10\thost2.example.com host2\n"))
    report = check(ex)
    net = [f for f in findings(report, "NET001") if f.subject == "host2.example.com"]
    assert net and net[0].status is Status.UNKNOWN and net[0].severity is Severity.ERROR, [
        (f.status, f.severity, f.message) for f in net]
    assert "10.0.0.10" in net[0].message and "own addresses are unknown" in net[0].message
    assert "/etc/hostname" in net[0].message  # says why they are unknown
    assert report.verdict != Verdict.READY
    # with its hostname back, the same mapping is known to be the source itself: a FAIL
    (ex / "host1/etc/hostname").write_text("host1.example.com\n")
    net = [f for f in findings(check(ex), "NET001") if f.subject == "host2.example.com"]
    assert net[0].status is Status.FAIL and "the source itself" in net[0].message


# --- case 6: modular daemons judged on their own config ------------------------------------------------
def test_image_modular_config_is_judged_too(ex: Path) -> None:
    """libvirtd.conf and virtqemud.conf both present, no daemon state: both judged, the stricter wins."""
    (ex / "host2/etc/libvirt/virtqemud.conf").write_text("# modular daemon\nmax_clients = 1\n")
    report = check(ex)
    dmn = [f for f in findings(report, "DMN002", "destination") if f.status is Status.FAIL]
    assert dmn and dmn[0].file == "/etc/libvirt/virtqemud.conf" and dmn[0].line == 2
    assert "virtqemud" in dmn[0].message and "layout unknown" in dmn[0].message
    lim = [f for f in findings(report, "LIM001", "destination") if f.subject == "virtqemud"]
    assert lim and lim[0].status is Status.FAIL and lim[0].file == "/etc/libvirt/virtqemud.conf"
    assert "virtqemud judged on /etc/libvirt/virtqemud.conf" in lim[0].message
    assert {f.subject for f in findings(report, "LIM001", "destination")} == {"libvirtd", "virtqemud"}
    assert report.exit_code is ExitCode.NOT_READY


def test_image_modular_only_judges_virtqemud(ex: Path) -> None:
    """No libvirtd.conf: a modular layout; virtqemud.conf alone is judged, on current defaults."""
    (ex / "host2/etc/libvirt/libvirtd.conf").unlink()
    (ex / "host2/etc/libvirt/virtqemud.conf").write_text("max_clients = 30\nmax_workers = 30\n")
    report = check(ex)
    lim = findings(report, "LIM001", "destination")
    assert [f.subject for f in lim] == ["virtqemud"] and lim[0].status is Status.PASS
    assert "modular layout" in lim[0].message
    assert report.verdict == Verdict.READY


def test_live_source_addresses_unknown_is_never_a_pass() -> None:
    """`ip addr` failed on the source: a name on a non-destination address may be the source itself."""
    from preflight.model import probes as P
    from tests.rule_checks.factory import DST_ADDR, baseline, run

    src, dst = baseline()
    src.cmds[P.ADDRESSES] = None
    src.cmds[P.getent_key("host2.example.com")] = "198.18.0.99 STREAM host2.example.com\n"
    report = run(src, dst)
    net = [f for f in findings(report, "NET001") if f.subject == "host2.example.com"]
    assert net[0].status is Status.UNKNOWN and net[0].severity is Severity.ERROR
    assert report.exit_code is ExitCode.COULD_NOT_INSPECT
    src.cmds[P.getent_key("host2.example.com")] = f"{DST_ADDR} STREAM host2.example.com\n"
    net = [f for f in findings(run(src, dst), "NET001") if f.subject == "host2.example.com"]
    assert net[0].status is Status.PASS  # shown to be the destination's own address
