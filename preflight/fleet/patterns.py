"""``--limit PATTERN``: the subset of Ansible's host patterns this tool implements, evaluated as Ansible does.

Implemented: host and group names, ``all`` / ``*``, shell globs (``kvm0*``, ``rack?``, ``kvm[12]``)
matched against group names and host names, ``~REGEX`` (Python ``re``, from the start of the name),
``a:b`` or ``a,b`` (union), ``&x`` (and also in x), ``!x`` (but not in x). As Ansible: plain patterns
are taken first, then every ``&``, then every ``!`` (only ``&``/``!`` patterns start from ``all``).
Refused (PatternError, a usage error): ``@FILE`` (a limit file) and subscripts (``web[0]``, ``web[0:2]``).
A pattern that matches nothing is reported by :func:`select` (Ansible warns and ignores it).
"""

from __future__ import annotations

import fnmatch
import re

from preflight.fleet.inventory import ALL, Inventory

_SUBSCRIPT = re.compile(r"^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]+)?)\]$")
_COLON_LIST = re.compile(r"(?:[^\s:\[\]]|\[[^\]]*\])+")
_SPECIAL = (".", "?", "*", "[")


class PatternError(ValueError):
    pass


def split_patterns(text: str) -> list[str]:
    """``a:b,c`` -> [a, b, c]; a colon inside ``[...]`` (a glob class) does not split."""
    if "," in text:
        parts = text.split(",")
    else:
        parts = _COLON_LIST.findall(text)
    return [p.strip() for p in parts if p.strip()]


def _check(pattern: str) -> str:
    body = pattern[1:] if pattern[:1] in ("!", "&") else pattern
    if not body:
        raise PatternError(f"{pattern!r}: an empty pattern after {pattern[:1]!r}")
    if body.startswith("@"):
        raise PatternError(f"{pattern!r}: limit files (@FILE) are not supported; list the hosts or groups")
    if _SUBSCRIPT.match(body) and not body.startswith("~"):
        raise PatternError(f"{pattern!r}: host subscripts ([N], [N:M]) are not supported; "
                           "name the hosts or use a glob")
    if body.startswith("~"):
        try:
            re.compile(body[1:])
        except re.error as exc:
            raise PatternError(f"{pattern!r}: not a regular expression: {exc}") from None
    return pattern


def _matcher(body: str) -> re.Pattern[str]:
    return re.compile(body[1:]) if body.startswith("~") else re.compile(fnmatch.translate(body))


def match_one(inv: Inventory, body: str) -> list[str]:
    """Hosts one pattern (without its ! or &) names: its groups' hosts, else (or for globs) hosts by name."""
    if body in (ALL, "*"):
        return list(inv.hosts)
    rx = _matcher(body)
    groups = [g for g in inv.groups if rx.match(g)]
    found = [h for g in groups for h in inv.group_hosts(g)]
    if not groups or body.startswith("~") or any(s in body for s in _SPECIAL):
        found += [h for h in inv.hosts if rx.match(h)]
    return list(dict.fromkeys(found))


def select(inv: Inventory, limit: str | None) -> tuple[list[str], list[str]]:
    """(hosts, patterns that matched nothing), hosts in inventory order; PatternError for what is refused."""
    if limit is None or not limit.strip():
        return list(inv.hosts), []
    patterns = [_check(p) for p in split_patterns(limit)]
    if not patterns:
        raise PatternError(f"--limit {limit!r}: no pattern")
    plain = [p for p in patterns if p[0] not in "!&"]
    ordered = (plain or [ALL]) + [p for p in patterns if p[0] == "&"] + [p for p in patterns if p[0] == "!"]
    chosen: list[str] = []
    unmatched: list[str] = []
    for p in ordered:
        if p in inv.hosts:
            that = [p]
        else:
            that = match_one(inv, p[1:] if p[0] in "!&" else p)
            if not that and p not in (ALL, "*"):
                unmatched.append(p)
        these = set(that)
        if p[0] == "!":
            chosen = [h for h in chosen if h not in these]
        elif p[0] == "&":
            chosen = [h for h in chosen if h in these]
        else:
            have = set(chosen)
            chosen += [h for h in that if h not in have]
    keep = set(chosen)
    return [h for h in inv.hosts if h in keep], unmatched
