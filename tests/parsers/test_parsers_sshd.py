from __future__ import annotations

import pytest

from preflight.parsers.sshd import (
    ALL,
    FIRST,
    LAST,
    compiled_default,
    has_per_source_max_startups,
    include_targets,
    parse_max_startups,
    parse_openssh_version,
    parse_sshd,
    parse_sshd_T,
    precedence,
)

MAIN = "/etc/ssh/sshd_config"
DROPIN = "/etc/ssh/sshd_config.d"


def test_debian12_stock(fixture_text) -> None:
    text = fixture_text("sshd_config.debian12")
    cfg = parse_sshd({MAIN: text}, version="OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.15")
    assert cfg.errors == [] and cfg.match_blocks == []
    assert cfg.files_read == [MAIN]  # Include sshd_config.d/*.conf matches nothing gathered
    assert cfg.effective("KbdInteractiveAuthentication").value == "no"  # type: ignore[union-attr]
    assert cfg.effective("usepam").value == "yes"  # type: ignore[union-attr]
    assert cfg.effective("AcceptEnv").value == "LANG LC_*"  # type: ignore[union-attr]
    assert cfg.effective("Subsystem").value == "sftp /usr/lib/openssh/sftp-server"  # type: ignore[union-attr]
    assert cfg.effective("MaxStartups") is None
    assert cfg.value("MaxStartups") == "10:30:100" and cfg.default("PermitRootLogin") == "prohibit-password"
    assert cfg.value("PerSourceMaxStartups") == "none"


def test_rhel9_style_include_at_top_with_dropins_and_match_blocks(tree) -> None:
    cfg = parse_sshd(tree("rhel9"), version="OpenSSH_8.7p1")
    assert cfg.errors == []
    assert cfg.files_read == [
        MAIN,
        f"{DROPIN}/01-permitrootlogin.conf",
        f"{DROPIN}/40-migration.conf",
        f"{DROPIN}/50-redhat.conf",
        "/etc/crypto-policies/back-ends/opensshserver.config",
    ]
    root = cfg.effective("PermitRootLogin")
    assert root is not None and (root.value, root.file, root.line) == (
        "yes",
        f"{DROPIN}/01-permitrootlogin.conf",
        3,
    )
    # the drop-in comes first: its value wins for first-wins keywords ...
    assert cfg.effective("PasswordAuthentication").value == "no"  # type: ignore[union-attr]
    # ... but MaxStartups takes the last line up to 9.3: the main file's, read after the drop-ins
    ms = cfg.effective("MaxStartups")
    assert ms is not None and (ms.value, ms.file, ms.line) == ("30:30:100", MAIN, 37)
    assert cfg.effective("MaxSessions").value == "4"  # type: ignore[union-attr]
    assert cfg.effective("Ciphers").value.startswith("aes256-gcm@openssh.com,chacha20")  # type: ignore[union-attr]
    # a Match block in a drop-in ends with its file
    assert [(b.criteria, b.file, b.line) for b in cfg.match_blocks] == [
        ("User admin", f"{DROPIN}/40-migration.conf", 4),
        ("User backup", MAIN, 55),
        ("Address 10.0.0.0/8,192.168.0.0/16", MAIN, 58),
    ]
    assert [(s.keyword, s.value) for s in cfg.match_blocks[1].settings] == [
        ("PermitRootLogin", "no"),
        ("MaxSessions", "1"),
    ]


def test_same_files_with_a_newer_openssh_take_the_first_max_startups(tree) -> None:
    cfg = parse_sshd(tree("rhel9"), version="OpenSSH_10.3p1")
    assert cfg.effective("MaxStartups").value == "100:30:200"  # type: ignore[union-attr]


def test_include_relative_glob_sorted_hidden_and_missing() -> None:
    files: dict[str, str | None] = {
        MAIN: "Include sshd_config.d/*.conf /etc/ssh/extra.conf /etc/ssh/gone.conf\nMaxSessions 9\n",
        f"{DROPIN}/b.conf": "MaxSessions 2\n",
        f"{DROPIN}/a.conf": "# nothing\n",
        f"{DROPIN}/.hidden.conf": "MaxSessions 1\n",
        f"{DROPIN}/10.conf": "MaxSessions 3\n",
        f"{DROPIN}/sub/c.conf": "MaxSessions 4\n",
        "/etc/ssh/extra.conf": "UseDNS yes\n",
    }
    cfg = parse_sshd(files)
    assert cfg.files_read == [
        MAIN,
        f"{DROPIN}/10.conf",
        f"{DROPIN}/a.conf",
        f"{DROPIN}/b.conf",
        "/etc/ssh/extra.conf",
    ]
    ms = cfg.effective("maxsessions")
    assert ms is not None and (ms.value, ms.file) == ("3", f"{DROPIN}/10.conf")
    assert [s.value for s in cfg.values("MaxSessions")] == ["3", "2", "9"]
    assert cfg.errors == []


