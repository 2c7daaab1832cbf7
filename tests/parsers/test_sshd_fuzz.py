"""Fuzzing the sshd_config parser (issue 12, item 8): arbitrary text and generated Include trees.

parse_sshd never raises (whatever sshd refuses is an entry in SshdConfig.errors, the documented path;
include_targets and the tokenizer have no error path at all), its results are bounded (errors capped,
every setting points at a real line of a gathered file) and it always finishes (Include loops stop at
depth 16, the work is capped). CI runs PREFLIGHT_FUZZ_EXAMPLES examples per test (300 by default);
the long run: PREFLIGHT_FUZZ_EXAMPLES=100000 .venv/bin/python -m pytest -q tests/parsers/test_sshd_fuzz.py
"""

from __future__ import annotations

import os
import random
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from preflight.parsers.sshd import (
    MAX_ERRORS,
    MAX_GATHERED_FILES,
    NOTE,
    SshdConfig,
    include_targets,
    parse_max_startups,
    parse_sshd,
    walk_includes,
)
from preflight.parsers.sshd_glob import glob
from preflight.parsers.sshd_tokens import NoArgument, argv_split, split_line, strdelim

EXAMPLES = int(os.environ.get("PREFLIGHT_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MAIN = "/etc/ssh/sshd_config"
D = "/etc/ssh/d"

# the characters sshd's tokenizer treats specially, and some it does not
SPECIAL = st.sampled_from([" ", "\t", "\r", "\n", "\f", "\v", "=", '"', "'", "\\", "#", "*", "?", "[", "]", "!",
                           "^", "-", ":", "/", ".", "\0", "\udc80", "\u00a0", "\u2028", "\x85", "é"])  # fmt: skip
WORDS = st.sampled_from(["MaxStartups", "maxstartups", "PerSourceMaxStartups", "MaxSessions", "Port", "Include",
                         "Match", "all", "User", "Address", "PermitRootLogin", "AcceptEnv", "AllowUsers", "none",
                         "yes", "10:30:100", "7", "0", "-1", "65536", "2147483647", "d/*.conf", f"{D}/*.conf",
                         f'"{D}/a b.conf"', "[!a]*", "[[:digit:]]", "~x"])  # fmt: skip
TEXT = st.lists(st.one_of(SPECIAL, WORDS, st.text(max_size=4)), max_size=60).map("".join)


def _check(cfg: SshdConfig, files: dict[str, str | None]) -> None:
    assert len(cfg.errors) <= MAX_ERRORS
    for err in cfg.errors:
        assert isinstance(err.message, str) and err.message
    for setting in [*cfg.startup, *cfg.match_all, *(s for b in cfg.match_blocks for s in b.settings)]:
        text = files[setting.file]
        assert text is not None and 1 <= setting.line <= text.count("\n") + 1
    for keyword in ("MaxStartups", "PerSourceMaxStartups", "MaxSessions", "Port", "AllowUsers"):
        value = cfg.value(keyword)
        assert value is None or isinstance(value, str)
    if not cfg.errors:
        start, rate, full = parse_max_startups(cfg.value("MaxStartups") or "")
        assert 0 < start <= full and 1 <= rate <= 100


@FUZZ
@given(TEXT)
def test_arbitrary_text(text: str) -> None:
    files: dict[str, str | None] = {MAIN: text}
    _check(parse_sshd(files, version="OpenSSH_9.2p1"), files)
    assert all(p.startswith(("/", "~")) for p in include_targets(text, MAIN))


_PATTERNS = [f"{D}/*.conf", f'"{D}/c d.conf"', "d/[ab].conf", f"{D}/.*", f"{D}/?.conf", f"{D}/a.conf",
             "/etc/*/*.conf", "none.conf", f"'{D}/*'"]  # fmt: skip
_HEADS = ["Port ", "MaxStartups=", "maxsessions\t", "PerSourceMaxStartups ", "Match ", "Include ", '"Include" ',
          "AllowUsers ", "include=", "  Match all\n  Include "]  # fmt: skip
_TAILS = ["", "\r", " x", " # c", '"', "\\", "\f"]
_WORD_LIST = ["MaxStartups", "PerSourceMaxStartups", "MaxSessions", "Port", "Include", "all", "User x", "none",
              "yes", "10:30:100", "7", "0", "-1", "65536", "2147483647", "[!a]*", "~x"]  # fmt: skip
# prebuilt, so that a generated tree costs hypothesis a few draws, not thousands
LINES = [h + v + t for h in _HEADS for v in _WORD_LIST + _PATTERNS for t in _TAILS]
NAMES = ["a.conf", "b.conf", ".h.conf", "c d.conf", "1.conf", "x"]


@st.composite
def trees(draw: st.DrawFn) -> dict[str, str | None]:
    """A main file and drop-ins that Include each other (loops, chains, unreadable ones, notes).
    Built from one drawn seed (and one drawn text), so that an example costs hypothesis two draws."""
    rng = random.Random(draw(st.integers(0, 2**64)))
    odd = draw(TEXT)
    files: dict[str, str | None] = {}
    for path in [MAIN, *(f"{D}/{n}" for n in rng.sample(NAMES, rng.randint(0, len(NAMES))))]:
        if path != MAIN and rng.random() < 0.1:
            files[path] = None  # found by the gatherer, not readable
        else:
            chosen = rng.choices(LINES, k=rng.randint(0, 8))
            if rng.random() < 0.2:
                chosen.insert(rng.randint(0, len(chosen)), odd)
            files[path] = "\n".join(chosen) + "\n"
    if rng.random() < 0.25:
        files[f"{NOTE}{D}/*.conf\tcannot list {D}: Permission denied"] = None
    return files


@FUZZ
@given(trees())
def test_generated_include_trees(files: dict[str, str | None]) -> None:
    cfg = parse_sshd(files, version=None)
    _check(cfg, files)
    assert set(cfg.files_read) <= set(files)


def argv_split_c(s: str) -> list[str] | None:
    """misc.c argv_split(s, &argc, &argv, 1), transliterated character by character: the reference."""
    argv: list[str] = []
    i, n = 0, len(s)
    while i < n:
        if s[i] in " \t":
            i += 1
            continue
        if s[i] == "#":
            break
        quote, arg = "", ""
        while i < n:
            if s[i] == "\\":
                nxt = s[i + 1] if i + 1 < n else "\0"
                if nxt in "'\"\\" or (not quote and nxt == " "):
                    i += 1
                    arg += s[i]
                else:
                    arg += s[i]
            elif not quote and s[i] in " \t":
                break
            elif not quote and s[i] in "\"'":
                quote = s[i]
            elif quote and s[i] == quote:
                quote = ""
            else:
                arg += s[i]
            i += 1
        argv.append(arg)
        if i >= n:
            if quote:
                return None
            break
        i += 1
    return argv


def split_line_c(line: str) -> tuple[str, str] | None:
    """process_server_config_line's split with strdelim only (no fast path): the reference."""
    line = line[:1] + line[1:].rstrip(" \t\r\n\f")
    keyword, rest = strdelim(line)
    if keyword == "":
        keyword, rest = strdelim(rest)
    if not keyword or keyword[0] == "#":
        return None
    if not rest:
        raise NoArgument(keyword)
    return keyword, rest


@FUZZ
@given(st.text(max_size=80), st.text(alphabet=" \t#\"'\\=ab\r\f", max_size=30))
def test_tokenizer(text: str, shaped: str) -> None:
    for sample in (text, shaped):
        words = argv_split(sample)
        assert words == argv_split_c(sample)
        line = sample.lstrip(" \t\r") or "x"
        try:
            reference: tuple[str, str] | None | str = split_line_c(line)
        except NoArgument:
            reference = "no argument"
        try:
            got: tuple[str, str] | None | str = split_line(line)
        except NoArgument:
            got = "no argument"
        assert got == reference
        if not re.search(r"[\"'\\]", sample):  # no quoting: blanks split, a '#' word ends the line
            expected = []
            for word in re.split(r"[ \t]+", sample):
                if word.startswith("#"):
                    break
                if word:
                    expected.append(word)
            assert words == expected
        try:
            split = split_line(sample.lstrip(" \t\r") or "x")
        except NoArgument:
            continue
        assert split is None or (split[0] and split[1])


@FUZZ
@given(
    st.text(max_size=20),
    st.lists(st.text(min_size=1, max_size=8).filter(lambda n: "/" not in n), max_size=8, unique=True),
)
def test_glob(pattern: str, names: list[str]) -> None:
    listing = {"/": ["d"], "/d": names}
    got = glob("/d/" + pattern.replace("/", ""), listing.get, lambda p: p[3:] in names)
    assert got == sorted(set(got), key=lambda p: p.encode("utf-8", "surrogateescape"))
    assert all(p.startswith("/d/") and p[3:] in names for p in got)


@FUZZ
@given(trees(), st.integers(1, MAX_GATHERED_FILES))
def test_gather_walk_is_bounded(files: dict[str, str | None], cap: int) -> None:
    texts = {p: t for p, t in files.items() if not p.startswith(NOTE)}

    def read(path: str) -> str:
        text = texts[path]
        if text is None:
            raise PermissionError(13, "Permission denied")
        return text

    def listdir(directory: str) -> list[str] | None:
        names = {p[len(directory) + 1 :].split("/")[0] for p in texts if p.startswith(directory.rstrip("/") + "/")}
        return sorted(names) or None

    got = walk_includes(MAIN, read, listdir, lambda p: "file" if p in texts else None, max_files=cap)
    found = [e for e in got if not e.startswith(NOTE)]
    assert len(found) == len(set(found)) and len(found) < cap and MAIN not in found
