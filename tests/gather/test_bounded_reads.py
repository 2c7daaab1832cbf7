"""Every file read is typed (regular files only), bounded (size cap) and timed, in image and local mode.

Issue 12: a FIFO or device node at a config path hung forever or read without
a size limit, and --timeout did not apply to image mode. Root reads any file
whatever its mode bits, so these tests use what stops root too: FIFOs,
sockets, directories, symlink loops, paths through a regular file, the size
cap and /dev/zero (a device with no end).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import preflight.gather.image as image
from preflight.access import LocalAccess
from preflight.fsutil import MAX_FILE_BYTES
from preflight.gather.frames import parse_frames
from preflight.gather.image import gather_image, path_in_root, read_file_probe
from preflight.gather.script import cap_files, gather_script
from preflight.model import probes as pk
from preflight.model.facts import Availability, Probe


def _bounded(fn: Callable[[], object], seconds: float = 20) -> object:
    """fn() in a daemon thread; a call that blocks (the old FIFO read) fails the test instead of hanging it."""
    box: list[object] = []
    worker = threading.Thread(target=lambda: box.append(fn()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert box, f"still reading after {seconds} s: a read blocked"
    return box[0]


# --- image mode ------------------------------------------------------------------------------------
def _root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/hostname").write_text("host1.example.com\n")
    return root


def _fifo(p: Path) -> None:
    os.mkfifo(p)


def _socket(p: Path) -> None:
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(p))
    s.close()


def _loop(p: Path) -> None:
    os.symlink(p.name + ".b", p)
    os.symlink(p.name, p.with_name(p.name + ".b"))


def _through_file(p: Path) -> None:
    (p.parent / "plain").write_text("x\n")
    os.symlink("plain/hosts", p)


def _too_large(p: Path) -> None:
    p.write_bytes(b"#" * (MAX_FILE_BYTES + 1))


@pytest.mark.parametrize(
    "make, why",
    [
        (Path.mkdir, "/etc/hosts: is a directory"),
        (_fifo, "/etc/hosts: is not a regular file"),
        (_socket, "/etc/hosts: is not a regular file"),
        (_loop, "/etc/hosts: too many levels of symbolic links"),
        (_through_file, "/etc/hosts: Not a directory"),
        (_too_large, f"/etc/hosts: is larger than {MAX_FILE_BYTES} bytes"),
    ],
    ids=["directory", "fifo", "socket", "loop", "enotdir", "too-large"],
)
def test_image_refuses_what_is_not_a_readable_regular_file(
    tmp_path: Path, make: Callable[[Path], None], why: str
) -> None:
    root = _root(tmp_path)
    make(root / "etc/hosts")
    t0 = time.monotonic()
    probes = _bounded(lambda: gather_image(str(root)))
    assert isinstance(probes, dict)
    hosts = probes[pk.file_key(pk.ETC_HOSTS)]
    assert hosts.status is Availability.ERROR and hosts.text is None
    assert hosts.error is not None and hosts.error.startswith(why), hosts.error
    assert probes[pk.file_key(pk.ETC_HOSTNAME)].text == "host1.example.com\n"  # the others are still read
    assert time.monotonic() - t0 < 5


def test_image_missing_is_missing_and_bytes_round_trip(tmp_path: Path) -> None:
    root = _root(tmp_path)
    assert read_file_probe(str(root), "/etc/hosts").status is Availability.MISSING
    raw = b"127.0.0.1 localhost\n10.0.0.20 h\xf4te2 # caf\xe9 \xff\n"  # Latin-1, not UTF-8
    (root / "etc/hosts").write_bytes(raw)
    probe = read_file_probe(str(root), "/etc/hosts")
    assert probe.ok and probe.text is not None
    assert probe.text.encode("utf-8", "surrogateescape") == raw  # what fix writes back is these bytes
    assert "\ufffd" not in probe.text


def test_image_symlinks_followed_inside_and_confined(tmp_path: Path) -> None:
    root = _root(tmp_path)
    (root / "usr/share").mkdir(parents=True)
    (root / "usr/share/hosts").write_text("10.0.0.20 host2\n")
    os.symlink("/usr/share/hosts", root / "etc/hosts")  # absolute: the image's /usr, not this machine's
    assert read_file_probe(str(root), "/etc/hosts").text == "10.0.0.20 host2\n"
    secret = tmp_path / "secret"
    secret.write_text("this machine's file\n")
    os.symlink("../../../../../../../" + str(secret), root / "etc/escape")
    os.symlink(str(secret), root / "etc/absolute")
    for link in ("/etc/escape", "/etc/absolute"):
        probe = read_file_probe(str(root), link)
        assert probe.status is Availability.MISSING and probe.text is None, probe
    assert path_in_root(str(root), "/etc/../../../etc/hosts") == str(root / "usr/share/hosts")


def test_image_timeout_one_slow_file_loses_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--timeout bounds each image read; a file stuck on a hung filesystem is an error of its own.

    A real hung NFS read cannot be produced here without a custom FUSE server,
    so the stuck read is one that waits on an event: the same blocked thread.
    """
    root = _root(tmp_path)
    (root / "etc/hosts").write_text("127.0.0.1 localhost\n")
    real, release = image.read_bounded, threading.Event()

    def hung_on_hosts(path: str, limit: int = MAX_FILE_BYTES, follow: bool = True) -> bytes:
        if path.endswith("/etc/hosts"):
            release.wait(30)
        return real(path, limit, follow)

    monkeypatch.setattr(image, "read_bounded", hung_on_hosts)
    try:
        t0 = time.monotonic()
        probes = _bounded(lambda: gather_image(str(root), timeout=1.0))
        took = time.monotonic() - t0
    finally:
        release.set()
    assert isinstance(probes, dict)
    assert took < 4, took
    hosts = probes[pk.file_key(pk.ETC_HOSTS)]
    assert hosts.status is Availability.ERROR and "no answer within 1 s" in (hosts.error or "")
    assert "/etc/hosts" in (hosts.error or "")
    assert probes[pk.file_key(pk.ETC_HOSTNAME)].text == "host1.example.com\n"
    assert probes[pk.file_key(pk.LIBVIRTD_CONF)].status is Availability.MISSING


