"""`preflight fix` writes nothing outside its target and loses nothing it did not mean to change
(issue 12: paths confined, bytes kept in any encoding, rollback clean, xattrs kept, one clear line)."""

from __future__ import annotations

import errno
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import augeas
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from preflight.fix.apply import Target, WriteError, check_unchanged, write_all
from preflight.fix.model import FileChange
from preflight.fix.validate import sshd_test
from preflight.fsutil import UnsafePath
from preflight.model import probes as P
from preflight.model.facts import Availability, HostSnapshot, Probe
from preflight.model.findings import ParseError
from preflight.parsers.augeas_util import edit_text
from preflight.sizing import recommended_max_clients
from tests.support.skips import requires

from .conftest import Case

TOP = Path(__file__).resolve().parents[2]
URI = "qemu+ssh://host2.example.com/system"
# Four '..' climb out of OUT/destination/etc/ssh to OUT's parent: the file lands beside the output dir.
ESCAPE = "/etc/ssh/../../../../escaped/x.conf"


def preflight(*args: str, tmpdir: Path | None = None, prefix: list[str] | None = None
              ) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/sbin:/usr/bin:/bin", "NO_COLOR": "1"}
    if tmpdir is not None:
        env["TMPDIR"] = str(tmpdir)
    return subprocess.run([*(prefix or []), sys.executable, "-m", "preflight.cli", *args], capture_output=True,
                          text=True, cwd=TOP, timeout=120, env=env)


def build(tmp_path: Path) -> dict[str, Path]:
    """A clean pair of image roots (tests/fix/conftest.py's BASE)."""
    return Case("safety", tmp_path / "no-overlay").build(tmp_path / "img")


def fix_args(roots: dict[str, Path]) -> list[str]:
    return ["--live", "guest1", URI, "--concurrency", "12", "--source", str(roots["source"]),
            "--dest", str(roots["destination"])]


def escaping_include(roots: dict[str, Path]) -> None:
    """The destination's sshd reads MaxStartups from an Include path holding '..'."""
    dest = roots["destination"]
    (dest / "etc/ssh/sshd_config").write_text(f"Include {ESCAPE}\n")
    (dest / "escaped").mkdir()
    (dest / "escaped/x.conf").write_text("MaxStartups 5:30:100\n")


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def no_traceback(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stderr + done.stdout, done.stderr


@pytest.fixture(scope="module", autouse=True)
def privsep_dir() -> None:
    # sshd -t (the validation before --write) refuses to run without its privilege separation directory.
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)


needs_root = requires(os.geteuid() == 0 and os.path.exists("/usr/sbin/sshd"),
                      "needs root (bind mounts, sshd -t, setting security.* xattrs) and sshd")


# --- case 1: --output-dir never writes outside the directory the user named -------------------------------

def test_output_dir_refuses_dotdot_include_from_image_root(tmp_path: Path) -> None:
    roots = build(tmp_path)
    escaping_include(roots)
    out = tmp_path / "out"
    done = preflight("fix", *fix_args(roots), "--no-diff", "--output-dir", str(out))
    assert f"{ESCAPE} (SSH001): changed" in done.stdout  # the fix did want to write that file
    assert not (tmp_path / "escaped").exists()
    assert done.returncode == 2, done.stdout
    refused = [line for line in done.stdout.splitlines() if f"destination:{ESCAPE}:" in line]
    assert len(refused) == 1 and "'..'" in refused[0], done.stdout
    assert files_under(out) == {}  # all or none: a partial set of sshd files would mislead
    no_traceback(done)


def crafted_snapshots(tmp_path: Path, roots: dict[str, Path]) -> dict[str, Path]:
    """Snapshots as a hostile host (or hand) could write them: an sshd file key holding '..'."""
    facts = tmp_path / "facts"
    preflight("check", *fix_args(roots), "--save-facts", str(facts))
    dest = HostSnapshot.load(facts / "destination.json")
    dest.add(Probe(P.file_key(P.SSHD_CONFIG), "crafted", Availability.OK, text=f"Include {ESCAPE}\n", rc=0))
    dest.add(Probe(P.file_key(ESCAPE), "crafted", Availability.OK, text="MaxStartups 5:30:100\n", rc=0))
    dest.add(Probe(P.SSHD_FILES, "crafted", Availability.OK, text=f"{P.SSHD_CONFIG}\n{ESCAPE}\n", rc=0))
    dest.save(facts / "destination.json")
    return {"source": facts / "source.json", "destination": facts / "destination.json"}


