"""The config file: ``preflight.toml``, or ``[tool.preflight]`` in ``pyproject.toml``.

Found as ruff finds its own: from the working directory upward, the first directory
holding either file wins (``preflight.toml`` before ``pyproject.toml``; a
``pyproject.toml`` without ``[tool.preflight]`` is passed over). ``--config FILE``
overrides the search, ``--no-config`` turns it off.

Every key is checked: an unknown key, a wrong type or a bad value is a
:class:`ConfigError` naming ``file:line`` (exit 2). tomllib keeps no line numbers,
so :func:`key_line` finds the key in the text itself. tomllib is Python 3.11+; on
3.10 a config file that exists is an error saying so (no TOML parser is vendored),
and without one nothing changes.
"""

from __future__ import annotations

import datetime
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from preflight.textsafe import escape_control

CONFIG_NAME = "preflight.toml"
PYPROJECT = "pyproject.toml"
TOOL_TABLE = ("tool", "preflight")
SEVERITIES = ("error", "warning", "info")
FAIL_ON = ("error", "warning", "unknown")
MAX_CONFIG_BYTES = 1 << 20  # a config file is small; a bound keeps a hostile one from eating memory


class ConfigError(ValueError):
    """A config (or baseline) file that cannot be used; str() is ``file:line: message``."""

    def __init__(self, file: Path | str, line: int | None, message: str) -> None:
        where = f"{file}:{line}" if line else str(file)
        super().__init__(f"{where}: {message}")
        self.file = str(file)
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Waiver:
    """An accepted finding: rule (id or slug), on ``host`` (source | destination | a spec | an image root
    path, None = either), about ``subject`` (the finding's subject, None = any), with a reason and an
    optional expiry date (the waiver applies up to and including that day)."""

    rule: str
    reason: str
    host: str | None = None
    subject: str | None = None
    expires: datetime.date | None = None
    origin: str = ""  # "file:line" of the waiver, for the notes
    base: Path | None = None  # directory a relative image root in ``host`` is resolved against


@dataclass(frozen=True)
class PathConfig:
    """Settings for one image root (or every root under it): ``root`` resolved against the config's directory."""

    root: Path
    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    severity: dict[str, str] = field(default_factory=dict)
    concurrency: int | None = None
    peers: list[str] | None = None
    origin: str = ""


@dataclass
class Config:
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    severity: dict[str, str] = field(default_factory=dict)  # rule id -> error | warning | info
    concurrency: int | None = None
    peers: list[str] = field(default_factory=list)
    paths: list[PathConfig] = field(default_factory=list)
    waivers: list[Waiver] = field(default_factory=list)
    fail_on: str | None = None
    baseline: Path | None = None  # a baseline file named by the config (resolved)
    source: Path | None = None  # the file read; None = no config file

    def for_path(self, path: str | Path) -> PathConfig | None:
        """The ``[[paths]]`` entry for an image root: the longest root that is it or holds it."""
        if not self.paths:
            return None
        try:
            target = Path(path).resolve()
        except (OSError, RuntimeError, ValueError):  # a snapshot's spec is hostile: NUL, loops
            return None
        best: PathConfig | None = None
        for entry in self.paths:
            if (target == entry.root or entry.root in target.parents) and (
                    best is None or len(entry.root.parts) > len(best.root.parts)):
                best = entry
        return best

    def describe(self) -> str:
        """For -v and JSON: which file was used."""
        return str(self.source) if self.source else "none"


# --- finding the file ------------------------------------------------------------------------------------
_TOOL_HEADER = re.compile(r"^\s*\[\s*tool\s*\.\s*preflight\s*[\].]", re.M)


def find_config(start: Path) -> Path | None:
    """The first preflight.toml, or pyproject.toml with a [tool.preflight] table, from ``start`` upward."""
    here = start.resolve()
    for d in (here, *here.parents):
        candidate = d / CONFIG_NAME
        if candidate.is_file():
            return _not_planted(candidate)
        pyproject = d / PYPROJECT
        if pyproject.is_file():
            try:
                text = _read(pyproject)
            except ConfigError:
                continue
            if _TOOL_HEADER.search(text):
                return _not_planted(pyproject)
    return None