def test_include_inside_match_applies_inside_the_block() -> None:
    files = {
        MAIN: "PasswordAuthentication no\n"
        "Match User x\n  Include /etc/ssh/m.conf\n"
        "Match all\n  Include /etc/ssh/a.conf\n",
        "/etc/ssh/m.conf": "PermitRootLogin yes\nMatch all\nMaxSessions 2\n",
        "/etc/ssh/a.conf": "PubkeyAuthentication no\nPasswordAuthentication yes\n",
    }
    cfg = parse_sshd(files)
    assert cfg.effective("PermitRootLogin") is None  # only for user x
    # a Match block in a file included from an inactive block never applies (measured)
    assert cfg.effective("MaxSessions") is None
    assert cfg.effective("PubkeyAuthentication").value == "no"  # type: ignore[union-attr]  # Match all applies
    # Match all replaces the global value for every connection, as sshd -T shows
    password = cfg.effective("PasswordAuthentication")
    assert password is not None and (password.value, password.file) == ("yes", "/etc/ssh/a.conf")
    user_x = cfg.match_blocks[0]
    assert user_x.criteria == "User x" and [s.keyword for s in user_x.settings] == [
        "Include",
        "PermitRootLogin",
    ]
    assert cfg.match_blocks[-1].matches_all


def test_include_loop_is_an_error_not_a_crash() -> None:
    cfg = parse_sshd({MAIN: "Include /etc/ssh/sshd_config\nPort 22\n"})
    assert [(e.file, e.line) for e in cfg.errors] == [(MAIN, 1)]
    assert "recursive" in cfg.errors[0].message


def test_include_before_openssh_8_2_is_refused() -> None:
    cfg = parse_sshd({MAIN: "Include /etc/ssh/x.conf\n", "/etc/ssh/x.conf": "Port 2\n"}, version="OpenSSH_8.0p1")
    assert [(e.line, "8.2" in e.message) for e in cfg.errors] == [(1, True)]
    assert cfg.effective("Port") is None


def test_malformed_file_reported_with_line_and_others_still_read() -> None:
    files = {
        MAIN: "Include /etc/ssh/d/*.conf\nPort 2222\n",
        "/etc/ssh/d/1.conf": "MaxSessions 5\nPermitRootLogin\nUseDNS yes\n",
        "/etc/ssh/d/2.conf": "UseDNS no\n",
    }
    cfg = parse_sshd(files)
    assert [(e.file, e.line) for e in cfg.errors] == [("/etc/ssh/d/1.conf", 2)]
    # only the bad line is refused: the rest of its file is read, as sshd does
    assert cfg.effective("UseDNS").value == "yes"  # type: ignore[union-attr]
    assert cfg.effective("Port").value == "2222"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("MaxStartups 10:30\n", 1, "invalid MaxStartups"),
        ("MaxStartups 0\n", 1, "invalid MaxStartups"),
        ("MaxStartups 20:30:10\n", 1, "invalid MaxStartups"),
        ("Port 22\nMatch User x\n  MaxStartups 3\n", 3, "not allowed within a Match block"),
        ("Match User x\n  Port 22\n", 2, "not allowed within a Match block"),
    ],
)
def test_what_sshd_refuses(text: str, line: int, message: str) -> None:
    cfg = parse_sshd({MAIN: text})
    assert [e.line for e in cfg.errors] == [line] and message in cfg.errors[0].message


def test_missing_main_file() -> None:
    cfg = parse_sshd({})
    assert cfg.files_read == [] and cfg.errors == [] and cfg.effective("Port") is None


def test_keywords_are_case_insensitive_and_comments_stripped() -> None:
    cfg = parse_sshd({MAIN: "maxsessions 7 # seven\n  MAXSESSIONS 9\nAllowUsers a b # c\nMaxStartups=5\n"})
    assert cfg.effective("MaxSessions").value == "7"  # type: ignore[union-attr]
    assert cfg.effective("allowusers").value == "a b"  # type: ignore[union-attr]
    assert cfg.effective("MaxStartups").value == "5:30:5"  # type: ignore[union-attr]