def facts_args(snaps: dict[str, Path]) -> list[str]:
    return ["--live", "guest1", URI, "--concurrency", "12", "--source-facts", str(snaps["source"]),
            "--dest-facts", str(snaps["destination"])]


def test_output_dir_refuses_dotdot_from_crafted_snapshot(tmp_path: Path) -> None:
    snaps = crafted_snapshots(tmp_path, build(tmp_path))
    out = tmp_path / "out"
    done = preflight("fix", *facts_args(snaps), "--no-diff", "--output-dir", str(out))
    assert f"{ESCAPE} (SSH001): changed" in done.stdout
    assert not (tmp_path / "escaped").exists()
    assert done.returncode == 2
    assert sum(f"destination:{ESCAPE}:" in line for line in done.stdout.splitlines()) == 1
    assert f"apply the diff to {ESCAPE} on the host" in done.stdout  # no copy from a file never written
    no_traceback(done)


def test_output_dir_refuses_a_planted_symlinked_directory(tmp_path: Path) -> None:
    roots = build(tmp_path)
    (roots["destination"] / "etc/ssh/sshd_config").write_text("MaxStartups 5:30:100\n")
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    elsewhere.mkdir()
    out.mkdir()
    (out / "destination").symlink_to(elsewhere)
    done = preflight("fix", *fix_args(roots), "--no-diff", "--output-dir", str(out))
    assert "/etc/ssh/sshd_config (SSH001): changed" in done.stdout
    assert list(elsewhere.iterdir()) == []
    assert done.returncode == 2
    line = next(x for x in done.stdout.splitlines() if "destination:/etc/ssh/sshd_config:" in x)
    assert "symbolic link" in line
    no_traceback(done)


def test_no_new_dropin_in_a_directory_named_with_dotdot(tmp_path: Path) -> None:
    roots = build(tmp_path)
    (roots["destination"] / "etc/ssh/sshd_config").write_text("Include /etc/ssh/../ssh/conf.d/*.conf\n")
    (roots["destination"] / "etc/ssh/conf.d").mkdir()
    out = tmp_path / "out"
    done = preflight("fix", *fix_args(roots), "--no-diff", "--output-dir", str(out))
    assert done.returncode == 1, done.stdout
    assert "/etc/ssh/sshd_config (SSH001): changed" in done.stdout and "preflight-migration" not in done.stdout
    assert "MaxStartups 14:30:100" in (out / "destination/etc/ssh/sshd_config").read_text()


def test_output_dir_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    roots = build(tmp_path)
    (roots["destination"] / "etc/ssh/sshd_config").write_text("MaxStartups 5:30:100\n")
    out = tmp_path / "out"
    out.write_text("not a directory\n")
    done = preflight("fix", *fix_args(roots), "--no-diff", "--output-dir", str(out))
    assert done.returncode == 2 and out.read_text() == "not a directory\n"
    assert sum(str(out) in line for line in done.stdout.splitlines()) == 2  # the heading and the reason
    no_traceback(done)


# --- case 2: sshd -t validation stays inside its temporary directory ----------------------------------------

def test_sshd_test_refuses_dotdot_paths_and_includes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tmp = tmp_path / "a" / "b"
    tmp.mkdir(parents=True)
    monkeypatch.setattr("tempfile.tempdir", str(tmp))
    # tmp/preflight-sshd-X/etc/ssh + 4 x '..' = tmp_path/a
    files = {P.SSHD_CONFIG: f"Include {ESCAPE}\n", ESCAPE: "MaxStartups 5:30:100\n"}
    with pytest.raises(UnsafePath, match=r"\.\."):
        sshd_test(files)
    assert not (tmp_path / "a" / "escaped").exists()
    with pytest.raises(UnsafePath, match="Include pattern"):  # would make sshd read this machine's files
        sshd_test({P.SSHD_CONFIG: "Include /etc/ssh/../../../../etc/passwd\n"})
    assert sorted(p.name for p in tmp.iterdir()) == []  # temporary trees removed