def _not_planted(path: Path) -> Path:
    """The search climbs into shared directories: a config found in a world-writable directory (/tmp) and
    owned by another user than us or root could waive every finding, so it is an error, not used. (A
    checkout owned by another user, as in a CI container, is fine; --config names a file on purpose.)"""
    try:
        st = path.stat()
        uid = st.st_uid
        shared = bool(path.parent.stat().st_mode & 0o002)
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read: {exc.strerror or exc}") from None
    if st.st_mode & 0o002:  # anyone may rewrite it, whoever owns it
        raise ConfigError(path, None, "found from the working directory upward, and world-writable: not used (name "
                                      "it with --config FILE to use it, or pass --no-config)")
    if shared and uid not in (0, os.getuid()):
        raise ConfigError(path, None, f"found from the working directory upward, in a world-writable directory, "
                                      f"owned by uid {uid} (not you or root): not used (name it with --config FILE "
                                      "to use it, or pass --no-config)")
    return path


def load_config(explicit: Path | None, start: Path, search: bool = True) -> Config:
    """The config from ``explicit`` (--config), else found from ``start`` upward (unless ``search`` is off),
    else the empty Config. A file that cannot be used raises ConfigError."""
    path = explicit if explicit is not None else (find_config(start) if search else None)
    if path is None:
        return Config()
    text = _read(path)
    data = parse_toml(path, text)
    in_pyproject = _is_pyproject(path, data)
    prefix: tuple[str, ...] = ()
    if in_pyproject:
        data = data.get("tool", {}).get("preflight")
        if not isinstance(data, dict):
            raise ConfigError(path, None, "no [tool.preflight] table")
        prefix = TOOL_TABLE
    cfg = _build(path, text, data, prefix)
    cfg.source = path.resolve()
    return cfg


def _is_pyproject(path: Path, data: dict[str, Any]) -> bool:
    """An explicit file named pyproject.toml, or any file whose preflight settings sit in [tool.preflight]."""
    return path.name == PYPROJECT or (set(data) == {"tool"} and isinstance(data["tool"], dict)
                                      and "preflight" in data["tool"])


