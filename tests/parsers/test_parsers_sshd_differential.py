"""parse_sshd() against the real sshd: generated configs, compared with `sshd -T`.

Each case writes a main file, drop-ins included by absolute temp paths and
Match blocks, runs `sshd -T -f MAIN -h KEY`, and checks that the parser's
effective value (or compiled default) equals what sshd prints, for every
keyword below. Needs root (sshd -T does) and /usr/sbin/sshd.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from preflight.parsers.sshd import parse_sshd, parse_sshd_T
from tests.support.skips import skip_or_fail

pytestmark = pytest.mark.sshd

SSHD = "/usr/sbin/sshd"
CASES = 80

GLOBAL_VALUES = {
    "MaxStartups": ["10:30:100", "50:30:100", "7", "1", "1:100:1", "100:50:200", "3:10:9"],
    "PerSourceMaxStartups": ["none", "1", "5", "20"],
    "LoginGraceTime": ["0", "10", "120", "1m", "90s"],
    "UseDNS": ["yes", "no"],
    "Port": ["22", "2222", "830"],
    "ListenAddress": ["127.0.0.1", "::1", "0.0.0.0", "127.0.0.2:2200"],
}
MATCH_VALUES = {  # also allowed inside Match blocks
    "MaxSessions": ["0", "1", "2", "10", "64"],
    "PermitRootLogin": ["yes", "no", "prohibit-password", "forced-commands-only", "without-password"],
    "PasswordAuthentication": ["yes", "no"],
    "PubkeyAuthentication": ["yes", "no"],
    "AllowUsers": ["root", "root admin", "*", "migr@10.0.0.*"],
    "ClientAliveInterval": ["0", "15", "300"],
}
ALL_VALUES = {**GLOBAL_VALUES, **MATCH_VALUES}
KEYWORDS = sorted(ALL_VALUES)
MATCH_CRITERIA = ["User nobody", "Address 192.0.2.0/24", "all", "Group wheel", "User root Address 10.1.2.3"]


def _unavailable() -> str | None:
    if not Path(SSHD).exists():
        return f"{SSHD} is not installed"
    if os.geteuid() != 0:
        return "sshd -T needs root"
    if shutil.which("ssh-keygen") is None:
        return "ssh-keygen is not installed"
    return None


@pytest.fixture(scope="module")
def host_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    reason = _unavailable()
    if reason:
        skip_or_fail(reason)
    # sshd refuses to start (-T too) without its privilege separation directory
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    key = tmp_path_factory.mktemp("sshd-key") / "host_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, stdin=subprocess.DEVNULL
    )
    return key


def sshd_T(main: Path, key: Path) -> dict[str, list[str]]:  # noqa: N802
    run = subprocess.run([SSHD, "-T", "-f", str(main), "-h", str(key)], capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, f"sshd rejected the generated config:\n{run.stderr}\n{main.read_text()}"
    return parse_sshd_T(run.stdout)


# --- normalising both sides to what sshd -T prints -------------------------------


def _seconds(value: str) -> str:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    if value[-1:].lower() in units:
        return str(int(value[:-1]) * units[value[-1].lower()])
    return value


def _host(address: str) -> str:
    if address.startswith("["):
        return address[1 : address.index("]")]
    if address.count(":") == 1:  # IPv4 with port
        return address.split(":")[0]
    return address


def expected(keyword: str, value: str | None) -> list[str]:
    key = keyword.lower()
    if value is None:  # no compiled default: sshd -T prints nothing (AllowUsers)
        return []
    if key in ("port", "allowusers"):
        return value.split()
    if key == "listenaddress":
        return sorted({_host(a) for a in value.split()})
    if key == "permitrootlogin" and value == "prohibit-password":
        return ["without-password"]
    if key in ("logingracetime", "clientaliveinterval"):
        return [_seconds(value)]
    return [value]


def printed(keyword: str, printed_values: list[str]) -> list[str]:
    if keyword.lower() == "listenaddress":
        return sorted({_host(a) for a in printed_values})
    return printed_values


def compare(files: dict[str, str | None], main: Path, key: Path) -> None:
    cfg = parse_sshd(files, main=str(main), version="OpenSSH_9.2p1")
    assert cfg.errors == []
    real = sshd_T(main, key)
    for keyword in KEYWORDS:
        ours = expected(keyword, cfg.value(keyword))
        theirs = printed(keyword, real.get(keyword.lower(), []))
        assert ours == theirs, f"{keyword}: parser {ours} != sshd -T {theirs}\n{_dump(files)}"


def _dump(files: dict[str, str | None]) -> str:
    return "\n".join(f"--- {path}\n{text}" for path, text in files.items())


# --- generated configurations ----------------------------------------------------


def _line(rng: random.Random, keyword: str, pool: dict[str, list[str]]) -> str:
    spelled = rng.choice([keyword, keyword.lower(), keyword.upper()])
    sep = rng.choice([" ", "\t", "=", " = "])
    comment = rng.choice(["", "", "", "  # note"])
    indent = rng.choice(["", "", "  "])
    return f"{indent}{spelled}{sep}{rng.choice(pool[keyword])}{comment}"


def _lines(rng: random.Random, pool: dict[str, list[str]], most: int) -> list[str]:
    # few keywords, so that duplicates are common
    keywords = rng.sample(sorted(pool), k=min(len(pool), 4))
    return [_line(rng, rng.choice(keywords), pool) for _ in range(rng.randint(0, most))]


def _match_block(rng: random.Random, include: str | None = None) -> list[str]:
    body = ["  " + line.strip() for line in _lines(rng, MATCH_VALUES, 3)]
    if include:
        body.insert(rng.randint(0, len(body)), f"  Include {include}")
    return [f"Match {rng.choice(MATCH_CRITERIA)}", *body]


def generate(rng: random.Random, root: Path) -> tuple[dict[str, str | None], Path]:
    dropins = root / "conf.d"
    dropins.mkdir()
    files: dict[str, str | None] = {}

    def write(path: Path, lines: list[str]) -> None:
        text = "\n".join(lines) + ("\n" if lines else "")
        path.write_text(text)
        files[str(path)] = text

    for name in rng.sample(["05-first.conf", "50-vendor.conf", "99-local.conf", "7.conf", ".hidden.conf"], k=3):
        lines = _lines(rng, ALL_VALUES if rng.random() < 0.5 else GLOBAL_VALUES, 4)
        if rng.random() < 0.4:
            lines += _match_block(rng)  # ends with its file
        write(dropins / name, lines)
    (dropins / "ignored.conf.bak").write_text("MaxSessions 99\n")  # the glob does not reach it
    files[str(dropins / "ignored.conf.bak")] = "MaxSessions 99\n"
    in_match = root / "in-match.conf"
    write(in_match, _lines(rng, MATCH_VALUES, 3))

    main_lines = _lines(rng, ALL_VALUES, 6)
    include = rng.choice([f"{dropins}/*.conf", f"{dropins}/5*.conf {dropins}/7.conf", f"{dropins}/[0-9]*.conf"])
    main_lines.insert(rng.randint(0, len(main_lines)), f"Include {include}")
    for _ in range(rng.randint(0, 2)):
        main_lines += _match_block(rng, str(in_match) if rng.random() < 0.5 else None)
    main = root / "sshd_config"
    write(main, main_lines)
    return files, main


@pytest.mark.parametrize("seed", range(CASES))
def test_generated_config_matches_sshd_T(seed: int, host_key: Path, tmp_path: Path) -> None:
    files, main = generate(random.Random(seed), tmp_path)
    compare(files, main, host_key)


def test_rhel9_fixture_matches_sshd_T(host_key: Path, tmp_path: Path, tree) -> None:
    files: dict[str, str | None] = {}
    for path, text in tree("rhel9").items():
        assert text is not None
        moved = tmp_path / path.lstrip("/")
        text = text.replace("/etc/", f"{tmp_path}/etc/")
        moved.parent.mkdir(parents=True, exist_ok=True)
        moved.write_text(text)
        files[str(moved)] = text
    compare(files, tmp_path / "etc/ssh/sshd_config", host_key)


def test_debian12_stock_matches_sshd_T(host_key: Path, tmp_path: Path, fixture_text) -> None:
    text = fixture_text("sshd_config.debian12").replace("/etc/ssh/sshd_config.d", f"{tmp_path}/d")
    (tmp_path / "d").mkdir()
    main = tmp_path / "sshd_config"
    main.write_text(text)
    compare({str(main): text}, main, host_key)


# --- sshd's tokenizer, Include trees and refusals: >= 1000 generated configs (issue 12, item 8) -------------
#
# Each config is a small tree in a temp dir (absolute Include paths only: a relative one would read this
# machine's /etc/ssh): quotes, CRLF, '=' forms, trailing garbage, comments, Match blocks, Include globs
# (sorted, dotfiles, quoted patterns with a space, loops, chains past depth 16), MaxStartups /
# PerSourceMaxStartups / MaxSessions / Port values valid and invalid. `sshd -t` decides accepted or
# refused, and for accepted ones `sshd -T` gives the four values; the parser must agree on every one.
# Not generated (documented limits of the parser): keywords sshd does not know (distributions add their
# own, so the parser does not judge them), Port service names (the host's /etc/services decides), Match
# Address / LocalPort arguments sshd validates, and "Include ~..." (relative to sshd's working directory).

DIFF_CONFIGS = int(os.environ.get("PREFLIGHT_SSHD_DIFF_CONFIGS", "1000"))
DIFF_KEYWORDS = ("MaxStartups", "PerSourceMaxStartups", "MaxSessions", "Port")
DIFF_VALUES = {  # what sshd accepts, in some of the forms its tokenizer allows
    "MaxStartups": [
        "10:30:100",
        "7",
        "1",
        "50:30:100",
        "3:10:9",
        "1:100:1",
        "10:30:100junk",
        "+7",
        "4294967306",
        '" 5"',
        "'2:30:2'",
        "\\'3\\'",
    ],
    "PerSourceMaxStartups": ["none", "1", "5", "007", "2147483647", "+4"],
    "MaxSessions": ["0", "2", "10", "64", "007", '"3"'],
    "Port": ["22", "2222", "830", "+22", "65535"],
    "PermitRootLogin": ["yes", "no", "prohibit-password", "Yes"],
    "PasswordAuthentication": ["yes", "no", "NO"],
    "AllowUsers": ["root", "root admin", '"a b"', "x\\ y"],
    "AcceptEnv": ["LANG LC_*", "'LC_ALL'"],
}
DIFF_BAD = {  # what sshd refuses
    "MaxStartups": ["10:30", "0", "20:30:10", "5:0:10", "abc", "10:101:100", "-3", '""', "10:30:100 x"],
    "PerSourceMaxStartups": ["None", "-1", "x", "2147483648"],
    "MaxSessions": ["0x10", "-1", "2147483648", "1e3", "4 5"],
    "Port": ["0", "65536", "22x", '"2 2"'],
    "PermitRootLogin": ["maybe"],
    "PasswordAuthentication": ["1"],
    "AllowUsers": ['"unclosed'],
    "AcceptEnv": ["A=B"],
}  # fmt: skip
DIFF_MATCH_OK = ("MaxSessions", "PermitRootLogin", "PasswordAuthentication", "AllowUsers", "AcceptEnv")
DIFF_CRITERIA = ["all", "All", "User nobody", "User=nobody", "Group wheel", "Host example.org", "all # c",
                 "User root Host x", "Foo bar", "all User x", "User"]  # fmt: skip


def _diff_line(rng: random.Random, keyword: str) -> str:
    spelled = rng.choice([keyword, keyword.lower(), keyword.upper(), f'"{keyword}"'])
    sep = rng.choice([" ", " ", "\t", "=", " = ", "  =\t"])
    value = rng.choice(DIFF_BAD[keyword] if rng.random() < 0.03 else DIFF_VALUES[keyword])
    tail = rng.choice(["", "", "", " # note", "\t#x", " \t", "\f"] * 6 + [" extra", "#not-a-comment"])
    return f"{rng.choice(['', '', '  ', chr(9)])}{spelled}{sep}{value}{tail}"


def _diff_lines(rng: random.Random, pool: tuple[str, ...], most: int) -> list[str]:
    out = []
    for _ in range(rng.randint(0, most)):
        roll = rng.random()
        if roll < 0.08:
            out.append(rng.choice(["# comment", "", "   ", "#MaxStartups 1"]))
        else:
            out.append(_diff_line(rng, rng.choice(pool)))
    return out


def _diff_tree(rng: random.Random, root: Path) -> Path:
    """One generated config under ``root``; returns the main file."""
    d, spaced = root / "d", root / "my dir"
    d.mkdir()
    spaced.mkdir()
    patterns = [f"{d}/*.conf", f'"{spaced}/*.conf"', f"{d}/[ab]*.conf", f"{d}/.*.conf", f"{d}/nothing-*.conf",
                f"{d}/a.conf {d}/b.conf", f"'{d}/*.conf'", f"{root}/*/*.conf", f"{d}/?.conf"]  # fmt: skip
    everything = tuple(DIFF_VALUES)
    texts: dict[Path, list[str]] = {}
    for name in rng.sample(["a.conf", "b.conf", "10.conf", ".h.conf", "x.conf.bak", "c.conf"], k=rng.randint(0, 4)):
        lines = _diff_lines(rng, everything if rng.random() < 0.3 else DIFF_KEYWORDS, 3)
        if rng.random() < 0.06:  # a drop-in that includes its own directory: a loop
            lines.insert(0, f"Include {d}/*.conf")
        texts[d / name] = lines
    if rng.random() < 0.5:
        texts[spaced / "s.conf"] = _diff_lines(rng, DIFF_KEYWORDS, 2)
    if rng.random() < 0.1:  # a directory the glob matches: sshd reads it as empty
        texts[d / "dir.conf" / "inner.conf"] = ["MaxSessions 9"]
    if rng.random() < 0.04:  # a chain of 16 or 17 includes
        n = rng.choice([16, 17])
        texts[d / "a.conf"] = [f"Include {root}/chain1"]
        for i in range(1, n):
            texts[root / f"chain{i}"] = [f"Include {root}/chain{i + 1}"]
        texts[root / f"chain{n}"] = ["MaxSessions 3"]
    main = _diff_lines(rng, everything, 5)
    for _ in range(rng.choice([0, 1, 1, 2])):
        main.insert(
            rng.randint(0, len(main)), f"{rng.choice(['Include', 'include', 'Include='])} {rng.choice(patterns)}"
        )
    for _ in range(rng.choice([0, 0, 1, 2])):
        body = ["  " + line.strip() for line in _diff_lines(rng, DIFF_MATCH_OK, 3)]
        if rng.random() < 0.2:
            body.append("  " + _diff_line(rng, rng.choice(DIFF_KEYWORDS)))  # global-only: refused unless all
        if rng.random() < 0.3:
            body.insert(0, f"  Include {rng.choice(patterns)}")
        main += [f"Match {rng.choice(DIFF_CRITERIA)}", *body]
    texts[root / "sshd_config"] = main
    for path, lines in texts.items():
        path.parent.mkdir(exist_ok=True)
        eol = "\r\n" if rng.random() < 0.2 else "\n"
        path.write_bytes(("".join(line + eol for line in lines)).encode())
    return root / "sshd_config"


def _diff_files(root: Path) -> dict[str, str | None]:
    """What a gatherer would hand over: every regular file under ``root``, bytes as they are (CR kept)."""
    return {str(p): p.read_bytes().decode() for p in sorted(root.rglob("*")) if p.is_file()}


def _diff_expected(cfg, keyword: str) -> list[str]:  # type: ignore[no-untyped-def]
    value = cfg.value(keyword)
    return value.split() if keyword == "Port" else [value]


def _sshd_verdict(main: Path, key: Path) -> tuple[bool, dict[str, list[str]], str]:
    """(accepted, sshd -T values, why refused). Accepted: `sshd -t` passes and so does `sshd -T`, whose
    re-read of the config for a connection can still fail (an Include loop through servconf.c's cache)."""
    test = subprocess.run([SSHD, "-t", "-f", str(main), "-h", str(key)], capture_output=True, text=True, timeout=30)
    if test.returncode != 0:
        return False, {}, test.stderr
    dump = subprocess.run([SSHD, "-T", "-f", str(main), "-h", str(key)], capture_output=True, text=True, timeout=30)
    if dump.returncode != 0:
        return False, {}, "sshd -T: " + dump.stderr
    return True, parse_sshd_T(dump.stdout), ""


def test_generated_trees_agree_with_sshd_t_and_T(host_key: Path, tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    rng = random.Random(int(os.environ.get("PREFLIGHT_SSHD_DIFF_SEED", "12")))
    mains = []
    for i in range(DIFF_CONFIGS):
        root = tmp_path / f"c{i}"
        root.mkdir()
        mains.append(_diff_tree(rng, root))
    with ThreadPoolExecutor(max_workers=2) as pool:
        verdicts = list(pool.map(lambda m: _sshd_verdict(m, host_key), mains))
    disagreements = []
    refused = 0
    kinds = dict.fromkeys(("Include", "Match", "\r\n", '"', "extra"), 0)
    for main, (accepted, real, stderr) in zip(mains, verdicts):
        files = _diff_files(main.parent)
        cfg = parse_sshd(files, main=str(main), version="OpenSSH_9.2p1")
        refused += not accepted
        every = "".join(t or "" for t in files.values()).replace("include", "Include")
        for kind in kinds:
            kinds[kind] += kind in every
        if accepted != (not cfg.errors):
            disagreements.append(f"{main}: sshd -t {'accepts' if accepted else 'refuses'} ({stderr.strip()}); "
                                 f"parser errors {[str(e) for e in cfg.errors]}")  # fmt: skip
            continue
        for keyword in DIFF_KEYWORDS if accepted else ():
            ours, theirs = _diff_expected(cfg, keyword), real.get(keyword.lower(), [])
            if ours != theirs:
                disagreements.append(f"{main}: {keyword} parser {ours} != sshd -T {theirs}")
    print(f"sshd differential: {len(mains)} configs, {refused} refused by sshd -t (or -T), "
          f"{len(disagreements)} disagreements; configs with: {kinds}")  # fmt: skip
    assert disagreements == [], "\n".join(disagreements[:20])
    assert 0.2 < refused / len(mains) < 0.8  # both verdicts well represented