@needs_root
def test_write_validation_of_image_root_stays_in_its_temp_dir(tmp_path: Path) -> None:
    roots = build(tmp_path)
    escaping_include(roots)
    tmp = tmp_path / "a" / "b"
    tmp.mkdir(parents=True)
    before = files_under(roots["destination"])
    done = preflight("fix", *fix_args(roots), "--no-diff", "--write", tmpdir=tmp)
    assert not (tmp_path / "a" / "escaped").exists()
    assert files_under(roots["destination"]) == before
    line = next(x for x in done.stdout.splitlines() if x.startswith(f"  destination:{ESCAPE}:"))
    assert "cannot validate with sshd -t" in line
    assert done.returncode == 1
    no_traceback(done)


def test_write_never_validates_snapshots(tmp_path: Path) -> None:
    snaps = crafted_snapshots(tmp_path, build(tmp_path))
    tmp = tmp_path / "a" / "b"
    tmp.mkdir(parents=True)
    done = preflight("fix", *facts_args(snaps), "--no-diff", "--write", tmpdir=tmp)
    assert f"{ESCAPE} (SSH001): changed" in done.stdout
    assert not (tmp_path / "a" / "escaped").exists()
    assert list(tmp.iterdir()) == [] and "cannot validate" not in done.stdout
    assert "judged from a facts file" in done.stdout and done.returncode == 1
    no_traceback(done)


# --- case 3: in-place writes stay in the image root and replace, never write through ------------------------

def test_check_unchanged_never_blocks_on_a_fifo(tmp_path: Path) -> None:
    root = tmp_path / "img"
    (root / "etc").mkdir(parents=True)
    fifo = root / "etc/hosts"
    os.mkfifo(fifo)
    got: list[str | None] = []
    worker = threading.Thread(target=lambda: got.append(
        check_unchanged(Target("source", "image", str(root), str(root)),
                        FileChange("source", "/etc/hosts", "x\n", "y\n", []))))
    worker.start()
    worker.join(10)
    if worker.is_alive():  # unblock the reader so the test ends, then fail
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(10)
        pytest.fail("check_unchanged blocked on a FIFO")
    assert got and got[0] is not None and "regular file" in got[0] and "/etc/hosts" in got[0]


def test_symlink_loop_in_image_root_is_one_clear_message(tmp_path: Path) -> None:
    root = tmp_path / "img"
    (root / "etc").mkdir(parents=True)
    (root / "etc/ssh").symlink_to("/etc/ssh")  # the host's /etc/ssh -> itself
    target = Target("destination", "image", str(root), str(root))
    change = FileChange("destination", "/etc/ssh/sshd_config", "Port 22\n", "Port 2222\n", [])
    why = check_unchanged(target, change)
    assert why is not None and "/etc/ssh/sshd_config" in why and "symbolic links" in why
    with pytest.raises(WriteError) as exc:
        write_all([(target, change)])
    assert str(exc.value).startswith("/etc/ssh/sshd_config: ") and "nothing was changed" in str(exc.value)


def test_image_symlinks_resolve_inside_the_root(tmp_path: Path, local_host: Any) -> None:
    root, outside = tmp_path / "img", tmp_path / "outside"
    (root / "etc").mkdir(parents=True)
    (root / "outside").mkdir()
    outside.mkdir()
    (outside / "hosts").write_text("old\n")
    (root / "outside/hosts").write_text("old\n")
    (root / "etc/hosts").symlink_to("../../../../outside/hosts")  # climbs past the root: stops at it
    write_all([(Target("source", "image", str(root), str(root)),
                FileChange("source", "/etc/hosts", "old\n", "new\n", []))], stamp="1")
    assert local_host.file(str(outside / "hosts")).content_string == "old\n"
    assert local_host.file(str(root / "outside/hosts")).content_string == "new\n"
    assert local_host.file(str(root / "etc/hosts")).is_symlink