def test_max_startups_lone_number_keeps_earlier_rate_until_9_3() -> None:
    text = "MaxStartups 10:50:20\nMaxStartups 5\n"
    assert parse_sshd({MAIN: text}, version="9.2p1").effective("MaxStartups").value == "5:50:5"  # type: ignore[union-attr]
    assert parse_sshd({MAIN: text}, version="10.3p1").effective("MaxStartups").value == "10:50:20"  # type: ignore[union-attr]


def test_accumulating_keywords() -> None:
    text = "Port 22\nPort 2222\nListenAddress 127.0.0.1\nListenAddress ::1\nAllowUsers a\nAllowUsers b c\n"
    cfg = parse_sshd({MAIN: text})
    assert cfg.value("Port") == "22 2222"
    assert cfg.value("ListenAddress") == "127.0.0.1 ::1"
    assert cfg.value("AllowUsers") == "a b c"
    assert cfg.effective("Port").line == 1  # type: ignore[union-attr]


def test_include_targets() -> None:
    text = "Include sshd_config.d/*.conf\nMatch all\n  Include /opt/a.conf b.conf\n"
    assert include_targets(text, MAIN) == ["/etc/ssh/sshd_config.d/*.conf", "/opt/a.conf", "/etc/ssh/b.conf"]
    assert include_targets("", MAIN) == []


def test_parse_sshd_T() -> None:
    out = "port 22\nport 2222\nlistenaddress [::]:22\nmaxstartups 10:30:100\nbanner none\nx\n"
    assert parse_sshd_T(out) == {
        "port": ["22", "2222"],
        "listenaddress": ["[::]:22"],
        "maxstartups": ["10:30:100"],
        "banner": ["none"],
        "x": [""],
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [("10:30:100", (10, 30, 100)), ("10", (10, 30, 10)), ("1:100:1", (1, 100, 1)), ("7:", (7, 30, 7))],
)
def test_parse_max_startups(value: str, expected: tuple[int, int, int]) -> None:
    assert parse_max_startups(value) == expected


@pytest.mark.parametrize("value", ["", "abc", "10:30", "0", "10:0:100", "10:101:100", "20:30:10"])
def test_parse_max_startups_rejects(value: str) -> None:
    with pytest.raises(ValueError):
        parse_max_startups(value)


def test_versions_and_defaults() -> None:
    assert parse_openssh_version("OpenSSH_7.4p1, OpenSSL 1.0.2k-fips  26 Jan 2017") == (7, 4)
    assert parse_openssh_version("garbage") is None and parse_openssh_version(None) is None
    assert [has_per_source_max_startups(v) for v in ("OpenSSH_8.4p1", "OpenSSH_8.5p1", "9.2p1", None)] == [
        False,
        True,
        True,
        False,
    ]
    for version in ("OpenSSH_7.4p1", "OpenSSH_8.0p1", "OpenSSH_8.7p1", "OpenSSH_9.2p1"):
        assert compiled_default("MaxStartups", version) == "10:30:100"
        assert compiled_default("MaxSessions", version) == "10"
    assert compiled_default("PerSourceMaxStartups", "OpenSSH_8.0p1") is None
    assert compiled_default("PerSourceMaxStartups", "OpenSSH_8.7p1") == "none"
    assert compiled_default("NoSuchKeyword") is None


def test_precedence_table() -> None:
    assert precedence("MaxStartups", "OpenSSH_9.2p1").kind == LAST
    assert precedence("MaxStartups", "OpenSSH_9.2p1").basis == "measured"
    assert precedence("maxstartups", "OpenSSH_7.4p1") == precedence("MaxStartups", "OpenSSH_8.7p1")
    assert precedence("MaxStartups", "OpenSSH_8.0p1").basis == "source"
    assert precedence("MaxStartups", "OpenSSH_10.3p1").kind == FIRST
    assert precedence("PerSourceMaxStartups", "OpenSSH_9.2p1").kind == LAST
    assert precedence("MaxSessions", "OpenSSH_9.2p1").kind == FIRST
    assert precedence("MaxSessions", "OpenSSH_8.0p1").basis == "assumed"
    assert precedence("Port", None).kind == ALL
