"""Gathering what sshd_config Includes (issue 12, items 4 and 5): each file once, bounded, never a hang;
what could not be expanded is a note that the parser turns into an error. The image gatherer (Python,
walk_includes) and the script's shell mirror (gather.sh sshd_includes) are run on the same real trees.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from preflight.gather.image import gather_image, sshd_include_files
from preflight.model.facts import HostMode, HostSnapshot
from preflight.parsers.sshd import MAX_GATHERED_FILES, NOTE, parse_sshd, walk_includes
from preflight.view import HostView

GATHER_SH = Path(__file__).parents[2] / "preflight/gather/gather.sh"


def _tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def _shell(main: Path, work: Path, as_nobody: bool = False) -> list[str]:
    """gather.sh's sshd_includes on the real disk (absolute paths), under dash: files, then notes."""
    script = GATHER_SH.read_text()
    functions = script[script.index("# sshd_include_patterns FILE") : script.index("sshd_files() {")]
    body = (
        f'W={work}\nLC_ALL=C\nexport LC_ALL\ntmo() {{ "$@"; }}\n{functions}\n'
        'printf "%s\\n" "$1" >"$W/sshd-seen"\n: >"$W/sshd-notes"\nsshd_includes "$1" 0\ncat "$W/sshd-notes"\n'
    )
    shell = shutil.which("dash") or "sh"
    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if as_nobody else []
    run = subprocess.run([*prefix, shell, "-c", body, "t", str(main)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stderr == "", run.stderr
    return run.stdout.splitlines()


def _files(entries: list[str]) -> list[str]:
    return [e for e in entries if not e.startswith(NOTE)]


def _notes(entries: list[str]) -> list[str]:
    return [e for e in entries if e.startswith(NOTE)]


def test_three_dropins_including_each_others_directory(tmp_path: Path) -> None:
    root = tmp_path / "root"
    d = root / "etc/ssh/d"
    _tree(root, {"etc/ssh/sshd_config": f"Include {d}/*.conf\n"})
    _tree(root, {f"etc/ssh/d/{n}.conf": f"Include {d}/*.conf\nMaxStartups 2\n" for n in "abc"})
    t0 = time.monotonic()
    shell = _shell(root / "etc/ssh/sshd_config", tmp_path)
    assert shell == [f"{d}/a.conf", f"{d}/b.conf", f"{d}/c.conf"]  # each read once, no note needed
    image = sshd_include_files("/", str(root / "etc/ssh/sshd_config"))
    assert image == shell
    assert time.monotonic() - t0 < 30
    files = {p: Path(p).read_text() for p in [str(root / "etc/ssh/sshd_config"), *shell]}
    cfg = parse_sshd(files, main=str(root / "etc/ssh/sshd_config"))
    assert [e.message for e in cfg.errors] == ["Too many recursive configuration includes"]


def test_quoted_pattern_with_a_space(tmp_path: Path) -> None:
    d = tmp_path / "my dir"
    _tree(tmp_path, {"sshd_config": f'Include "{d}/*.conf"\n', "my dir/a.conf": "MaxStartups 2\n", "my": "x\n"})
    expected = [f"{d}/a.conf"]
    assert _shell(tmp_path / "sshd_config", tmp_path) == expected
    assert sshd_include_files("/", str(tmp_path / "sshd_config")) == expected


def test_depth_past_16_is_a_note(tmp_path: Path) -> None:
    files = {"0.conf": f"Include {tmp_path}/1.conf\n"}
    files.update({f"{i}.conf": f"Include {tmp_path}/{i + 1}.conf\n" for i in range(1, 18)})
    _tree(tmp_path, files)
    shell = _shell(tmp_path / "0.conf", tmp_path)
    assert _files(shell) == [f"{tmp_path}/{i}.conf" for i in range(1, 17)]
    assert _notes(shell) == [f"!{tmp_path}/17.conf\tToo many recursive configuration includes"]
    assert sshd_include_files("/", str(tmp_path / "0.conf")) == shell


def test_file_cap_is_a_note(tmp_path: Path) -> None:
    _tree(tmp_path, {"main": f"Include {tmp_path}/d/*.conf\n"})
    _tree(tmp_path, {f"d/{i:03}.conf": "Port 22\n" for i in range(MAX_GATHERED_FILES + 10)})
    shell = _shell(tmp_path / "main", tmp_path)
    assert len(_files(shell)) == MAX_GATHERED_FILES - 1  # the main file counts
    assert _notes(shell) == [f"!{tmp_path}/d/*.conf\tmore than {MAX_GATHERED_FILES} files: gathering stopped"]
    assert sshd_include_files("/", str(tmp_path / "main")) == shell


def test_non_regular_match_is_a_note(tmp_path: Path) -> None:
    _tree(tmp_path, {"main": f"Include {tmp_path}/d/*.conf\n", "d/a.conf": "Port 2\n"})
    os.mkfifo(tmp_path / "d/fifo.conf")  # would block a plain read forever
    (tmp_path / "d/dir.conf").mkdir()
    shell = _shell(tmp_path / "main", tmp_path)
    # a directory reads as empty to sshd (measured): skipped; a FIFO would hang it: a note
    assert shell == [f"{tmp_path}/d/a.conf", f"!{tmp_path}/d/*.conf\tnot a regular file: {tmp_path}/d/fifo.conf"]
    assert sshd_include_files("/", str(tmp_path / "main")) == shell


def test_unlistable_directory_is_a_note_then_an_error() -> None:
    """A directory the gatherer may not list (a non-root gather, a root-only sshd_config.d)."""
    texts = {"/etc/ssh/sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\nMaxStartups 100:30:200\n"}

    def listdir(directory: str) -> list[str] | None:
        if directory == "/etc/ssh/sshd_config.d":
            raise PermissionError(13, "Permission denied")
        return ["sshd_config", "sshd_config.d"] if directory == "/etc/ssh" else None

    entries = walk_includes("/etc/ssh/sshd_config", texts.__getitem__, listdir, lambda p: "file")
    assert entries == ["!/etc/ssh/sshd_config.d/*.conf\tcannot list /etc/ssh/sshd_config.d: Permission denied"]
    cfg = parse_sshd({**texts, **dict.fromkeys(entries)})
    assert [(e.line, "Permission denied" in e.message) for e in cfg.errors] == [(1, True)]


def test_shell_mirror_agrees_with_the_parser_module(tmp_path: Path) -> None:
    root = tmp_path / "root"
    base = f"{root}/etc/ssh"
    _tree(root, {
        "etc/ssh/sshd_config": f"Port 22\nInclude {base}/sshd_config.d/*.conf\n"
        f'Match User x\n  Include "{base}/m d.conf"\n',
        "etc/ssh/sshd_config.d/50-b.conf": f"include={base}/nested/[a-z]*.conf\n",
        "etc/ssh/sshd_config.d/10-a.conf": f"Include {base}/sshd_config.d/50-b.conf # again\r\n",
        "etc/ssh/sshd_config.d/.hidden.conf": "MaxSessions 1\n",
        "etc/ssh/nested/deep.conf": "MaxSessions 1\n",
        "etc/ssh/nested/Upper.conf": "MaxSessions 1\n",
        "etc/ssh/m d.conf": "PermitRootLogin no\n",
    })  # fmt: skip
    shell = _shell(root / "etc/ssh/sshd_config", tmp_path)
    assert shell == [
        f"{base}/sshd_config.d/10-a.conf",
        f"{base}/sshd_config.d/50-b.conf",
        f"{base}/nested/deep.conf",
        f"{base}/m d.conf",
    ]
    assert sshd_include_files("/", f"{base}/sshd_config") == shell


def test_image_mode_unreadable_dropin_is_unknown_not_the_default(tmp_path: Path) -> None:
    """End to end: an image whose drop-in with MaxStartups 2 cannot be read (here a FIFO)."""
    _tree(tmp_path, {"etc/ssh/sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\n", "etc/ssh/sshd_config.d/a": ""})
    os.mkfifo(tmp_path / "etc/ssh/sshd_config.d/50-limit.conf")
    probes = gather_image(str(tmp_path))
    snap = HostSnapshot(role="destination", spec=str(tmp_path), mode=HostMode.IMAGE, probes=probes)
    cfg = HostView(snap).sshd_config
    assert cfg.ok
    errors = [e.message for e in cfg.get().errors]
    assert len(errors) == 1 and "/etc/ssh/sshd_config.d/50-limit.conf" in errors[0]
    assert re.search(r"not a regular file|is a FIFO|cannot be read", errors[0])


def test_every_include_form_sshd_accepts_is_followed(tmp_path: Path) -> None:
    lines = [f'Inc"lude" {tmp_path}/x.conf', f"=Include {tmp_path}/y.conf", f"INCLUDE={tmp_path}/z.conf\r",
             f"  include\t'{tmp_path}/w w.conf' # c", f"Include {tmp_path}/v.conf#not-a-comment"]  # fmt: skip
    _tree(tmp_path, {"main": "\n".join(lines) + "\n", "x.conf": "", "y.conf": "", "z.conf": "", "w w.conf": ""})
    _tree(tmp_path, {"v.conf#not-a-comment": ""})
    expected = [f"{tmp_path}/{n}" for n in ("x.conf", "y.conf", "z.conf", "w w.conf", "v.conf#not-a-comment")]
    assert _shell(tmp_path / "main", tmp_path) == expected
    assert sshd_include_files("/", str(tmp_path / "main")) == expected


def test_shell_mirror_notes_a_directory_it_cannot_list() -> None:
    """A gather as a non-root user, a root-only sshd_config.d: a note, so the parser says unknown."""
    with tempfile.TemporaryDirectory(dir="/tmp") as name:  # pytest's tmp_path is root-only
        top = Path(name)
        top.chmod(0o755)
        work = top / "w"
        work.mkdir()
        work.chmod(0o777)
        _tree(top, {"main": f"Include {top}/d/*.conf\n", "d/50-limit.conf": "MaxStartups 2\n"})
        (top / "main").chmod(0o644)
        (top / "d").chmod(0o700)
        shell = _shell(top / "main", work, as_nobody=True)
        assert shell == [f"!{top}/d/*.conf\tcannot list {top}/d: Permission denied"]
        cfg = parse_sshd(
            {str(top / "main"): (top / "main").read_text(), **dict.fromkeys(shell)}, main=str(top / "main")
        )
        assert [(e.line, "Permission denied" in e.message) for e in cfg.errors] == [(1, True)]


def test_nul_byte_in_an_include_line_is_not_a_path(tmp_path: Path) -> None:
    _tree(tmp_path, {"main": f"Include {tmp_path}/d\0x/*.conf\n"})
    assert sshd_include_files("/", str(tmp_path / "main")) == []  # no ValueError from the OS calls
    cfg = parse_sshd({str(tmp_path / "main"): (tmp_path / "main").read_text()}, main=str(tmp_path / "main"))
    assert [e.message for e in cfg.errors] == ["a NUL byte in the file: not judged"]
