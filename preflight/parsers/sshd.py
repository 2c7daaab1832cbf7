"""sshd_config as sshd reads it: Include expanded in place, Match blocks, and
the value sshd really uses when a keyword repeats.

Each file is parsed with ``lenses/preflight_sshd.aug`` (the stock Sshd lens's
entries plus ``Match all`` and indented keywords, which sshd accepts). Files
come from another host, so Include globs are matched against the paths that
were gathered, not against this machine's disk.

>>> text = "MaxStartups 50:30:100\\nMaxStartups 7\\n"
>>> cfg = parse_sshd({"/etc/ssh/sshd_config": text}, version="OpenSSH_9.2p1")
>>> cfg.effective("maxstartups").value, cfg.effective("MaxStartups").line
('7:30:7', 2)
>>> parse_max_startups("10")
(10, 30, 10)
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from preflight.model.findings import ParseError
from preflight.parsers.augeas_util import Node, parse_text

LENS = "Preflight_Sshd.lns"
SSHDIR = "/etc/ssh"
MAX_INCLUDE_DEPTH = 16  # SERVCONF_MAX_DEPTH in servconf.c

FIRST, LAST, ALL = "first", "last", "all"

# Keywords whose values a Match block may not set: sshd refuses to start.
_GLOBAL_ONLY = {
    "port", "listenaddress", "maxstartups", "persourcemaxstartups", "persourcenetblocksize",
    "logingracetime", "usedns", "hostkey", "addressfamily", "pidfile", "protocol",
}  # fmt: skip
# Keywords whose repeated lines add up instead of one winning (measured on 9.2).
_ACCUMULATE = {"port", "listenaddress", "allowusers", "denyusers", "allowgroups", "denygroups"}
# Keywords the lens splits into numbered children, and how sshd joins them back.
_COMMA_LISTS = {
    "macs", "ciphers", "kexalgorithms", "hostkeyalgorithms", "gssapikexalgorithms",
    "casignaturealgorithms", "pubkeyacceptedkeytypes",
}  # fmt: skip

# Compiled defaults (upstream servconf.c fill_default_server_options) for
# OpenSSH 7.4 (RHEL 7), 8.0 (RHEL 8), 8.7 (RHEL 9) and 9.2 (Debian 12): the
# keywords the rules read have the same defaults in all four; 9.2 checked
# with `sshd -T` here. ListenAddress "0.0.0.0 ::" is AddressFamily any.
_DEFAULTS = {
    "maxstartups": "10:30:100",
    "persourcemaxstartups": "none",  # OpenSSH >= 8.5 only
    "maxsessions": "10",
    "permitrootlogin": "prohibit-password",  # sshd -T prints its old name, without-password
    "passwordauthentication": "yes",
    "pubkeyauthentication": "yes",
    "port": "22",
    "listenaddress": "0.0.0.0 ::",
    "logingracetime": "120",
    "clientaliveinterval": "0",
    "usedns": "no",
}


@dataclass(frozen=True)
class Precedence:
    kind: str  # FIRST | LAST | ALL (repeated lines accumulate)
    basis: str  # measured (sshd -T here) | source (upstream servconf.c read) | assumed


@dataclass
class SshdSetting:
    keyword: str  # as written in the file
    value: str  # trailing comment removed; MaxStartups from effective() is "start:rate:full"
    file: str
    line: int


@dataclass
class MatchBlock:
    criteria: str  # "User foo Address 10.0.0.0/8", "all"
    file: str
    line: int
    settings: list[SshdSetting] = field(default_factory=list)  # Include targets' lines too

    @property
    def matches_all(self) -> bool:
        return self.criteria.strip().lower() == "all"


@dataclass
class SshdConfig:
    main: str
    version: str | None = None
    match_blocks: list[MatchBlock] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)
    files_read: list[str] = field(default_factory=list)
    # Lines sshd applies, in reading order. sshd parses the files twice: at
    # startup (lines outside Match blocks, and "Match all" ones) and again for
    # each connection (only lines of Match blocks that match it), whose values
    # then replace the startup ones. With no connection details (sshd -T
    # without -C, and here) only "Match all" blocks match.
    startup: list[SshdSetting] = field(default_factory=list)
    match_all: list[SshdSetting] = field(default_factory=list)

    def values(self, keyword: str) -> list[SshdSetting]:
        """The applied lines for ``keyword`` (any case) that decide its value, in reading order."""
        wanted = keyword.lower()
        override = [s for s in self.match_all if s.keyword.lower() == wanted]
        return override or [s for s in self.startup if s.keyword.lower() == wanted]

    def effective(self, keyword: str) -> SshdSetting | None:
        """The setting sshd uses outside Match blocks, None when the compiled default applies.

        Exactly what ``sshd -T`` prints without ``-C``: lines outside Match
        blocks, replaced by those of ``Match all`` blocks (which match every
        connection). Keywords that accumulate (Port, ListenAddress,
        AllowUsers ...) give all values joined by spaces, located at their
        first line.
        """
        found = self.values(keyword)
        if not found:
            return None
        kind = precedence(keyword, self.version).kind
        if keyword.lower() == "maxstartups":
            return _max_startups(found, kind)
        if kind == ALL:
            joined = " ".join(s.value for s in found)
            return SshdSetting(found[0].keyword, joined, found[0].file, found[0].line)
        return found[0] if kind == FIRST else found[-1]

    def default(self, keyword: str) -> str | None:
        return compiled_default(keyword, self.version)

    def value(self, keyword: str) -> str | None:
        """The effective value, or the compiled default when the files do not set it."""
        setting = self.effective(keyword)
        return setting.value if setting else self.default(keyword)


def parse_sshd(
    files: Mapping[str, str | None], main: str = "/etc/ssh/sshd_config", version: str | None = None
) -> SshdConfig:
    """Read ``main`` and the files its Include lines reach, as sshd would."""
    config = SshdConfig(main=main, version=version)
    _Reader(files, config, connection=False).read(main, active=True, never_match=False, depth=0)
    _Reader(files, config, connection=True).read(main, active=False, never_match=False, depth=0)
    return config


def include_targets(text: str, path: str) -> list[str]:
    """The absolute glob patterns of the Include lines in one file (Match blocks too).

    Gathering fetches what they match, then asks again of each fetched file.
    Raises ParseError when the file cannot be parsed.

    >>> include_targets("Include sshd_config.d/*.conf\\n", "/etc/ssh/sshd_config")
    ['/etc/ssh/sshd_config.d/*.conf']
    """
    targets: list[str] = []
    for item in _flatten(_parse_file(text, path)):
        if item.keyword.lower() == "include":
            targets.extend(_absolute(p) for p in item.value.split())
    return targets


def parse_sshd_T(text: str) -> dict[str, list[str]]:  # noqa: N802 - named after `sshd -T`
    """``sshd -T`` output: lower-case keyword -> its values, one per printed line.

    >>> parse_sshd_T("port 22\\nport 2222\\nmaxstartups 10:30:100\\n")
    {'port': ['22', '2222'], 'maxstartups': ['10:30:100']}
    """
    result: dict[str, list[str]] = {}
    for line in text.splitlines():
        parts = line.strip().split(None, 1)
        if parts:
            result.setdefault(parts[0].lower(), []).append(parts[1] if len(parts) > 1 else "")
    return result


def parse_max_startups(value: str) -> tuple[int, int, int]:
    """(start, rate, full) from a MaxStartups value; "N" alone means start = full = N.

    The rate of a lone "N" is the default 30 (sshd keeps an earlier line's
    rate instead: see :meth:`SshdConfig.effective`). Raises ValueError for
    what sshd rejects.
    """
    start, rate, full = _max_startups_fields(value)
    return start, 30 if rate is None else rate, full


def parse_openssh_version(text: str | None) -> tuple[int, int] | None:
    """(major, minor) from "OpenSSH_9.2p1 Debian-2", "9.2p1", "8.0" ...

    >>> parse_openssh_version("OpenSSH_8.7p1, OpenSSL 3.0.7 1 Nov 2022")
    (8, 7)
    """
    found = re.search(r"(?:OpenSSH_)?(\d+)\.(\d+)", text or "")
    return (int(found.group(1)), int(found.group(2))) if found else None


def has_per_source_max_startups(version: str | None) -> bool:
    """PerSourceMaxStartups exists from OpenSSH 8.5; an unknown version counts as no."""
    parsed = parse_openssh_version(version)
    return parsed is not None and parsed >= (8, 5)


def compiled_default(keyword: str, version: str | None = None) -> str | None:
    """sshd's built-in value for ``keyword`` (None: unknown here, or no such keyword in that version)."""
    key = keyword.lower()
    if key == "persourcemaxstartups" and not has_per_source_max_startups(version):
        return None
    return _DEFAULTS.get(key)