def test_local_symlink_is_replaced_not_written_through(tmp_path: Path, local_host: Any) -> None:
    real, link = tmp_path / "real", tmp_path / "link"
    real.write_text("old\n")
    link.symlink_to(real)
    lines = write_all([(Target("source", "local", "local"), FileChange("source", str(link), "old\n", "new\n", []))],
                      stamp="1")
    assert local_host.file(str(real)).content_string == "old\n"
    fixed = local_host.file(str(link))
    assert fixed.is_file and not fixed.is_symlink and fixed.content_string == "new\n"
    backup = tmp_path / "link.preflight-1"
    assert local_host.file(str(backup)).linked_to == str(real)  # the link itself, for a rollback
    assert str(backup) in lines[0]


# --- case 4: bytes outside the edited lines kept, whatever their encoding ----------------------------------

def test_edit_text_keeps_undecodable_bytes() -> None:
    raw = b"# caf\xe9 \xef\xbf\xbd \xee\x80\x80\n127.0.0.1 localhost na\xefve\n10.0.0.1 old\n"
    text = raw.decode("utf-8", "surrogateescape")

    def edit(aug: augeas.Augeas, root: str) -> None:
        aug.set(f"{root}/2/ipaddr", "10.0.0.2")

    new = edit_text("Hosts.lns", text, "/etc/hosts", edit).encode("utf-8", "surrogateescape")
    assert new == raw.replace(b"10.0.0.1 old", b"10.0.0.2 old")


def test_write_refusal_for_bytes_read_as_replacement_characters_says_why(tmp_path: Path) -> None:
    # Facts gathered by a reader that replaced undecodable bytes (U+FFFD) cannot be written back.
    f = tmp_path / "hosts"
    f.write_bytes(b"# r\xe9seau\n127.0.0.1 localhost\n")
    old = f.read_bytes().decode("utf-8", "replace")
    why = check_unchanged(Target("source", "local", "local"), FileChange("source", str(f), old, old + "x\n", []))
    assert why is not None and str(f) in why and "U+FFFD" in why and "not valid UTF-8" in why


def latin1_pair(tmp_path: Path) -> tuple[dict[str, Path], dict[str, bytes]]:
    roots = build(tmp_path)
    originals = {
        "source/etc/hosts": b"127.0.0.1\tlocalhost host2.example.com caf\xe9\n# r\xe9seau\n"
                            b"10.0.0.10\thost1.example.com host1\n",
        "destination/etc/ssh/sshd_config": b"# Latin-1: na\xefve caf\xe9\nMaxStartups 5:30:100 # d\xe9faut\n"
                                           b"Port 22\n",
        "destination/etc/libvirt/libvirtd.conf": b"# Latin-1: caf\xe9\nmax_clients = 5 # d\xe9faut\n"
                                                 b"#max_workers = 20\n",
    }
    for rel, data in originals.items():
        (tmp_path / "img" / rel).write_bytes(data)
    return roots, originals


EXPECTED = {
    "source/etc/hosts": b"127.0.0.1\tlocalhost caf\xe9\n# r\xe9seau\n10.0.0.10\thost1.example.com host1\n"
                        b"10.0.0.20\thost2.example.com\n",
    "destination/etc/ssh/sshd_config": b"# Latin-1: na\xefve caf\xe9\nMaxStartups 14:30:100 # d\xe9faut\nPort 22\n",
    "destination/etc/libvirt/libvirtd.conf": b"# Latin-1: caf\xe9\nmax_clients = %d # d\xe9faut\n#max_workers = 20\n"
                                             b"max_workers = %d\n" % ((recommended_max_clients(12, 0),) * 2),
}


def test_output_dir_keeps_latin1_bytes(tmp_path: Path) -> None:
    roots, _ = latin1_pair(tmp_path)
    out = tmp_path / "out"
    done = preflight("fix", *fix_args(roots), "--output-dir", str(out))
    no_traceback(done)
    assert "caf\\xe9" in done.stdout  # the diff shows the byte, escaped, never raw
    got = files_under(out)
    for rel, data in EXPECTED.items():
        assert got.get(rel) == data, (rel, done.stdout)


@needs_root
def test_write_keeps_latin1_bytes(tmp_path: Path) -> None:
    roots, _ = latin1_pair(tmp_path)
    done = preflight("fix", *fix_args(roots), "--no-diff", "--write")
    no_traceback(done)
    for rel, data in EXPECTED.items():
        assert (tmp_path / "img" / rel).read_bytes() == data, (rel, done.stdout)


