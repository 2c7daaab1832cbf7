"""sshd_config read as sshd's own tokenizer reads it (issue 12, item 4): one test per case.

Each expectation was checked against the real sshd 9.2 (`sshd -T`), and the
differential test (test_parsers_sshd_differential.py) keeps checking them.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from preflight.parsers.sshd import MAX_INCLUDE_DEPTH, MAX_LINE_VISITS, include_targets, parse_sshd
from preflight.parsers.sshd_tokens import argv_split, split_line

MAIN = "/etc/ssh/sshd_config"
V92 = "OpenSSH_9.2p1"


def value(text: str, keyword: str, files: dict[str, str | None] | None = None) -> str | None:
    cfg = parse_sshd({MAIN: text, **(files or {})}, version=V92)
    assert cfg.errors == [], cfg.errors
    return cfg.value(keyword)


def errors(files: dict[str, str | None], **kwargs: object) -> list[tuple[str, int | None, str]]:
    cfg = parse_sshd(files, version=V92, **kwargs)  # type: ignore[arg-type]
    return [(e.file, e.line, e.message) for e in cfg.errors]


def test_lines_ending_in_cr_are_read_like_sshd() -> None:
    # sshd strips " \t\r\n\f" at the end of a line; a CR is never a line break
    text = "MaxStartups 2:30:2\r\nMaxSessions 3\r\n\r\nPort 2222\r\n"
    assert value(text, "MaxStartups") == "2:30:2"
    assert value(text, "MaxSessions") == "3"
    assert value(text, "Port") == "2222"
    cfg = parse_sshd({MAIN: "MaxSessions 4\rPort 23\n"}, version=V92)
    assert [e.line for e in cfg.errors] == [1]  # one line, "4\rPort 23": refused as sshd refuses it


def test_quotes_and_escapes_as_argv_split() -> None:
    assert argv_split('"a b" c\\ d \'e"f\' g\\"h \\x') == ["a b", "c d", 'e"f', 'g"h', "\\x"]
    assert argv_split('"unclosed') is None
    assert value('AcceptEnv "LANG LC_*" X\n', "AcceptEnv") == "LANG LC_* X"
    assert value('MaxSessions "7"\n', "MaxSessions") == "7"
    assert [m for _, _, m in errors({MAIN: 'AcceptEnv "LANG\n'})] == ["invalid quotes"]


def test_a_word_starting_with_hash_ends_the_line() -> None:
    assert value("MaxSessions 5 #comment here\n", "MaxSessions") == "5"
    assert value("AllowUsers a#b c # d\n", "AllowUsers") == "a#b c"
    assert [m for _, _, m in errors({MAIN: "MaxSessions #5\n"})] == ["maxsessions: missing argument"]


@pytest.mark.parametrize(
    "line", ["MaxSessions=6", "MaxSessions = 6", "MaxSessions =6", "maxsessions\t6", "MAXSESSIONS 6", '"MaxSessions" 6']
)
def test_keyword_forms(line: str) -> None:
    assert split_line(line) is not None
    assert value(line + "\n", "MaxSessions") == "6"


def test_trailing_arguments_sshd_refuses_are_errors_with_file_and_line() -> None:
    got = errors({MAIN: "Port 22\nMaxStartups 2:30:2 extra\n"})
    assert got == [(MAIN, 2, "extra arguments at end of line")]
    assert errors({MAIN: "MaxSessions 2 3\n"})[0][1:] == (1, "extra arguments at end of line")
    assert errors({MAIN: "PerSourceMaxStartups 4 x\n"})[0][1] == 1


def test_values_as_sshd_reads_them() -> None:
    assert value("MaxStartups 10:30:100junk\n", "MaxStartups") == "10:30:100"  # sscanf stops there
    assert value("MaxSessions +5\n", "MaxSessions") == "5"  # strtonum, base 10
    assert value("PerSourceMaxStartups 007\n", "PerSourceMaxStartups") == "7"
    for bad in ("MaxSessions 0x10", "MaxSessions -1", "PerSourceMaxStartups None", "MaxStartups 10:30",
                "Port 0", "Port 65536", "MaxStartups 5:0:10"):  # fmt: skip
        assert len(errors({MAIN: bad + "\n"})) == 1, bad


def test_global_keyword_in_match_all_applies_at_startup() -> None:
    # measured: sshd -T prints maxstartups 5:30:5; only a Match that does not apply refuses it
    assert value("Match all\n  MaxStartups 5\n", "MaxStartups") == "5:30:5"
    assert errors({MAIN: "Match User x\n  MaxStartups 5\n"})[0][1] == 2


def test_quoted_include_pattern_with_a_space_is_one_pattern() -> None:
    text = 'Include "/etc/ssh/my dir/*.conf"\n'
    assert include_targets(text, MAIN) == ["/etc/ssh/my dir/*.conf"]
    files = {"/etc/ssh/my dir/a.conf": "MaxStartups 2\n", "/etc/ssh/my": "MaxStartups 99\n"}
    assert value(text, "MaxStartups", files) == "2:30:2"


def test_include_glob_rules() -> None:
    files: dict[str, str | None] = {
        "/etc/ssh/d/B.conf": "AllowUsers B\n",
        "/etc/ssh/d/a.conf": "AllowUsers a\n",
        "/etc/ssh/d/_.conf": "AllowUsers _\n",
        "/etc/ssh/d/.dot.conf": "AllowUsers dot\n",
        "/etc/ssh/d/sub/x.conf": "AllowUsers sub\n",
        "/etc/ssh/d/[x].conf": "AllowUsers bracket\n",
    }
    # sorted byte-wise (B < _ < a), no match across '/', dotfiles only explicitly
    assert value("Include d/*.conf\n", "AllowUsers", files) == "B bracket _ a"
    assert value("Include d/.*.conf\n", "AllowUsers", files) == "dot"
    assert value("Include d/*/*.conf\n", "AllowUsers", files) == "sub"
    assert value("Include d/[!a-z]*.conf\n", "AllowUsers", files) == "B bracket _"
    assert value("Include d/\\[x].conf\n", "AllowUsers", files) == "bracket"
    assert value("Include d/[[:upper:]].conf\n", "AllowUsers", files) == "B"


def test_include_depth_is_sshds_16() -> None:
    def chain(n: int) -> dict[str, str | None]:
        files: dict[str, str | None] = {MAIN: "Include /etc/ssh/1.conf\n"}
        for i in range(1, n + 1):
            files[f"/etc/ssh/{i}.conf"] = f"Include /etc/ssh/{i + 1}.conf\nAllowUsers u{i}\n"
        return files

    assert errors(chain(MAX_INCLUDE_DEPTH)) == []
    got = errors(chain(MAX_INCLUDE_DEPTH + 1))
    assert got == [(f"/etc/ssh/{MAX_INCLUDE_DEPTH}.conf", 1, "Too many recursive configuration includes")]


def test_three_dropins_including_each_others_directory_stop_at_once() -> None:
    # was > 120 s and 5 GB; sshd stops at once. A child process, so that a hang fails the test.
    code = (
        "from preflight.parsers.sshd import parse_sshd\n"
        "files = {'/etc/ssh/sshd_config': 'Include /etc/ssh/d/*.conf\\n'}\n"
        "for n in 'abc': files[f'/etc/ssh/d/{n}.conf'] = 'Include /etc/ssh/d/*.conf\\nMaxStartups 2\\n'\n"
        "print([e.message for e in parse_sshd(files).errors])\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=20)
    assert run.stdout.strip() == "['Too many recursive configuration includes']", run.stderr


def test_unreadable_dropin_is_an_error_never_the_default() -> None:
    main = "Include /etc/ssh/sshd_config.d/*.conf\n"
    # the gather found it (it is in the Include index) but could not read it
    got = errors({MAIN: main, "/etc/ssh/sshd_config.d/50-limit.conf": None})
    assert len(got) == 1 and got[0][:2] == (MAIN, 1) and "/etc/ssh/sshd_config.d/50-limit.conf" in got[0][2]
    why = {"/etc/ssh/sshd_config.d/50-limit.conf": "Permission denied"}
    got = errors({MAIN: main, "/etc/ssh/sshd_config.d/50-limit.conf": "MaxStartups 2\n"}, unreadable=why)
    assert len(got) == 1 and "Permission denied" in got[0][2]
    assert errors({MAIN: None}) != []


def test_gatherer_notes_are_errors() -> None:
    note = "!/etc/ssh/sshd_config.d/*.conf\tcannot list /etc/ssh/sshd_config.d: Permission denied"
    got = errors({MAIN: "Include /etc/ssh/sshd_config.d/*.conf\n", note: None})
    assert got == [(MAIN, 1, "Include /etc/ssh/sshd_config.d/*.conf: cannot list /etc/ssh/sshd_config.d: "
                    "Permission denied")]  # fmt: skip
    # a note the parse never reached is still reported
    assert len(errors({MAIN: "Port 22\n", "!/x/*.conf\tmore than 256 files: gathering stopped": None})) == 1
    got = errors({MAIN: "Include d/*.conf\n"}, index_error="sshd-files: timed out")
    assert got == [(MAIN, 1, "Include targets were not gathered: sshd-files: timed out")]


def test_nul_byte_is_not_judged() -> None:
    assert len(errors({MAIN: "MaxStartups 2\0\nPort 22\n"})) == 1


@pytest.mark.parametrize("text", ["\f\n", "Port\n", "Match\n", "Match all User x\n", "Match Foo x\n",
                                  "Match User\n", "Include\n", 'Include ""\n'])  # fmt: skip
def test_lines_sshd_refuses(text: str) -> None:
    assert [line for _, line, _ in errors({MAIN: text})] == [1]


@pytest.mark.parametrize("text", ["#x\n", "   \t\r\n", "=\n", '"Port 22\n', "Match all # c\n", "Match User a Host b\n"])
def test_lines_sshd_accepts_or_ignores(text: str) -> None:
    assert errors({MAIN: text}) == []


def test_include_relative_to_the_working_directory_is_not_judged() -> None:
    # sshd globs "~/x" against its working directory, which no gathered fact shows
    assert [line for _, line, _ in errors({MAIN: "Include ~/x\n"})] == [1]


def test_include_cache_loop_that_only_connections_hit() -> None:
    # servconf.c caches a glob's files once read: at startup the second "d/*.conf" replays only a.conf,
    # so sshd -t passes; a connection's re-read replays b.conf too and recurses past depth 16 (measured)
    files: dict[str, str | None] = {
        MAIN: "Include /etc/ssh/d/b.conf\n",
        "/etc/ssh/d/a.conf": "Port 22\n",
        "/etc/ssh/d/b.conf": "Include /etc/ssh/d/*.conf\n",
    }
    got = errors(files)
    assert len(got) == 1 and got[0][2].startswith("Too many recursive configuration includes (when a connection")


def test_include_matching_a_directory_reads_nothing() -> None:
    files: dict[str, str | None] = {"/etc/ssh/d/x.conf/inner": "MaxSessions 9\n", "/etc/ssh/d/a.conf": "Port 2\n"}
    assert value("Include /etc/ssh/d/*.conf\n", "MaxSessions", files) == "10"


@pytest.mark.parametrize(
    ("line", "pattern"),
    [
        ('Inc"lude" /x/*.conf', "/x/*.conf"),
        ("=Include /x/*.conf", "/x/*.conf"),
        ("INCLUDE=/x/*.conf", "/x/*.conf"),
        ('"include"=/x/*.conf', "/etc/ssh/=/x/*.conf"),  # after a quoted keyword '=' is an argument (measured)
    ],
)
def test_include_in_any_form_sshd_accepts_is_found(line: str, pattern: str) -> None:
    assert include_targets(line + "\n", MAIN) == [pattern]


def test_include_expansion_is_bounded() -> None:
    # no loop, so sshd itself would read it (2**15 times the last file): here a bound, then an error
    files: dict[str, str | None] = {MAIN: "Include /x/L1.conf\n"}
    for i in range(1, 17):
        nested = f"Include /x/L{i + 1}.conf /x/L{i + 1}.conf\n" if i < 16 else ""
        files[f"/x/L{i}.conf"] = nested + "MaxSessions 3\n" * 20
    got = errors(files)
    assert len(got) == 1 and got[0][2].startswith(f"Include expansion reads more than {MAX_LINE_VISITS} lines")