def precedence(keyword: str, version: str | None) -> Precedence:
    """Which of several lines sshd uses for ``keyword`` in OpenSSH ``version``.

    Measured here with `sshd -T` on OpenSSH 9.2p1 (tests/parsers/test_parsers_sshd_differential.py):
    MaxStartups and PerSourceMaxStartups take the LAST line; Port, ListenAddress
    and AllowUsers accumulate; MaxSessions, PermitRootLogin, PasswordAuthentication,
    PubkeyAuthentication, LoginGraceTime, ClientAliveInterval, UseDNS take the FIRST.
    """
    key = keyword.lower()
    parsed = parse_openssh_version(version)
    measured = parsed == (9, 2)
    if key in ("maxstartups", "persourcemaxstartups"):
        # servconf.c up to 1.392 (OpenSSH 9.3, 2023) assigns these with no
        # "still unset" check (last wins); revision 1.451 (2026) assigns only
        # while unset (first wins). The release that changed it is not known
        # here: >= 10.3 is a guess, so it is "assumed".
        if parsed is not None and parsed >= (10, 3):
            return Precedence(FIRST, "assumed")
        if measured:
            return Precedence(LAST, "measured")
        known = parsed is not None and parsed <= (9, 3) and key == "maxstartups"
        return Precedence(LAST, "source" if known else "assumed")
    kind = ALL if key in _ACCUMULATE else FIRST
    return Precedence(kind, "measured" if measured else "assumed")