def _read(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(path, None, f"larger than {MAX_CONFIG_BYTES} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(path, None, f"not UTF-8 ({exc.reason} at byte {exc.start})") from None


def parse_toml(path: Path, text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):  # mypy checks for 3.10: this block is read as 3.11+ only
        import tomllib

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            m = re.search(r"\(at line (\d+), column \d+\)", str(exc))
            raise ConfigError(path, int(m.group(1)) if m else None, f"not valid TOML: {exc}") from None
        except RecursionError:  # tomllib recurses once per nested array or inline table
            raise ConfigError(path, None, "not valid TOML for preflight: arrays or tables nested too deeply") from None
    raise ConfigError(path, None, "config and baseline files need Python 3.11 or newer (tomllib); "
                                  "pass --no-config to run without it")


# --- where a key is (tomllib has no positions) -----------------------------------------------------------
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]#]+?)\s*\]\]?\s*(?:#.*)?$")


def _header_path(raw: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in raw.split("."))


def key_line(text: str, table: tuple[str | int, ...], key: str | None) -> int | None:
    """The 1-based line of ``key`` in ``table`` (array-of-tables entries by index), or of the table's header
    when ``key`` is None or not found on its own line; None when neither can be placed."""
    want = tuple(t for t in table if isinstance(t, str))
    index = next((t for t in reversed(table) if isinstance(t, int)), None)
    current: tuple[str, ...] = ()
    seen: dict[tuple[str, ...], int] = {}
    header_line: int | None = None
    in_table = want == ()
    key_re = re.compile(r"^\s*(?:" + "|".join(re.escape(q + key + q) for q in ("", '"', "'")) + r")\s*=") \
        if key else None
    for no, line in enumerate(text.splitlines(), 1):
        m = _HEADER.match(line)
        if m:
            current = _header_path(m.group(2))
            count = seen.get(current, -1) + 1 if m.group(1) == "[[" else 0
            seen[current] = count
            in_table = current == want and (index is None or count == index)
            if in_table:
                header_line = no
            continue
        if in_table and key_re is not None and key_re.match(line):
            return no
    if key is not None and want and index is None:  # a dotted key in the parent table: severity.LIM003 = ..
        dotted = re.compile(r"^\s*" + re.escape(want[-1]) + r"\s*\.\s*\"?" + re.escape(key) + r"\"?\s*=")
        for no, line in enumerate(text.splitlines(), 1):
            if dotted.match(line):
                return no
    if header_line is None and want:  # an inline table or array (severity = {...}, waivers = [...]): its key
        parent = re.compile(r"^\s*[\"']?" + re.escape(want[-1]) + r"[\"']?\s*=")
        for no, line in enumerate(text.splitlines(), 1):
            if parent.match(line):
                return no
    return header_line


# --- checking every key ----------------------------------------------------------------------------------
class _Checker:
    def __init__(self, path: Path, text: str, prefix: tuple[str, ...]) -> None:
        self.path, self.text, self.prefix = path, text, prefix

    def fail(self, table: tuple[str | int, ...], key: str | None, message: str) -> ConfigError:
        return ConfigError(self.path, key_line(self.text, self.prefix + table, key), message)

    def known(self, data: dict[str, Any], table: tuple[str | int, ...], allowed: tuple[str, ...]) -> None:
        for key in data:
            if key not in allowed:
                where = ".".join(str(t) for t in self.prefix + table if isinstance(t, str))
                raise self.fail(table, key, f"unknown key {key!r}{' in [' + where + ']' if where else ''} "
                                            f"(known: {', '.join(allowed)})")

    def strings(self, data: dict[str, Any], table: tuple[str | int, ...], key: str) -> list[str] | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(table, key, f"{key} must be a list of non-empty strings")
        return [v.strip() for v in value]

    def rule_keys(self, data: dict[str, Any], table: tuple[str | int, ...], key: str) -> list[str] | None:
        keys = self.strings(data, table, key)
        if keys is None:
            return None
        from preflight.rules import ALL_RULES
        from preflight.rules import _named as named

        for k in keys:
            if not any(named(r, [k]) for r in ALL_RULES):
                raise self.fail(table, key, f"{key}: no rule matches {k!r} (`preflight rules` lists them)")
        return keys

    def integer(self, data: dict[str, Any], table: tuple[str | int, ...], key: str) -> int | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.fail(table, key, f"{key} must be an integer >= 1, got {value!r}")
        return value

    def severity(self, data: dict[str, Any], table: tuple[str | int, ...]) -> dict[str, str]:
        value = data.get("severity")
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(table, "severity", "severity must be a table: [severity] RULE = \"error\"")
        from preflight.rules import find_rule

        out: dict[str, str] = {}
        sub = (*table, "severity")
        for key, level in value.items():
            rule = find_rule(key)
            if rule is None:
                raise self.fail(sub, key, f"severity: no rule {key!r} (a rule id or slug; `preflight rules`)")
            if rule.ID == "INS001":
                raise self.fail(sub, key, "severity: INS001 cannot be changed (an unreachable host hides every fact)")
            if level not in SEVERITIES:
                raise self.fail(sub, key, f"severity of {key} must be one of {', '.join(SEVERITIES)}, got {level!r}")
            out[rule.ID] = level
        return out

    def peers(self, data: dict[str, Any], table: tuple[str | int, ...]) -> list[str] | None:
        from preflight.access.spec import HostSpecError, check_host

        peers = self.strings(data, table, "peers")
        for p in peers or []:
            try:  # as --peer: a peer goes into a pseudo-DESTURI
                check_host(p.strip("[]"))
            except HostSpecError as exc:
                raise self.fail(table, "peers", f"peers: {escape_control(str(exc), keep_newlines=False)}") from None
        return peers


TOP_KEYS = ("select", "ignore", "severity", "concurrency", "peers", "fail-on", "baseline", "paths", "waivers")
PATH_KEYS = ("root", "select", "ignore", "severity", "concurrency", "peers")
WAIVER_KEYS = ("rule", "host", "subject", "reason", "expires")


def _build(path: Path, text: str, data: dict[str, Any], prefix: tuple[str, ...]) -> Config:
    c = _Checker(path, text, prefix)
    base = path.resolve().parent
    c.known(data, (), TOP_KEYS)
    cfg = Config(select=c.rule_keys(data, (), "select") or [], ignore=c.rule_keys(data, (), "ignore") or [],
                 severity=c.severity(data, ()), concurrency=c.integer(data, (), "concurrency"),
                 peers=c.peers(data, ()) or [])
    fail_on = data.get("fail-on")
    if fail_on is not None and fail_on not in FAIL_ON:
        raise c.fail((), "fail-on", f"fail-on must be one of {', '.join(FAIL_ON)}, got {fail_on!r}")
    cfg.fail_on = fail_on
    baseline = data.get("baseline")
    if baseline is not None:
        if not isinstance(baseline, str) or not baseline:
            raise c.fail((), "baseline", "baseline must be a file name (relative to this file)")
        cfg.baseline = base / baseline
    cfg.paths = [_path_entry(c, base, entry, i) for i, entry in enumerate(_tables(c, data, "paths"))]
    for i, entry in enumerate(cfg.paths):  # two entries for one root: which one's settings apply is a guess
        first = next((e for e in cfg.paths[:i] if e.root == entry.root), None)
        if first is not None:
            raise c.fail(("paths", i), None, f"[[paths]] root {escape_control(str(entry.root), keep_newlines=False)} "
                                             f"is already configured at {first.origin}: merge the two entries")
    cfg.waivers = waivers_from(c, base, _tables(c, data, "waivers"))
    return cfg


def _tables(c: _Checker, data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise c.fail((), key, f"{key} must be an array of tables: [[{key}]]")
    return value


def _path_entry(c: _Checker, base: Path, entry: dict[str, Any], i: int) -> PathConfig:
    table: tuple[str | int, ...] = ("paths", i)
    c.known(entry, table, PATH_KEYS)
    root = entry.get("root")
    if not isinstance(root, str) or not root:
        raise c.fail(table, "root" if "root" in entry else None, "[[paths]] needs root = \"DIR\" (an image root)")
    return PathConfig(root=(base / root).resolve(), select=c.rule_keys(entry, table, "select"),
                      ignore=c.rule_keys(entry, table, "ignore") or [], severity=c.severity(entry, table),
                      concurrency=c.integer(entry, table, "concurrency"), peers=c.peers(entry, table),
                      origin=f"{c.path}:{key_line(c.text, c.prefix + table, None) or '?'}")


def waivers_from(c: _Checker, base: Path, entries: list[dict[str, Any]]) -> list[Waiver]:
    from preflight.rules import find_rule

    out = []
    for i, entry in enumerate(entries):
        table: tuple[str | int, ...] = ("waivers", i)
        c.known(entry, table, WAIVER_KEYS)
        rule = find_rule(entry["rule"]) if isinstance(entry.get("rule"), str) else None
        if rule is None:
            raise c.fail(table, "rule" if "rule" in entry else None,
                         f"waiver: rule must name one rule (id or slug), got {entry.get('rule')!r}")
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise c.fail(table, "reason" if "reason" in entry else None,
                         f"waiver for {rule.ID}: reason = \"...\" is required (why this is accepted)")
        for key in ("host", "subject"):
            if key in entry and (not isinstance(entry[key], str) or not entry[key]):
                raise c.fail(table, key, f"waiver for {rule.ID}: {key} must be a non-empty string")
        expires = entry.get("expires")
        if expires is not None and (isinstance(expires, datetime.datetime) or not isinstance(expires, datetime.date)):
            raise c.fail(table, "expires", f"waiver for {rule.ID}: expires must be a date (expires = 2027-01-31)")
        shown = escape_control(reason.strip(), keep_newlines=False)[:500]  # printed and put in every report
        out.append(Waiver(rule=rule.ID, reason=shown, host=entry.get("host"), subject=entry.get("subject"),
                          expires=expires, base=base,
                          origin=f"{c.path}:{key_line(c.text, c.prefix + table, None) or '?'}"))
    return out


def load_waiver_file(path: Path) -> list[Waiver]:
    """A baseline file (``[[waivers]]`` tables only, as `preflight baseline` writes it)."""
    text = _read(path)
    data = parse_toml(path, text)
    c = _Checker(path, text, ())
    c.known(data, (), ("waivers",))
    return waivers_from(c, path.resolve().parent, _tables(c, data, "waivers"))