# --- local mode: the real gather script ---------------------------------------------------------------
def test_script_reads_regular_files_only_bounded_and_never_hangs(tmp_path: Path) -> None:
    fifo, sock_path, folder = tmp_path / "hosts-fifo", tmp_path / "sock", tmp_path / "dir"
    os.mkfifo(fifo)  # `cat` of it blocked forever
    _socket(sock_path)
    folder.mkdir()
    link = tmp_path / "link-to-fifo"
    os.symlink(fifo, link)
    big, small = tmp_path / "big", tmp_path / "small"
    big.write_bytes(b"a" * 1001)
    small.write_bytes(b"b" * 1000)
    paths = [fifo, link, sock_path, folder, Path("/dev/zero"), big, small, tmp_path / "absent"]
    token = "d" * 32
    args = [token, "t:3", "c:1000", *[f"f:{p}" for p in paths]]
    t0 = time.monotonic()
    result = LocalAccess().run_script(gather_script(), 30, args)
    took = time.monotonic() - t0
    probes, done = parse_frames(result.stdout, token)
    cap_files(probes, 1000)  # what run_gather does with the c: cap it passed
    assert done, result.stderr
    assert took < 10, took

    def probe(p: Path) -> Probe:
        return probes[pk.file_key(str(p))]

    for p in (fifo, link, sock_path, Path("/dev/zero")):  # /dev/zero: a device that never ends
        assert probe(p).status is Availability.ERROR and probe(p).error == f"{p}: not a regular file", probe(p)
    assert probe(folder).error == f"{folder}: is a directory"
    assert probe(big).status is Availability.ERROR and probe(big).error == f"{big}: larger than 1000 bytes; not read"
    assert probe(big).text is None
    assert probe(small).ok and probe(small).text == "b" * 1000  # exactly at the cap is read whole
    assert probe(tmp_path / "absent").status is Availability.MISSING
    assert (probes[pk.HOSTNAME].text or "").strip() == os.uname().nodename  # nothing else lost


def test_script_default_cap_is_fsutil_cap(tmp_path: Path) -> None:
    big = tmp_path / "big"
    with open(big, "wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk used
    token = "e" * 32
    result = LocalAccess().run_script(gather_script(), 30, [token, "t:3", f"f:{big}"])
    probes, done = parse_frames(result.stdout, token)
    # the script's own default reads one byte past fsutil's cap, never more
    assert done and len(probes[pk.file_key(str(big))].text or "") == MAX_FILE_BYTES + 1
    cap_files(probes)
    assert probes[pk.file_key(str(big))].error == f"{big}: larger than {MAX_FILE_BYTES} bytes; not read"


def test_script_args_carry_the_cap_and_a_finite_timeout() -> None:
    from preflight.gather.script import gather_args

    for odd in (float("inf"), float("nan")):
        args = gather_args("t" * 32, odd, [], [])
        assert args[1] == "t:10" and f"c:{MAX_FILE_BYTES}" in args
    assert gather_args("t" * 32, 0.2, [], [])[1] == "t:1"