# --- reading files ------------------------------------------------------------


@dataclass
class _Block:
    criteria: str
    line: int
    items: list[SshdSetting]


@dataclass
class _File:
    items: list[SshdSetting]  # before the first Match
    blocks: list[_Block]


class _Reader:
    """One pass over the files, as servconf.c's parse_server_config_depth.

    connection=False: the startup pass (global lines active).
    connection=True: the per-connection pass with no connection details
    (global lines inactive; only "Match all" blocks match).
    Errors, files_read and match_blocks are recorded by the startup pass.
    """

    def __init__(self, files: Mapping[str, str | None], config: SshdConfig, connection: bool) -> None:
        self.files = files
        self.config = config
        self.connection = connection
        self.record = not connection
        self.parsed: dict[str, _File | None] = {}

    def read(
        self, path: str, active: bool, never_match: bool, depth: int, outer: MatchBlock | None = None
    ) -> None:
        """``outer``: the Match block an Include line of this file sits in."""
        parsed = self._load(path)
        if parsed is None:
            return
        for item in parsed.items:
            self._apply(item, active, never_match, depth, outer)
        for raw in parsed.blocks:
            block = MatchBlock(raw.criteria, path, raw.line)
            if self.record:
                self.config.match_blocks.append(block)
            block_active = block.matches_all and not never_match
            for item in raw.items:
                self._apply(item, block_active, never_match, depth, block)

    def _load(self, path: str) -> _File | None:
        if path not in self.parsed:
            text = self.files.get(path)
            self.parsed[path] = None
            if text is not None:
                if self.record:
                    self.config.files_read.append(path)
                try:
                    self.parsed[path] = _parse_file(text, path)
                except ParseError as exc:
                    if self.record:
                        self.config.errors.append(exc)
        return self.parsed[path]

    def _apply(
        self, item: SshdSetting, active: bool, never_match: bool, depth: int, block: MatchBlock | None
    ) -> None:
        key = item.keyword.lower()
        if block is not None and self.record:
            if key in _GLOBAL_ONLY:
                self._error(item, f"Directive '{item.keyword}' is not allowed within a Match block")
            block.settings.append(item)
        if key == "include":
            # Match blocks in a file included from an inactive Match block never
            # match, in both passes (measured); the connection pass's inactive
            # global lines do not count as such.
            self._include(item, active, never_match or (block is not None and not active), depth, block)
            return
        if key == "maxstartups":
            try:
                _max_startups_fields(item.value)
            except ValueError as exc:
                self._error(item, str(exc))
                return
        if not active:
            return
        if not self.connection:
            self.config.startup.append(item)
        elif key not in _GLOBAL_ONLY:
            self.config.match_all.append(item)

    def _include(
        self, item: SshdSetting, active: bool, never_match: bool, depth: int, block: MatchBlock | None
    ) -> None:
        version = parse_openssh_version(self.config.version)
        if version is not None and version < (8, 2):
            self._error(item, "Include needs OpenSSH 8.2 or later: sshd refuses the keyword")
            return
        if depth + 1 > MAX_INCLUDE_DEPTH:
            self._error(item, "too many recursive configuration includes")
            return
        for pattern in item.value.split():
            for path in _glob(_absolute(pattern), self.files):
                self.read(path, active, never_match, depth + 1, block)

    def _error(self, item: SshdSetting, message: str) -> None:
        if self.record:
            self.config.errors.append(ParseError(item.file, item.line, message))