# --- case 5: a rollback leaves no backup behind, and every message names its file ---------------------------

@needs_root
def test_rollback_on_a_bind_mounted_hosts_file_removes_backups(tmp_path: Path) -> None:
    roots = build(tmp_path)
    (roots["destination"] / "etc/ssh/sshd_config").write_text("MaxStartups 5:30:100\n")
    hosts = roots["source"] / "etc/hosts"
    hosts.write_text("127.0.0.1\tlocalhost\n")
    mounted = tmp_path / "mounted-hosts"
    mounted.write_bytes(hosts.read_bytes())
    before = files_under(tmp_path / "img")
    # In a private mount namespace: /etc/hosts of the image is a bind mount, so os.replace gets EBUSY.
    script = (f"mount --bind {mounted} {hosts} && exec {sys.executable} -m preflight.cli fix "
              + " ".join(fix_args(roots)) + " --no-diff --write")
    done = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, cwd=TOP,
                          timeout=120, env={"PATH": "/usr/sbin:/usr/bin:/bin", "NO_COLOR": "1"})
    no_traceback(done)
    line = next(x for x in done.stdout.splitlines() if x.startswith("Not written:"))
    assert f"Not written: {hosts}: " in line and "bind-mounted" in line and line.endswith("nothing was changed")
    assert files_under(tmp_path / "img") == before  # sshd_config put back, no *.preflight-* left
    assert done.returncode == 1


