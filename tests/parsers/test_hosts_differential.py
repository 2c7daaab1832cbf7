"""parse_hosts() against glibc itself: generated /etc/hosts files judged by the real ``getent``.

All cases run in ONE private mount + network namespace (``unshare --mount --net``):
a temp file is bind-mounted over /etc/hosts (and nsswitch.conf = ``hosts: files``,
host.conf over /etc/host.conf), then each case's text is copied into that temp
file and ``getent`` asked about names. The root namespace's /etc/hosts is never
written: the script only ever writes the temp file. The empty network namespace
(no address but loopback, which is down) keeps AI_ADDRCONFIG from narrowing
``getent ahosts`` to one family.

Two views are compared, for every queried name:
- ``getent hosts NAME`` with ``multi on`` (gethostbyname2: IPv6 answer, else IPv4;
  every matching line): the whole address list and the canonical name;
- ``getent ahosts NAME`` with ``multi off`` (getaddrinfo, any family, first matching
  line only, so no RFC 3484 reordering): the first address and the canonical name.

PREFLIGHT_HOSTS_DIFF_CASES (default 500) sets the number of files.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from preflight.parsers.hosts import HostsFile, parse_hosts
from tests.support.skips import skip_or_fail

CASES = int(os.environ.get("PREFLIGHT_HOSTS_DIFF_CASES", "500"))
SEED = 20261130

V4 = ["10.0.0.20", "127.0.0.1", "127.0.1.1", "192.168.1.7", "0.0.0.0", "255.255.255.255", "10.0.0.21"]
V6 = ["::1", "fe80::1", "FE80::0001", "2001:db8::1", "2001:DB8:0:0:0:0:0:1", "::ffff:10.0.0.5", "::FFFF:127.0.0.1",
      "::10.1.2.3", "1:2:3:4:5:6:7::", "::", "1:2:3:4:5:6:1.2.3.4", "0:0:0:0:0:ffff:a00:1", "fd00::2", "::0:1"]
BAD = ["127.1", "010.0.0.1", "10.0.0.256", "1.2.3", "1.2.3.4.5", "fe80::1%eth0", "1::2::3", "::ffff:1.2.3",
       "1:2:3:4:5:6:7:8:9", "12345::1", "0x7f.0.0.1", "abc", "10.0.0.1/24", "[::1]", ":1", "1:", "1:2:3:4:5:6:7:8::",
       "::1.2.3.04", "１.2.3.4", "10.0.0.1,", "host2"]
NAMES = ["host1", "host2.example.com", "host2", "Host3", "db-01.lan", "a", "x_y", "web.example.org", "HOST2",
         "localhost", "h\u212a", "hôte", "n.", "-dash", "u\u00a0v"]
SEPS = [" ", "\t", "  ", " \t ", "\v", "\f", "\r", " \r ", "\t\t"]
RARE_SEPS = ["\u00a0", "\x1c", "\u2003"]  # Unicode spaces: not C isspace, glibc keeps them inside a field


def _sep(rng: random.Random) -> str:
    return rng.choice(RARE_SEPS) if rng.random() < 0.03 else rng.choice(SEPS)


def _address(rng: random.Random) -> str:
    roll = rng.random()
    return rng.choice(V4) if roll < 0.5 else rng.choice(V6) if roll < 0.8 else rng.choice(BAD)


def _line(rng: random.Random, pool: list[str]) -> str:
    kind = rng.random()
    if kind < 0.08:
        return rng.choice(["", "   ", "\t", "\r", "\v\f"])
    if kind < 0.16:
        return rng.choice(["", "  ", "\t"]) + "#" + rng.choice(["", " comment", " 10.0.0.9 host1", "#"])
    lead = rng.choice(["", "", "", " ", "\t", "  \r"])
    text = lead + _address(rng)
    if kind < 0.22:  # address only
        return text + rng.choice(["", " ", "\t# no name", "\r"])
    names = [rng.choice(pool) for _ in range(rng.choice([1, 1, 2, 3, 4]))]
    if rng.random() < 0.05:
        names[-1] += "#glued"
    for name in names:
        text += _sep(rng) + name
    tail = rng.random()
    if tail < 0.15:
        text += _sep(rng) + "# trailing " + rng.choice(pool)
    elif tail < 0.25:
        text += rng.choice(["\r", " ", "\t", "\v"])
    if rng.random() < 0.02:
        cut = rng.randrange(len(text) + 1)
        text = text[:cut] + "\0" + text[cut:]
    return text


def random_hosts(rng: random.Random) -> tuple[str, list[str]]:
    """A hosts file and the names to ask about (ASCII, not numeric, no leading '-')."""
    pool = rng.sample(NAMES, rng.randint(2, 6))
    lines = [_line(rng, pool) for _ in range(rng.randint(1, 12))]
    ending = rng.choice(["\n", "\n", "\r\n"])
    text = "".join(line + (ending if rng.random() < 0.9 else rng.choice(["\n", "\r\n"])) for line in lines)
    if rng.random() < 0.25:
        text = text.rstrip("\n")  # no final newline: glibc's memmove quirk on an indented last line
    asked = []
    for name in pool:
        if name.isascii() and not name.startswith("-") and " " not in name and "\u00a0" not in name:
            flipped = "".join(c.swapcase() if rng.random() < 0.3 else c for c in name)
            asked.append(flipped)
    asked += ["hk", "absent.example", "hostst", "host1st"]
    return text, list(dict.fromkeys(asked))


# --- the real glibc ----------------------------------------------------------------------------

SCRIPT = r"""
set -e
cd "$1"
mount --bind nsswitch.conf /etc/nsswitch.conf
mount --bind host.conf /etc/host.conf
mount --bind current /etc/hosts
set +e
for mode in on off; do
  printf 'multi %s\n' "$mode" > host.conf
  for c in cases/*; do
    cat "$c/hosts" > current
    while IFS= read -r n; do
      printf '@@ %s %s %s\n' "$mode" "${c#cases/}" "$n"
      if [ "$mode" = on ]; then getent hosts "$n"; else getent ahosts "$n"; fi
      printf '@@rc %s\n' "$?"
    done < "$c/names"
  done
done
"""


@dataclass
class Answer:
    rc: int
    addresses: list[str]
    canonical: str | None


def _unavailable() -> str | None:
    if os.geteuid() != 0:
        return "mount namespaces need root"
    for tool in ("unshare", "getent", "mount"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


def _words(line: str) -> list[str]:
    """getent's columns: it pads with spaces; a name may hold any other byte (U+00A0 too)."""
    return [w for w in line.split(" ") if w]


def run_getent(work: Path, cases: list[tuple[str, list[str]]]) -> dict[tuple[str, int, str], Answer]:
    (work / "nsswitch.conf").write_text("hosts: files\n")
    (work / "host.conf").write_text("multi on\n")
    (work / "current").write_text("")
    for i, (text, names) in enumerate(cases):
        case = work / "cases" / f"{i:05d}"
        case.mkdir(parents=True)
        (case / "hosts").write_bytes(text.encode("utf-8", "surrogateescape"))
        (case / "names").write_text("".join(n + "\n" for n in names))
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C.UTF-8"}
    done = subprocess.run(["unshare", "--mount", "--net", "--propagation", "private", "sh", "-c", SCRIPT, "sh",
                           str(work)], capture_output=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    answers: dict[tuple[str, int, str], Answer] = {}
    key: tuple[str, int, str] | None = None
    lines: list[str] = []
    for raw in done.stdout.decode("utf-8", "surrogateescape").split("\n"):
        if raw.startswith("@@rc "):
            assert key is not None
            addrs = [_words(ln)[0] for ln in lines]
            canon = None
            if lines:
                words = _words(lines[0])
                canon = words[1] if key[0] == "on" else (words[2] if len(words) > 2 else None)
            answers[key] = Answer(int(raw[5:]), addrs, canon)
            key, lines = None, []
        elif raw.startswith("@@ "):
            mode, case_id, name = raw[3:].split(" ", 2)
            key, lines = (mode, int(case_id), name), []
        elif raw:
            lines.append(raw)
    return answers


def predicted_hosts(hosts: HostsFile, name: str) -> Answer:
    addrs = hosts.getent_hosts(name)
    if not addrs:
        return Answer(2, [], None)
    family = 6 if hosts.hostent(name, 6) else 4
    first = next(e for e in hosts.lookup(name) if hosts_entry_serves(e.family, e.packed, family))
    return Answer(0, addrs, first.names[0])


def hosts_entry_serves(entry_family: int, packed: bytes, family: int) -> bool:
    if family == 6:
        return entry_family == 6
    return entry_family == 4 or packed.startswith(bytes(10) + b"\xff\xff") or packed == bytes(15) + b"\x01"


def predicted_ahosts(hosts: HostsFile, name: str) -> Answer:
    found = hosts.lookup(name)
    if not found:
        return Answer(2, [], None)
    return Answer(0, [found[0].address] * 3, found[0].names[0])


@pytest.fixture(scope="module")
def glibc_available() -> None:
    reason = _unavailable()
    if reason:
        skip_or_fail(reason)


def test_generated_hosts_files_agree_with_getent(glibc_available: None, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    cases = [random_hosts(rng) for _ in range(CASES)]
    started = time.monotonic()
    answers = run_getent(tmp_path, cases)
    elapsed = time.monotonic() - started
    disagreements = []
    asked = 0
    for i, (text, names) in enumerate(cases):
        hosts = parse_hosts(text)
        for name in names:
            for mode, predict in (("on", predicted_hosts), ("off", predicted_ahosts)):
                asked += 1
                real = answers[(mode, i, name)]
                ours = predict(hosts, name)
                if real.rc != 0 and ours.rc != 0:
                    continue
                if (real.rc, real.addresses, real.canonical) != (ours.rc, ours.addresses, ours.canonical):
                    disagreements.append(f"case {i} {mode} {name!r}: getent {real} vs ours {ours}\n{text!r}")
    print(f"hosts differential: {CASES} files, {asked} questions, {len(disagreements)} disagreements, "
          f"getent time {elapsed:.1f}s")
    assert asked >= CASES * 2
    assert not disagreements, "\n".join(disagreements[:10])


def test_the_differential_can_fail(glibc_available: None, tmp_path: Path) -> None:
    """The harness sees a difference when there is one: Python's split() reading of a CR line."""
    text = "127.0.0.1 host2.example.com\r\n10.0.0.20 host2.example.com\n"
    answers = run_getent(tmp_path, [(text, ["host2.example.com"])])
    real = answers[("off", 0, "host2.example.com")]
    assert real.addresses[0] == "127.0.0.1"
    naive = [ln.split("#")[0].split(" ") for ln in text.split("\n")]
    naive_first = next(f[0] for f in naive if "host2.example.com" in f[1:])
    assert naive_first != real.addresses[0]
    assert predicted_ahosts(parse_hosts(text), "host2.example.com") == real