def _parse_file(text: str, path: str) -> _File:
    result = _File([], [])
    for node in parse_text(LENS, text, path):
        if node.label == "Match":
            result.blocks.append(_block(node, path))
        elif not node.label.startswith("#"):
            result.items.append(_setting(node, path))
    return result


def _block(node: Node, path: str) -> _Block:
    condition = node.first("Condition")
    parts: list[str] = []
    for crit in condition.children if condition else []:
        parts.append(crit.label if crit.value is None else f"{crit.label} {crit.value}")
    settings = node.first("Settings")
    children = settings.children if settings else []
    items = [_setting(c, path) for c in children if not c.label.startswith("#")]
    return _Block(" ".join(parts), node.line or 0, items)


def _setting(node: Node, path: str) -> SshdSetting:
    if node.value is not None:
        words = node.value.split()
    elif node.label.lower() == "subsystem":
        words = [f"{c.label} {c.value or ''}".strip() for c in node.children]
    else:
        words = [c.value or "" for c in node.children]
    # sshd (8.7+, argv_split) ends a line at a word starting with '#'
    for i, word in enumerate(words):
        if word.startswith("#"):
            words = words[:i]
            break
    joiner = "," if node.label.lower() in _COMMA_LISTS and node.value is None else " "
    return SshdSetting(node.label, joiner.join(words), path, node.line or 0)


def _flatten(parsed: _File) -> list[SshdSetting]:
    return parsed.items + [item for block in parsed.blocks for item in block.items]


def _absolute(pattern: str) -> str:
    return pattern if pattern.startswith("/") else f"{SSHDIR}/{pattern}"


def _glob(pattern: str, files: Mapping[str, str | None]) -> list[str]:
    """glob(3) over the gathered paths: per path component, no match across '/',
    a leading '.' only matched explicitly, results sorted (C locale)."""
    if not any(ch in pattern for ch in "*?["):
        return [pattern] if files.get(pattern) is not None else []
    want = pattern.split("/")
    found = []
    for path, text in files.items():
        parts = path.split("/")
        if text is None or len(parts) != len(want):
            continue
        if all(_component_matches(p, w) for p, w in zip(parts, want)):
            found.append(path)
    return sorted(found)


def _component_matches(name: str, pattern: str) -> bool:
    if name.startswith(".") and not pattern.startswith("."):
        return False
    return fnmatch.fnmatchcase(name, pattern)


def _max_startups_fields(value: str) -> tuple[int, int | None, int]:
    """sscanf("%d:%d:%d") as servconf.c does: 3 fields, or 1 (rate unset)."""
    found = re.match(r"\s*([-+]?\d+)(?::([-+]?\d+)(?::([-+]?\d+))?)?", value)
    if not found or (found.group(2) is not None and found.group(3) is None):
        raise ValueError(f"invalid MaxStartups spec {value!r}")
    start = int(found.group(1))
    if found.group(3) is None:
        if start <= 0:
            raise ValueError(f"invalid MaxStartups spec {value!r}")
        return start, None, start
    rate, full = int(found.group(2)), int(found.group(3))
    if start > full or not 1 <= rate <= 100 or start <= 0:
        raise ValueError(f"invalid MaxStartups spec {value!r}")
    return start, rate, full


def _max_startups(found: list[SshdSetting], kind: str) -> SshdSetting:
    """MaxStartups as "start:rate:full". Up to 9.3 every line is applied in turn and
    a lone "N" keeps the rate an earlier line set (50:30:100 then 7 gives 7:30:7)."""
    lines = found[:1] if kind == FIRST else found
    rate = 30
    start = full = 0
    for setting in lines:
        start, new_rate, full = _max_startups_fields(setting.value)
        if new_rate is not None:
            rate = new_rate
        elif kind == FIRST:
            rate = 30
    last = lines[-1]
    return SshdSetting(last.keyword, f"{start}:{rate}:{full}", last.file, last.line)
