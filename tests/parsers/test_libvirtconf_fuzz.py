"""Issue 12: parse_libvirt_conf() fuzzed. It never raises (a refused file is ``errors``, one entry with
libvirt's line), in bounded time, and what it reads back from a generated file is what was written,
however the file is laid out (separators, blanks, comments, quotes, nesting).

CI runs PREFLIGHT_FUZZ_EXAMPLES (default 300) examples per test; the long run is
PREFLIGHT_FUZZ_EXAMPLES=100000 (figures in the report of issue 12).
"""

from __future__ import annotations

import os
import time
from typing import Union

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from preflight.parsers.libvirtconf import LibvirtConf, parse_libvirt_conf

EXAMPLES = int(os.environ.get("PREFLIGHT_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SECONDS_PER_EXAMPLE = 1.0  # CPU time of this process: other load does not count
PATHS = ["/etc/libvirt/libvirtd.conf", "/etc/libvirt/virtqemud.conf", "/etc/libvirt/qemu.conf"]


def check(text: str, path: str) -> LibvirtConf:
    started = time.process_time()
    conf = parse_libvirt_conf(text, path)
    assert time.process_time() - started < SECONDS_PER_EXAMPLE
    assert len(conf.errors) <= 1 and len(conf.invalid) <= 1
    last_line = text.count("\n") + 1
    if conf.errors:
        error = conf.errors[0]
        assert conf.entries == [] and conf.invalid == [] and error.file == path and error.message
        assert error.line is not None and 1 <= error.line <= last_line
    for entry in conf.entries:
        assert 1 <= entry.line <= last_line
        first = conf.get(entry.key)
        assert first is not None and first.line <= entry.line
    for error in conf.invalid:
        setting = conf.get(error.key)
        assert setting is not None and setting.line == error.line and error.message.endswith("refuses to start")
    return conf


CHARS = st.characters(codec="utf-8") | st.sampled_from(list(" \t\r\n;#=[],'\"\0+-_")) | st.sampled_from(
    list("0123456789abcxyz"))


@FUZZ
@given(st.text(CHARS, max_size=400), st.sampled_from(PATHS))
def test_any_text(text: str, path: str) -> None:
    check(text, path)


@FUZZ
@given(st.binary(max_size=400), st.sampled_from(PATHS))
def test_any_bytes_as_gathered(data: bytes, path: str) -> None:
    check(data.decode("utf-8", "surrogateescape"), path)


# --- structured: a config written from known values, in any legal layout, reads back the same -----

Tree = Union[int, str, list["Tree"]]
KEYS = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,12}", fullmatch=True) | st.sampled_from(
    ["max_clients", "max_workers", "min_workers", "max_anonymous_clients", "listen_tcp", "host_uuid"])


def quotable(text: str) -> bool:
    """A string virconf can hold: one quote style is free, or triple quotes fit (none inside, no '"' at the end)."""
    return "'" not in text or '"' not in text or ('"""' not in text and not text.endswith('"'))


SCALARS = st.integers(min_value=-(2**63) + 1, max_value=2**64 - 1) | st.text(
    st.characters(codec="utf-8", exclude_characters="\n\r\0"), max_size=12).filter(quotable)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4), max_leaves=12)
BLANK = st.sampled_from(["", " ", "\t", " \t "])
BLANK_EOL = st.sampled_from(["", " ", "\n", " \r\n ", "\t\n\n"])


@st.composite
def rendered(draw: st.DrawFn, value: Tree) -> str:
    if isinstance(value, list):
        parts = [draw(BLANK_EOL) + draw(rendered(v)) + draw(BLANK_EOL) for v in value]
        trailing = draw(st.sampled_from(["", ","])) if value else ""
        return "[" + ",".join(parts) + trailing + draw(BLANK_EOL) + "]"
    if isinstance(value, int):
        if value < 0:
            return str(value)
        return draw(st.sampled_from(["", "+"])) + "0" * draw(st.integers(0, 2)) + str(value)
    quotes = [q for q in ("'", '"') if q not in value]
    if '"""' not in value and not value.endswith('"'):
        quotes.append('"""')
    quote = draw(st.sampled_from(quotes))
    return quote + value + quote


@st.composite
def configs(draw: st.DrawFn) -> tuple[str, list[tuple[str, Tree]]]:
    statements = draw(st.lists(st.tuples(KEYS, VALUES), max_size=8))
    text = draw(st.sampled_from(["", "# header\n", "\n# c\n"])) if statements else ""
    written: list[tuple[str, Tree]] = []
    for key, value in statements:
        body = draw(rendered(value))
        comment = draw(st.sampled_from(["", " # note", "#x = 1"]))
        text += draw(BLANK) + key + draw(BLANK) + "=" + draw(BLANK) + body + draw(BLANK) + comment
        ends = ["\n", "\r\n", "\r", "\n\n# between\n"] + ([] if comment else [";", " ; "])  # a comment eats ';'
        text += draw(st.sampled_from(ends))
        written.append((key, value))
    return text, written


@FUZZ
@given(configs())
def test_generated_configs_read_back(case: tuple[str, list[tuple[str, Tree]]]) -> None:
    text, written = case
    conf = check(text, "/etc/libvirt/qemu.conf")
    assert conf.errors == [], (conf.errors, text)
    assert [(e.key, e.value) for e in conf.entries] == written
    for key, _ in written:
        assert conf.get(key).value == next(v for k, v in written if k == key)  # type: ignore[union-attr]


@FUZZ
@given(configs(), st.integers(0, 10_000), st.sampled_from(["\0", "'", '"', "[", "]", ",", "=", "#", "\n", "x", "-"]))
def test_one_corrupted_character_never_raises(case: tuple[str, list[tuple[str, Tree]]], where: int, ch: str) -> None:
    text = case[0]
    if text:
        at = where % len(text)
        text = text[:at] + ch + text[at + 1:]
    check(text, "/etc/libvirt/libvirtd.conf")
