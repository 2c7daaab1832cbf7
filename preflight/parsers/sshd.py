"""sshd_config as sshd reads it: Include expanded in place, Match blocks, and
the value sshd really uses when a keyword repeats.

Lines are split by a port of sshd's own tokenizer (sshd_tokens: CR, quotes,
"Keyword=value", comments), arguments checked as servconf.c checks them for
the keywords ported in sshd_keywords, and Include patterns expanded by
glob(3)'s rules (sshd_glob) over the files that were gathered: they come from
another host, so this machine's disk is never looked at. This module is the
one place that knows how Include resolves; the gatherers (gather.sh's
sshd_includes, image.py through :func:`walk_includes`) only mirror it.

Work is bounded: each file is split once, Include recursion stops at sshd's
depth 16 ("Too many recursive configuration includes"), and the lines visited
across all Include expansions are capped (:data:`MAX_LINE_VISITS`).

>>> text = "MaxStartups 50:30:100\\nMaxStartups 7\\n"
>>> cfg = parse_sshd({"/etc/ssh/sshd_config": text}, version="OpenSSH_9.2p1")
>>> cfg.effective("maxstartups").value, cfg.effective("MaxStartups").line
('7:30:7', 2)
>>> parse_max_startups("10")
(10, 30, 10)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from preflight.model.findings import ParseError
from preflight.parsers import sshd_keywords as kw
from preflight.parsers.sshd_glob import glob
from preflight.parsers.sshd_tokens import NoArgument, argv_split, lines, split_line, strdelim

LENS = "Preflight_Sshd.lns"  # the Augeas lens preflight.fix edits sshd_config with (reading does not use it)
SSHDIR = "/etc/ssh"
MAX_INCLUDE_DEPTH = 16  # SERVCONF_MAX_DEPTH in servconf.c
MAX_LINE_VISITS = 500_000  # lines read per pass, Include expansions counted: bounds the work (5x a 100k-line file)
MAX_ERRORS = 100
MAX_GATHERED_FILES = 256  # gatherers stop there (a note, never a hang)
NOTE = "!"  # an index line "!PATTERN<TAB>REASON": the gatherer could not expand PATTERN fully

FIRST, LAST, ALL = "first", "last", "all"

# Keywords whose repeated lines add up instead of one winning (measured on 9.2).
_ACCUMULATE = {"port", "listenaddress", "allowusers", "denyusers", "allowgroups", "denygroups"}
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
    files: Mapping[str, str | None],
    main: str = "/etc/ssh/sshd_config",
    version: str | None = None,
    unreadable: Mapping[str, str] | None = None,
    index_error: str | None = None,
) -> SshdConfig:
    """Read ``main`` and the files its Include lines reach, as sshd would.

    ``files``: gathered path -> text; None for a file that was found but could
    not be read. ``unreadable``: path -> why it could not be read (its probe's
    error). Keys starting with "!" are the gatherer's notes (see :data:`NOTE`).
    ``index_error``: why the list of Include targets is missing; then every
    Include line is an error. What sshd reads but this could not see is an
    error in ``SshdConfig.errors``, never skipped: sshd refuses to start on an
    unreadable file, and its values are unknown here.
    """
    config = SshdConfig(main=main, version=version)
    gathered = _Gathered(files, unreadable or {}, index_error)
    if main not in gathered.texts and main not in gathered.unreadable:
        return config
    first = _Pass(gathered, config, connection=False)
    if first.run(main) and not config.errors:
        _Pass(gathered, config, connection=True).run(main)
    for pattern, reason in gathered.notes.items():
        if pattern not in gathered.notes_reported:
            first.error(main, None, f"Include targets of {pattern} not fully gathered: {reason}")
    return config


def include_targets(text: str, path: str) -> list[str]:
    """The glob patterns of the Include lines in one file (Match blocks too), in order,
    made absolute as sshd does (relative ones are under /etc/ssh).

    Gathering fetches what they match, then asks again of each fetched file.
    Lines sshd refuses (an unclosed quote) give nothing.

    >>> include_targets('Include sshd_config.d/*.conf "/etc/ssh/my dir/*.conf"\\n', "/etc/ssh/sshd_config")
    ['/etc/ssh/sshd_config.d/*.conf', '/etc/ssh/my dir/*.conf']
    """
    targets: list[str] = []
    for _, line in lines(text):
        if "include" not in line.replace('"', "").lower():  # sound quick reject ('Inc"lude"', "=Include")
            continue
        try:
            split = split_line(line)
        except NoArgument:
            continue
        if split is None or split[0].lower() != "include":
            continue
        targets.extend(_absolute(arg) for arg in argv_split(split[1]) or () if arg)
    return targets


def walk_includes(
    main: str,
    read: Callable[[str], str],
    listdir: Callable[[str], list[str] | None],
    kind: Callable[[str], str | None],
    max_files: int = MAX_GATHERED_FILES,
) -> list[str]:
    """What a gatherer must fetch for ``main``: the files its Include lines reach, in
    sshd's reading order, each once, then notes ("!PATTERN\\tREASON") for what it
    could not expand. For gatherers that see the host's disk (image mode).

    ``read(path)`` returns the text (OSError: the file's own probe reports it);
    ``listdir(dir)`` the names in a directory, None for a non-directory, OSError
    when it cannot be listed; ``kind(path)`` "file" for a regular file, "dir" for a
    directory (sshd reads one as empty), "other" for anything else that exists
    (a FIFO would hang sshd: a note), None when absent. Stops at sshd's depth 16
    and at ``max_files`` files, with a note: bounded even for Include loops.
    """
    found: list[str] = []
    notes: dict[str, str] = {}
    seen = {main}

    def visit(path: str, depth: int) -> None:  # depth-first like sshd, so at most 17 deep
        try:
            text = read(path)
        except OSError:
            return  # the file's own probe says why
        if "\0" in text:
            return  # the parser refuses the file (sshd's lines end at a NUL); no path holds one
        for pattern in include_targets(text, path):
            if not pattern.startswith("/"):
                continue  # "~...": the parser reports it
            try:
                hits = glob(pattern, _raising(listdir, pattern), lambda p: kind(p) is not None)
            except _ListError as exc:
                notes.setdefault(pattern, str(exc))
                continue
            for hit in hits:
                why = None
                if "\n" in hit:
                    why = "a file name with a newline"
                elif kind(hit) == "dir":
                    continue  # sshd's fopen of a directory reads nothing
                elif kind(hit) != "file":
                    why = f"not a regular file: {hit}"
                elif hit in seen:
                    continue  # read once; the parser follows every path to it
                elif depth + 1 > MAX_INCLUDE_DEPTH:
                    why = "Too many recursive configuration includes"
                elif len(seen) >= max_files:
                    why = f"more than {max_files} files: gathering stopped"
                if why is not None:
                    notes.setdefault(pattern, why)
                    continue
                seen.add(hit)
                found.append(hit)
                visit(hit, depth + 1)

    visit(main, 0)
    return found + [f"{NOTE}{p}\t{_one_line(r)}" for p, r in notes.items()]


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

_SETTING, _MATCH, _INCLUDE = 0, 1, 2
_NEVERMATCH, _MATCH_ONLY = 1, 2  # servconf.c's SSHCFG_NEVERMATCH, SSHCFG_MATCH_ONLY


@dataclass(slots=True)
class _Line:
    number: int
    keyword: str  # as written
    key: str  # lower case
    kind: int
    value: str = ""  # the arguments joined by spaces, or the ported handler's value
    early: str | None = None  # refused before the Match check (no argument, quotes)
    late: str | None = None  # refused by the keyword's handler (value, extra arguments)
    matches: bool = False  # a Match line that matches with no connection details ("all")


class _Abort(Exception):
    """sshd stops reading at once (fatal): recursion too deep, or the work bound hit."""


class _Gathered:
    """The gathered files, each split into lines once, and a glob(3) over their paths."""

    def __init__(self, files: Mapping[str, str | None], unreadable: Mapping[str, str], index_error: str | None):
        self.index_error = index_error
        self.texts: dict[str, str] = {}
        self.unreadable: dict[str, str] = {}
        self.notes: dict[str, str] = {}
        self.notes_reported: set[str] = set()
        for path, text in [*files.items(), *((p, None) for p in unreadable)]:
            if path.startswith(NOTE):
                pattern, _, reason = path[len(NOTE) :].rpartition("\t")
                self.notes[pattern or reason] = reason if pattern else "not gathered"
            elif text is None or path in unreadable:
                self.unreadable[path] = unreadable.get(path) or "the gatherer could not read it"
                self.texts.pop(path, None)
            elif path not in self.unreadable:
                self.texts[path] = text
        self.known = self.texts.keys() | self.unreadable.keys()
        self.split: dict[str, list[_Line]] = {}
        self.globbed: dict[str, list[str]] = {}
        # servconf.c's include list, kept across both passes: pattern -> files read for it
        self.included: dict[str, list[str]] = {}
        self._dirs: dict[str, list[str]] | None = None

    def lines(self, path: str, version: tuple[int, int] | None) -> list[_Line]:
        if path not in self.split:
            self.split[path] = _split_file(self.texts[path], version)
        return self.split[path]

    def glob(self, pattern: str) -> list[str]:
        if pattern not in self.globbed:
            # a directory matched (a name on the way to gathered files) reads as empty to sshd: skipped
            found = glob(pattern, self._listdir, self.known.__contains__)
            self.globbed[pattern] = [p for p in found if p in self.known]
        return self.globbed[pattern]

    def _listdir(self, directory: str) -> list[str] | None:
        if self._dirs is None:
            dirs: dict[str, set[str]] = {}
            for path in self.known:
                parent, _, name = path.rpartition("/")
                while name:
                    dirs.setdefault(parent or "/", set()).add(name)
                    parent, _, name = parent.rpartition("/")
            self._dirs = {d: sorted(names) for d, names in dirs.items()}
        return self._dirs.get(directory)


class _Pass:
    """One pass over the files, as servconf.c's parse_server_config_depth.

    connection=False: the startup pass (no connection details: "Match all"
    matches, other criteria do not; lines outside Match blocks apply).
    connection=True: the per-connection pass as `sshd -T` makes it (blank
    connection details): lines outside Match blocks are skipped, "Match all"
    blocks apply again and replace the startup values. Errors, files_read and
    match_blocks are recorded by the startup pass.
    """

    def __init__(self, gathered: _Gathered, config: SshdConfig, connection: bool) -> None:
        self.gathered = gathered
        self.config = config
        self.connection = connection
        self.record = not connection
        self.version = parse_openssh_version(config.version)
        self.budget = MAX_LINE_VISITS
        self.ports = 0
        self.read_once: set[str] = set()
        self.reported: set[tuple[str, int | None, str]] = set()

    def run(self, main: str) -> bool:
        """False when sshd would stop at once (and so does this pass)."""
        try:
            if main in self.gathered.unreadable:
                self.error(main, None, f"cannot be read here: {self.gathered.unreadable[main]}")
                return True
            flags = _MATCH_ONLY if self.connection else 0
            self._file(main, 0, flags, not self.connection, None)
        except _Abort:
            return False
        return True

    def _file(self, path: str, depth: int, flags: int, active: bool, block: MatchBlock | None) -> None:
        if self.record and path not in self.read_once:
            self.read_once.add(path)
            self.config.files_read.append(path)
        lines = self.gathered.lines(path, self.version)
        self.budget -= len(lines) + 1
        if self.budget < 0:
            self.error(path, None, f"Include expansion reads more than {MAX_LINE_VISITS} lines: not judged", True)
            raise _Abort
        for line in lines:
            if line.early:
                self.error(path, line.number, line.early)
                continue
            if line.kind == _MATCH:
                if line.late:
                    self.error(path, line.number, line.late)
                    continue
                active = line.matches and not flags & _NEVERMATCH
                flags &= ~_MATCH_ONLY
                block = MatchBlock(line.value, path, line.number)
                if self.record:
                    self.config.match_blocks.append(block)
                continue
            if not active and line.key in kw.GLOBAL_ONLY:
                if not self.connection:  # the startup pass refuses it; the connection pass skips it
                    self.error(path, line.number, f"Directive '{line.keyword}' is not allowed within a Match block")
                continue
            if line.late:
                self.error(path, line.number, line.late)
                continue
            if block is not None and self.record:
                block.settings.append(SshdSetting(line.keyword, line.value.replace("\0", " "), path, line.number))
            if line.kind == _INCLUDE:
                self._include(line, path, depth, flags, active, block)
            elif active:
                self._apply(line, SshdSetting(line.keyword, line.value, path, line.number))

    def _apply(self, line: _Line, setting: SshdSetting) -> None:
        if not self.connection:
            if line.key == "port":
                self.ports += 1
                if self.ports > 256:  # MAX_PORTS
                    self.error(setting.file, setting.line, "too many ports")
            self.config.startup.append(setting)
        elif line.key not in kw.GLOBAL_ONLY:  # copied over the startup values
            self.config.match_all.append(setting)

    def _include(self, line: _Line, path: str, depth: int, flags: int, active: bool, block: MatchBlock | None) -> None:
        gathered = self.gathered
        if gathered.index_error is not None:
            self.error(path, line.number, f"Include targets were not gathered: {gathered.index_error}")
            return
        child_flags = _MATCH_ONLY if flags & _MATCH_ONLY else (0 if active else _NEVERMATCH)
        for arg in line.value.split("\0"):
            pattern = _absolute(arg)
            if not pattern.startswith("/"):
                self.error(path, line.number, f"Include {arg}: relative to sshd's working directory: not judged")
                return
            if pattern in gathered.notes:
                gathered.notes_reported.add(pattern)
                self.error(path, line.number, f"Include {pattern}: {gathered.notes[pattern]}")
                return
            cached = gathered.included.get(pattern)
            if cached is not None:  # servconf.c's include cache: replayed, not globbed again
                for target in cached:
                    self._enter(line, path, target, depth, child_flags, active, block)
                continue
            hits = gathered.glob(pattern)
            if not hits:
                gathered.included[pattern] = []
            for target in hits:
                if target in gathered.unreadable:
                    reason = gathered.unreadable[target]
                    self.error(path, line.number, f"Include {target}: cannot be read here ({reason}); sshd reads it")
                    continue
                self._enter(line, path, target, depth, child_flags, active, block)
                # cached only once read: an Include of the same pattern inside it globs again
                gathered.included.setdefault(pattern, []).append(target)

    def _enter(
        self, line: _Line, path: str, target: str, depth: int, flags: int, active: bool, block: MatchBlock | None
    ) -> None:
        if depth + 1 > MAX_INCLUDE_DEPTH:
            message = "Too many recursive configuration includes"
            if self.connection:  # sshd -t passes; each connection's re-read of the config dies
                message += " (when a connection re-reads the config: sshd -t passes, every connection fails)"
            self.error(path, line.number, message, always=True)
            raise _Abort
        self._file(target, depth + 1, flags, active, block)

    def error(self, path: str, number: int | None, message: str, always: bool = False) -> None:
        """Recorded by the startup pass; the connection pass adds only what stops it (always)."""
        key = (path, number, message)
        if (self.record or always) and key not in self.reported and len(self.config.errors) < MAX_ERRORS:
            self.reported.add(key)
            self.config.errors.append(ParseError(path, number, message))


def _split_file(text: str, version: tuple[int, int] | None) -> list[_Line]:
    if "\0" in text:  # sshd cuts each line at a NUL and joins it to the next: not judged
        return [_Line(1, "", "", _SETTING, early="a NUL byte in the file: not judged")]
    out = []
    for number, raw in lines(text):
        try:
            split = split_line(raw)
        except NoArgument as exc:
            out.append(_Line(number, str(exc), str(exc).lower(), _SETTING, early=f'no argument after keyword "{exc}"'))
            continue
        if split is not None:
            out.append(_line(number, split[0], split[1], version))
    return out


def _line(number: int, keyword: str, rest: str, version: tuple[int, int] | None) -> _Line:
    key = keyword.lower()
    kind = _MATCH if key == "match" else _INCLUDE if key == "include" else _SETTING
    line = _Line(number, keyword, key, kind)
    args = argv_split(rest)
    if args is None:
        line.early = "invalid quotes"
        return line
    if kind == _MATCH:
        line.value = " ".join(args)
        line.matches, line.late = _match(rest)
    elif kind == _INCLUDE:
        line.value = "\0".join(args)  # patterns may hold spaces: split again on NUL
        if version is not None and version < (8, 2):
            line.late = "Include needs OpenSSH 8.2 or later: sshd refuses the keyword"
        elif not args:
            line.late = "Include missing filename argument"
        elif "" in args:
            line.late = "Include empty argument"
    else:
        try:
            value = kw.check(key, args)
        except ValueError as exc:
            line.late = str(exc)
            return line
        line.value = value if value is not None else " ".join(args)
    return line


_CRITERIA = {"user", "group", "host", "address", "localaddress", "localport", "rdomain"}


def _match(rest: str) -> tuple[bool, str | None]:
    """servconf.c match_cfg_line with no connection details: (matches, error)."""
    cp: str | None = rest
    attributes = 0
    while True:
        attrib, cp = strdelim(cp)
        if not attrib:
            break
        if attrib[0] == "#":
            cp = None
            break
        attributes += 1
        if attrib.lower() == "all":
            arg, after = strdelim(cp)
            if attributes > 1 or (arg and arg[0] != "#"):
                return False, "'all' cannot be combined with other Match attributes"
            cp = None if arg and arg[0] == "#" else after
            return True, None if not cp else "Match: extra arguments at end of line"
        arg, cp = strdelim(cp)
        if not arg or arg[0] == "#":
            return False, f"Missing Match criteria for {attrib}"
        name = attrib.lower()
        if name not in _CRITERIA:
            return False, f"Unsupported Match attribute {attrib}"
        if name == "localport" and _a2port(arg) < 0:
            return False, f"Invalid LocalPort '{arg}' on Match line"
    if attributes == 0:
        return False, "One or more attributes required for Match"
    return False, None if not cp else "Match: extra arguments at end of line"


def _a2port(arg: str) -> int:
    try:
        return kw.strtonum(arg, 0, 65535)
    except ValueError:
        return -1  # (or a service name, which the host's /etc/services decides)


class _ListError(Exception):
    pass


def _raising(listdir: Callable[[str], list[str] | None], pattern: str) -> Callable[[str], list[str] | None]:
    def wrapped(directory: str) -> list[str] | None:
        try:
            return listdir(directory)
        except OSError as exc:
            raise _ListError(f"cannot list {directory}: {exc.strerror or exc}") from None

    return wrapped


def _one_line(text: str) -> str:
    return " ".join(text.replace("\t", " ").split())


def _absolute(pattern: str) -> str:
    return pattern if pattern.startswith(("/", "~")) else f"{SSHDIR}/{pattern}"


def _max_startups_fields(value: str) -> tuple[int, int | None, int]:
    return kw.max_startups_fields(value)


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
