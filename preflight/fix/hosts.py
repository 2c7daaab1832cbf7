"""The source's /etc/hosts: the destination's names lead to the destination (NET001).

A name already on a line that points elsewhere (loopback, the source itself)
is repaired on that line through Augeas (the line's address changed when all
its names are the destination's, else the name removed from it) rather than
contradicted by a second line; a missing name is added as one new line in
the style of the file's last entry (tab or aligned spaces).
"""

from __future__ import annotations

import re
from collections import Counter

import augeas

from preflight.access.spec import HostSpecError, check_host
from preflight.fix.context import FixContext
from preflight.fix.model import FileChange, FixPlan, NotFixed
from preflight.fix.textstyle import LineStyle
from preflight.fix.tree import node_at_line
from preflight.model import probes as P
from preflight.model.facts import Availability
from preflight.model.findings import ParseError, Scope
from preflight.parsers.augeas_util import augeas_text, edit_text, parse_text
from preflight.parsers.hosts import LENS, HostsFile, parse_hosts
from preflight.rulekit import Context
from preflight.rules import net001_dest_name_resolves, rule_of
from preflight.view.names import dest_address, is_ip

NET001 = rule_of(net001_dest_name_resolves)
RULES = (NET001,)
SRC = Scope.SOURCE
_ENTRY = re.compile(r"\s*(\S+)(\s+)(\S+)(?:([ \t]+)(?!#)\S)?")


def fix(fc: FixContext, out: FixPlan) -> None:
    found = [f for f in fc.failing(RULES, SRC) if f.subject]
    if not found:
        return
    names = list(dict.fromkeys(f.subject for f in found if f.subject))
    # the names come from the hosts (a hostile /etc/hostname): only a valid host name is ever written
    bad = [n for n in names if not _valid_name(n)]
    if bad:
        out.not_fixed += [NotFixed(f, f"{f.subject!r} is not a valid host name; not written to {P.ETC_HOSTS}")
                          for f in found if f.subject in bad]
        found, names = [f for f in found if f.subject not in bad], [n for n in names if n not in bad]
        if not found:
            return
    choice = dest_address(fc.ctx.plan, fc.ctx.source, fc.ctx.dest, fc.dest_address)
    if choice.address is None:
        out.not_fixed += [NotFixed(f, choice.why, needs=choice.needs) for f in found]
        return
    addr, addr_why = choice.address, choice.why
    probe = fc.ctx.source.snap.probe(P.file_key(P.ETC_HOSTS))
    if not probe.ok and probe.status is not Availability.MISSING:
        out.not_fixed += [NotFixed(f, f"{P.ETC_HOSTS} could not be read: {probe.reason()}") for f in found]
        return
    old = probe.text if probe.ok else None
    try:
        new, reasons = _fixed_text(old or "", names, addr, addr_why, _dest_names(fc.ctx, names))
    except ParseError as exc:
        out.not_fixed += [NotFixed(f, f"{exc.file}:{exc.line or '?'}: {exc.message}: left untouched")
                          for f in found]
        return
    fc.handle(found)
    out.changes.append(FileChange(SRC.value, P.ETC_HOSTS, old, new, [NET001.id], reasons))


def _dest_names(ctx: Context, names: list[str]) -> set[str]:
    """Names that belong to the destination: a line holding only these may be re-pointed."""
    out = {n.lower() for n in names}
    if ctx.dest.hostname.ok:
        out.add(ctx.dest.hostname.get().lower())
    out |= {n.split(".", 1)[0] for n in out if not is_ip(n)}
    return out


def _fixed_text(old: str, names: list[str], addr: str, addr_why: str, dest_names: set[str]) -> tuple[str, list[str]]:
    style = LineStyle.of(old)
    text = style.normalise(old)
    parsed = parse_hosts(text)
    reasons = [f"{', '.join(names)} -> {addr} ({addr_why})"]
    repairs: dict[int, set[str]] = {}  # line -> names to drop; empty set: re-point the line
    for name in names:
        entries = parsed.lookup(name)
        if entries and entries[0].address == addr:
            continue
        for e in entries:
            if e.address == addr:
                continue
            if all(n.lower() in dest_names for n in e.names):
                repairs[e.line] = set()
                reasons.append(f"line {e.line} ({e.address} {' '.join(e.names)}) named the destination with "
                               f"another address: its address changed to {addr}")
            elif e.line not in repairs or repairs[e.line]:
                repairs.setdefault(e.line, set()).add(name.lower())
                reasons.append(f"line {e.line} ({e.address} {' '.join(e.names)}) also names {name} for another "
                               f"host: {name} removed from it")
    if repairs:
        parse_text(LENS, augeas_text(text, P.ETC_HOSTS), P.ETC_HOSTS)  # a clean file:line error before editing
        text = edit_text(LENS, text, P.ETC_HOSTS, lambda aug, root: _repair(aug, root, text, repairs, addr))
    after = parse_hosts(text)
    missing = [n for n in names if not after.lookup(n) or after.lookup(n)[0].address != addr]
    if missing:
        line = _new_line(text, after, addr, missing)
        text += line + "\n"
        reasons.append(f"added {line.strip()!r} at the end, in the style of the file's last entry")
    # Keep CRLF only if the project's reader (and so the next check) sees the same entries with it.
    convert = style.crlf and _names_of(parse_hosts(style.restore(text))) != _names_of(parse_hosts(text))
    if convert:
        reasons.append("line endings CRLF -> LF: glibc reads both, but preflight's reader (Augeas) took the CR "
                       "as part of the last name")
    return style.restore(text, keep_crlf=not convert), reasons


def _names_of(hosts: HostsFile) -> list[tuple[str, list[str]]]:
    return [(e.address, e.names) for e in hosts.entries]


def _repair(aug: augeas.Augeas, root: str, text: str, repairs: dict[int, set[str]], addr: str) -> None:
    for line, drop in repairs.items():
        node = node_at_line(aug, f"{root}/*[ipaddr]", augeas_text(text), line)
        if node is None:
            raise ParseError(P.ETC_HOSTS, line, "no hosts entry found on this line")
        if not drop:
            aug.set(f"{node}/ipaddr", addr)
            continue
        for child in aug.match(f"{node}/canonical") + aug.match(f"{node}/alias"):
            if (aug.get(child) or "").lower() in drop:
                aug.remove(child)
        if not aug.match(f"{node}/canonical"):
            aug.rename(aug.match(f"{node}/alias")[0], "canonical")


def _new_line(text: str, hosts: HostsFile, addr: str, names: list[str]) -> str:
    """``addr`` and ``names`` laid out like the file's last entry: a tab, or spaces up to the name column
    most space-separated entries share (two spaces when the address does not fit before it)."""
    lines = text.split("\n")  # the parser numbers lines at LF only
    shapes = [m for e in hosts.entries if (m := _ENTRY.match(lines[e.line - 1]))]
    if not shapes:
        return f"{addr}  {' '.join(names)}"
    last = shapes[-1]
    between = last.group(4) or " "
    if "\t" in last.group(2):
        return addr + last.group(2) + between.join(names)
    columns = Counter(len(m.group(1)) + len(m.group(2)) for m in shapes if "\t" not in m.group(2))
    fitting = [c for c, _ in columns.most_common() if c > len(addr)]
    pad = fitting[0] - len(addr) if fitting else 2
    return addr + " " * pad + between.join(names)


def _valid_name(name: str) -> bool:
    try:
        check_host(name)
    except HostSpecError:
        return False
    return ":" not in name  # an address is not a name to add
