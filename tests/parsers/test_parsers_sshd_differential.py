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
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (required under CI=true)")
        pytest.skip(reason)
    # sshd refuses to start (-T too) without its privilege separation directory
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    key = tmp_path_factory.mktemp("sshd-key") / "host_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, stdin=subprocess.DEVNULL
    )
    return key


def sshd_T(main: Path, key: Path) -> dict[str, list[str]]:  # noqa: N802
    run = subprocess.run(
        [SSHD, "-T", "-f", str(main), "-h", str(key)], capture_output=True, text=True, timeout=30
    )
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

    for name in rng.sample(
        ["05-first.conf", "50-vendor.conf", "99-local.conf", "7.conf", ".hidden.conf"], k=3
    ):
        lines = _lines(rng, ALL_VALUES if rng.random() < 0.5 else GLOBAL_VALUES, 4)
        if rng.random() < 0.4:
            lines += _match_block(rng)  # ends with its file
        write(dropins / name, lines)
    (dropins / "ignored.conf.bak").write_text("MaxSessions 99\n")  # the glob does not reach it
    files[str(dropins / "ignored.conf.bak")] = "MaxSessions 99\n"
    in_match = root / "in-match.conf"
    write(in_match, _lines(rng, MATCH_VALUES, 3))

    main_lines = _lines(rng, ALL_VALUES, 6)
    include = rng.choice(
        [f"{dropins}/*.conf", f"{dropins}/5*.conf {dropins}/7.conf", f"{dropins}/[0-9]*.conf"]
    )
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