def test_failed_write_names_the_file(tmp_path: Path) -> None:
    # A write that fails with no file name of its own (EFBIG under RLIMIT_FSIZE, like ENOSPC).
    root = tmp_path / "img"
    (root / "etc/ssh").mkdir(parents=True)
    first, second = root / "etc/hosts", root / "etc/ssh/sshd_config"
    first.write_text("127.0.0.1 localhost\n")
    second.write_text("Port 22\n")
    code = f"""
import resource, sys
from preflight.fix.apply import Target, WriteError, write_all
from preflight.fix.model import FileChange
t = Target("destination", "image", {str(root)!r}, {str(root)!r})
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
try:
    write_all([(t, FileChange("destination", "/etc/hosts", "127.0.0.1 localhost\\n", "127.0.0.1 x\\n", [])),
               (t, FileChange("destination", "/etc/ssh/sshd_config", "Port 22\\n", "#" * 10000 + "\\n", []))])
except WriteError as exc:
    print(exc)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=TOP, timeout=60)
    assert done.stdout.startswith(f"{second}: File too large"), done.stdout + done.stderr
    assert done.stdout.rstrip().endswith("nothing was changed")
    assert first.read_text() == "127.0.0.1 localhost\n" and second.read_text() == "Port 22\n"
    assert sorted(p.name for p in root.rglob("*") if p.is_file()) == ["hosts", "sshd_config"]


# --- case 6: extended attributes and ACLs kept, or the output says which were not --------------------------

def acl(mode_user: int, named_uid: int, named: int, mask: int, group: int, other: int) -> bytes:
    """A system.posix_acl_access value: user::, user:UID:, group::, mask::, other::."""
    entries = [(0x01, mode_user, 0xFFFFFFFF), (0x02, named, named_uid), (0x04, group, 0xFFFFFFFF),
               (0x10, mask, 0xFFFFFFFF), (0x20, other, 0xFFFFFFFF)]
    return struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e) for e in entries)


def test_write_keeps_user_xattrs_and_acls(tmp_path: Path, local_host: Any) -> None:
    root = tmp_path / "img"
    (root / "etc").mkdir(parents=True)
    f = root / "etc/hosts"
    f.write_text("127.0.0.1 localhost\n")
    os.setxattr(f, "user.backup-policy", b"keep")
    access = acl(6, 4242, 6, 6, 4, 4)
    os.setxattr(f, "system.posix_acl_access", access)
    lines = write_all([(Target("source", "image", str(root), str(root)),
                        FileChange("source", "/etc/hosts", "127.0.0.1 localhost\n", "127.0.0.1 host\n", []))],
                      stamp="1")
    assert local_host.file(str(f)).content_string == "127.0.0.1 host\n"
    assert os.getxattr(f, "user.backup-policy") == b"keep"
    assert os.getxattr(f, "system.posix_acl_access") == access
    assert local_host.file(str(f)).mode == 0o664  # the ACL mask shows as the group bits
    assert not any("warning" in line for line in lines)


@needs_root
def test_xattr_that_cannot_be_copied_is_reported() -> None:
    # Without CAP_SETFCAP a file capability cannot be set again: the output must say so.
    work = Path(tempfile.mkdtemp(prefix="preflight-xattr-"))  # pytest's tmp_path is closed to other users
    try:
        _unprivileged_write_reports_lost_capability(work)
    finally:
        shutil.rmtree(work)


def _unprivileged_write_reports_lost_capability(work: Path) -> None:
    f = work / "hosts"
    f.write_text("old\n")
    os.setxattr(f, "security.capability", struct.pack("<IIIII", 0x02000000, 1 << 10, 0, 0, 0))
    os.chown(work, 65534, 65534)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: an unprivileged user running fix on its own directory
        os.close(read)
        try:
            os.chdir(work)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            got = write_all([(Target("source", "local", "local"), FileChange("source", "hosts", "old\n", "new\n", []))],
                            stamp="1")
            os.write(write, "\n".join(got).encode())
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            os.write(write, f"ERROR {exc!r}".encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as fh:
        report = fh.read()
    os.waitpid(pid, 0)
    assert f.read_text() == "new\n", report
    warning = [line for line in report.splitlines() if "security.capability" in line]
    assert len(warning) == 1 and "warning" in warning[0] and "hosts" in warning[0], report
    with pytest.raises(OSError) as missing:
        os.getxattr(f, "security.capability")
    assert missing.value.errno == errno.ENODATA


@needs_root
def test_integrity_hash_of_the_old_content_is_not_copied(tmp_path: Path) -> None:
    # security.ima vouches for the old bytes: on the new ones IMA appraisal would refuse the file.
    f = tmp_path / "sshd_config"
    f.write_text("Port 22\n")
    os.setxattr(f, "security.ima", b"\x04" + bytes(20))
    os.setxattr(f, "user.note", b"kept")
    lines = write_all([(Target("destination", "local", "local"),
                        FileChange("destination", str(f), "Port 22\n", "Port 2222\n", []))], stamp="1")
    assert "security.ima" not in os.listxattr(f) and os.getxattr(f, "user.note") == b"kept"
    assert [line for line in lines if "security.ima" in line and str(f) in line and "warning" in line]


def test_crafted_names_in_a_snapshot_are_refused_by_name(tmp_path: Path) -> None:
    # No file can hold a NUL in its name; a snapshot can. Control characters are printed escaped.
    roots = build(tmp_path)
    facts = tmp_path / "facts"
    preflight("check", *fix_args(roots), "--save-facts", str(facts))
    dest = HostSnapshot.load(facts / "destination.json")
    crafted = "/etc/ssh/x\x00y\x1b[32m.conf"
    dest.add(Probe(P.file_key(P.SSHD_CONFIG), "crafted", Availability.OK, text="Include x*\n", rc=0))
    dest.add(Probe(P.file_key(crafted), "crafted", Availability.OK, text="MaxStartups 5:30:100\n", rc=0))
    dest.add(Probe(P.SSHD_FILES, "crafted", Availability.OK, text=f"{P.SSHD_CONFIG}\n{crafted}\n", rc=0))
    dest.save(facts / "destination.json")
    out = tmp_path / "out"
    done = preflight("fix", *facts_args({"source": facts / "source.json", "destination": facts / "destination.json"}),
                     "--no-diff", "--output-dir", str(out))
    assert "/etc/ssh/x\\x00y\\x1b[32m.conf (SSH001): changed" in done.stdout
    assert "\x1b" not in done.stdout and "\x00" not in done.stdout
    refused = [line for line in done.stdout.splitlines() if "NUL byte" in line]
    assert len(refused) == 1 and "destination:/etc/ssh/x\\x00y" in refused[0]
    assert done.returncode == 2 and files_under(out) == {}
    no_traceback(done)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"").replace(b"\x00", b"")), max_size=6))
def test_edit_text_round_trips_any_bytes_in_comments(comments: list[bytes]) -> None:
    # Whatever bytes a comment holds (stand-ins' own code points included), an edit elsewhere keeps them.
    raw = b"".join(b"#" + c + b"\n" for c in comments) + b"10.0.0.1 host\n"
    text = raw.decode("utf-8", "surrogateescape")

    def edit(aug: augeas.Augeas, root: str) -> None:
        aug.set(f"{root}/*[ipaddr]/ipaddr", "10.0.0.2")

    try:
        new = edit_text("Hosts.lns", text, "/etc/hosts", edit)
    except ParseError:
        return  # the lens refuses some comments (e.g. a lone CR); refusing is allowed, changing bytes is not
    assert new.encode("utf-8", "surrogateescape") == raw.replace(b"10.0.0.1 host", b"10.0.0.2 host")


def test_stand_ins_avoid_private_use_characters_already_in_the_text() -> None:
    # The text already uses the whole BMP private-use area: the stand-ins must come from elsewhere.
    private = "".join(chr(c) for c in range(0xE000, 0xF900))
    raw = ("# " + private + "\n").encode() + b"# caf\xe9\n10.0.0.1 host\n"

    def edit(aug: augeas.Augeas, root: str) -> None:
        aug.set(f"{root}/*[ipaddr]/ipaddr", "10.0.0.2")

    new = edit_text("Hosts.lns", raw.decode("utf-8", "surrogateescape"), "/etc/hosts", edit)
    assert new.encode("utf-8", "surrogateescape") == raw.replace(b"10.0.0.1", b"10.0.0.2")


def test_sshd_test_splits_lines_as_sshd_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # sshd ends a line at LF only: a form feed or \x1c inside an Include line must not hide a '..' pattern.
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    for sep in ("\x0c", "\x1c", "\x85", "\u2028"):
        with pytest.raises(UnsafePath, match=r"\.\."):
            sshd_test({P.SSHD_CONFIG: f"Include /etc/ssh/a{sep} /etc/ssh/../../../../etc/passwd\n"})


def test_diff_lines_are_split_at_lf_only() -> None:
    from preflight.fix.render import diff

    change = FileChange("destination", P.SSHD_CONFIG, "# a\u2028b\x0cc\nPort 22\n", "# a\u2028b\x0cc\nPort 2222\n", [])
    assert " # a\u2028b\x0cc\n-Port 22\n+Port 2222\n" in diff(change)


def test_hosts_line_added_in_the_style_of_the_last_entry_despite_odd_separators(tmp_path: Path) -> None:
    # glibc numbers lines at LF only; a form feed in a comment must not shift which entry sets the style.
    roots = build(tmp_path)
    (roots["source"] / "etc/hosts").write_bytes(b"# a\x0cb\x0cc\n10.0.0.10      host1.example.com host1\n")
    out = tmp_path / "out"
    done = preflight("fix", *fix_args(roots), "--no-diff", "--output-dir", str(out))
    no_traceback(done)
    added = (out / "source/etc/hosts").read_bytes().split(b"\n")[2]
    assert added.startswith(b"10.0.0.20      host2.example.com"), added  # aligned like host1's line


def test_dangling_symlink_in_image_root_is_refused_not_created(tmp_path: Path) -> None:
    # image etc/hosts -> /etc/shadow (absent in the image): writing would create the image's etc/shadow
    root = tmp_path / "img"
    (root / "etc").mkdir(parents=True)
    (root / "etc/hosts").symlink_to("/etc/shadow")
    with pytest.raises((WriteError, UnsafePath)):
        write_all([(Target("source", "image", str(root), str(root)),
                    FileChange("source", "/etc/hosts", None, "10.0.0.20 host2\n", []))], stamp="1")
    assert not (root / "etc/shadow").exists()


def test_hostile_hostname_is_never_written_to_etc_hosts() -> None:
    from preflight.fix.hosts import _valid_name

    assert _valid_name("host2.example.com")
    assert not _valid_name("host2\x1b[32m READY\x1b[0m") and not _valid_name("-oProxyCommand=x")
