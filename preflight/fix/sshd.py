"""sshd_config: MaxStartups / PerSourceMaxStartups raised only as far as the plan needs.

Where the line goes is decided with the project's own reading of sshd
(preflight.parsers.sshd: Include expanded, the version's keyword precedence):
a line that sshd already uses is changed where it stands; a new one goes into
a drop-in only when the main file Includes a directory and the simulated
config shows the drop-in's value winning, else into the main file after the
commented-out default, before the first Match block (MaxStartups is refused
inside Match). Every result is re-read to confirm sshd would use the new value.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from typing import Callable

import augeas

from preflight.fix.context import CIS, FixContext
from preflight.fix.model import FileChange, FixPlan, NotFixed
from preflight.fix.templates import render
from preflight.fix.textstyle import LineStyle
from preflight.fix.tree import node_at_line, quoted
from preflight.model import probes as P
from preflight.model.findings import Finding, ParseError, Scope
from preflight.parsers.augeas_util import augeas_text, edit_text
from preflight.parsers.sshd import FIRST, LENS, SshdConfig, include_targets, parse_sshd, precedence
from preflight.rules import rule_of, ssh001_max_startups, ssh002_per_source_max_startups
from preflight.sizing import (
    CIS_MAX_STARTUPS,
    MAX_STARTUPS_CAP,
    SSH_MARGIN,
    format_max_startups,
    max_startups_start_within,
    recommended_max_startups_start,
)
from preflight.view import HostView
from preflight.view.sshd import max_startups, max_startups_target, per_source_limit, per_source_target, sshd_value

SSH001, SSH002 = rule_of(ssh001_max_startups), rule_of(ssh002_per_source_max_startups)
RULES = (SSH001, SSH002)
DROPIN_NAME = "preflight-migration.conf"
DST = Scope.DESTINATION


def fix(fc: FixContext, out: FixPlan) -> None:
    found = fc.failing(RULES, DST)
    if not found:
        return
    host = fc.ctx.dest
    cfg = host.sshd_config
    if not cfg.ok or cfg.get().errors:
        why = cfg.reason if not cfg.ok else _located(cfg.get().errors[0]) + ": left untouched"
        out.not_fixed += [NotFixed(f, f"sshd_config cannot be edited: {why}") for f in found]
        return
    wanted: dict[str, str] = {}
    reasons: list[str] = []
    for f in found:
        got = _max_startups(fc, host, f, out) if f.rule == SSH001.id else _per_source(fc, host, f, out)
        if got is not None:
            wanted[got[0]] = got[1]
            reasons.append(got[2])
            fc.handle([f])
    if not wanted:
        return
    originals = files_of(host)
    styles = {p: LineStyle.of(t) for p, t in originals.items()}
    texts = {p: styles[p].normalise(t) for p, t in originals.items()}
    try:
        new, where = _place(texts, cfg.get(), wanted)
    except ParseError as exc:
        out.not_fixed += [NotFixed(f, f"{exc.file}:{exc.line or '?'}: {exc.message}: left untouched") for f in found]
        return
    check = parse_sshd(new, cfg.get().main, cfg.get().version)
    for keyword, value in wanted.items():
        got_setting = check.effective(keyword)
        if got_setting is None or got_setting.value != value:
            out.not_fixed += [NotFixed(f, f"could not place {keyword} {value} so that sshd uses it "
                                          f"(simulated: {got_setting.value if got_setting else 'default'})")
                              for f in found]
            return
    service = f"systemctl reload {_service(host)}"
    rules = sorted({f.rule for f in found})
    for path, text in new.items():
        old = originals.get(path)
        final = styles[path].restore(text) if path in styles else text
        if old != final:
            out.changes.append(FileChange(DST.value, path, old, final, rules, reasons + where, service))


def _max_startups(fc: FixContext, host: HostView, finding: Finding, out: FixPlan) -> tuple[str, str, str] | None:
    fact = sshd_value(host, "MaxStartups")
    if not fact.ok:
        out.not_fixed.append(NotFixed(finding, f"MaxStartups: {fact.reason}"))
        return None
    v = fact.get()
    start, rate, full = max_startups(v)
    n = fc.ctx.plan.n_concurrent
    cap, capped_by = MAX_STARTUPS_CAP, "the project's cap: a high start defeats sshd's DoS protection"
    if fc.policy == CIS:
        cap, capped_by = CIS_MAX_STARTUPS[0], "--policy cis (CIS: MaxStartups 10:30:60 or stricter)"
    new_start = max_startups_start_within(n, cap)
    if new_start is None:
        why = (f"{n} concurrent ssh migrations need MaxStartups start >= {n}, beyond {capped_by}; not loosened")
        out.not_fixed.append(NotFixed(finding, why))
        if fc.policy == CIS:
            out.notes.append(_cis_alternatives(fc, host, n, start, cap))
        return None
    new_full = max(full, new_start)
    value = max_startups_target((start, rate, full), n, cap) or format_max_startups(new_start, rate, new_full)
    rec = recommended_max_startups_start(n)
    margin = (f"{n} concurrent ssh migrations + margin {SSH_MARGIN} for operator logins"
              if new_start == rec else f"{n} concurrent ssh migrations, margin cut to {new_start - n} by {capped_by}")
    why = (f"MaxStartups {start}:{rate}:{full} ({v.where()}) -> {value}: start {new_start} = {margin}; "
           f"not past {cap}, {capped_by}; rate {rate} kept; full {new_full} (>= start); written in the "
           "three-part form, since a lone N would keep an earlier line's rate")
    return "MaxStartups", value, why


def _per_source(fc: FixContext, host: HostView, finding: Finding, out: FixPlan) -> tuple[str, str, str] | None:
    fact = sshd_value(host, "PerSourceMaxStartups")
    if not fact.ok:
        out.not_fixed.append(NotFixed(finding, f"PerSourceMaxStartups: {fact.reason}"))
        return None
    n = fc.ctx.plan.n_concurrent
    value = str(per_source_target(n))
    old = per_source_limit(fact.get())  # the number SSH002 judged (None: no limit, so no failure)
    shown = "none" if old is None else old
    return ("PerSourceMaxStartups", value, f"PerSourceMaxStartups {shown} -> {value}: every migration comes from "
            f"the one source address: {n} at once + margin {SSH_MARGIN}")


def _cis_alternatives(fc: FixContext, host: HostView, n: int, start: int, cap: int) -> str:
    src = next((a for a in fc.ctx.source.addresses.value or [] if not a.startswith(("127.", "::1"))),
               "SOURCE_ADDRESS")
    dest_addr = next((a for a in host.addresses.value or [] if not a.startswith(("127.", "::1"))), "DEST_ADDRESS")
    batch = max(1, min(start, cap) - SSH_MARGIN)
    instance = render("sshd-migration-instance.conf.j2", source=src, listen=dest_addr, port=2222,
                      start=recommended_max_startups_start(n), n=n)
    return (f"--policy cis: MaxStartups stays within 10:30:60; {n} concurrent ssh migrations do not fit. "
            "Narrower alternatives:\n"
            f"  1. migrate in batches of at most {batch} (--concurrency {batch}; start {min(start, cap)} minus "
            f"the margin {SSH_MARGIN});\n"
            "  2. a Match block for the source cannot help: sshd refuses MaxStartups and PerSourceMaxStartups "
            "inside Match (OpenSSH 9.2: \"Directive 'MaxStartups' is not allowed within a Match block\"); "
            "PerSourceMaxStartups only narrows each address's share, it cannot raise the total;\n"
            "  3. a second sshd only for the migration peers, firewalled to the source, with its own limit "
            f"(use qemu+ssh://DEST:2222/system), e.g. /etc/ssh/sshd_config.migration:\n"
            + "".join(f"       {line}\n" for line in instance.splitlines()))


def files_of(host: HostView) -> dict[str, str]:
    """The sshd files gathered from the host: the main file and what its Include lines reach."""
    index = host.text(P.SSHD_FILES)
    paths = [P.SSHD_CONFIG] + ([p for p in index.get().splitlines() if p.strip()] if index.ok else [])
    out = {}
    for path in paths:
        got = host.file(path)
        if got.ok:
            out[path] = got.get()
    return out


def _service(host: HostView) -> str:
    osr = host.os_release.value
    family = {osr.id or ""} | set(osr.id_like) if osr else set()
    return "ssh" if family & {"debian", "ubuntu"} else "sshd"


def _place(files: dict[str, str], cfg: SshdConfig, wanted: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    new = dict(files)
    where: list[str] = []
    fresh: dict[str, str] = {}
    for keyword, value in wanted.items():
        prec = precedence(keyword, cfg.version)
        rule = f"{'first' if prec.kind == FIRST else 'last'} line wins ({prec.basis}, OpenSSH {cfg.version or '?'})"
        placed = cfg.effective(keyword)
        if placed is None:
            fresh[keyword] = value
            continue
        new[placed.file] = _edit_line(new[placed.file], placed.file, keyword, placed.line, value)
        where.append(f"{keyword}: changed where it stands, {placed.file}:{placed.line}, the line sshd uses "
                     f"({keyword}: {rule})")
    if fresh:
        dropin = _dropin(new, cfg, fresh)
        if dropin is not None:
            new[dropin] = render("sshd-dropin.conf.j2", settings=fresh)
            where.append(f"{', '.join(fresh)}: new drop-in {dropin} (rendered from templates/sshd-dropin.conf.j2): "
                         "the main file Includes it and no other line sets these keywords, so it wins")
        else:
            for keyword, value in fresh.items():
                new[cfg.main], how = _insert(new[cfg.main], cfg.main, keyword, value)
                where.append(f"{keyword}: {how} in {cfg.main}")
    return new, where


def _dropin(files: dict[str, str], cfg: SshdConfig, fresh: dict[str, str]) -> str | None:
    """A drop-in path the main file Includes, when the simulated config shows it winning."""
    first = all(precedence(k, cfg.version).kind == FIRST for k in fresh)
    name = ("00-" if first else "99-") + DROPIN_NAME
    for pattern in include_targets(files[cfg.main], cfg.main):
        directory, base = posixpath.split(pattern)
        if any(ch in directory for ch in "*?[") or not fnmatch.fnmatchcase(name, base):
            continue
        if ".." in directory.split("/"):  # a new file there could not be confined: use the main file
            continue
        candidate = posixpath.join(directory, name)
        trial = {**files, candidate: render("sshd-dropin.conf.j2", settings=fresh)}
        seen = parse_sshd(trial, cfg.main, cfg.version)
        if not seen.errors and all((s := seen.effective(k)) is not None and s.file == candidate and s.value == v
                                   for k, v in fresh.items()):
            return candidate
    return None


def _edit_line(text: str, path: str, keyword: str, line: int, value: str) -> str:
    def edit(aug: augeas.Augeas, root: str) -> None:
        node = node_at_line(aug, f"{root}/*", augeas_text(text, path), line)
        if node is None or (aug.label(node) or "").lower() != keyword.lower():
            raise ValueError(f"{path}:{line}: no {keyword} line to change")
        old = aug.get(node) or ""
        comment = re.search(r"\s+#.*$", old)  # sshd ends a line at a word starting with '#'
        aug.set(node, value + (comment.group(0) if comment else ""))

    return _edit(text, path, edit)


def _insert(text: str, path: str, keyword: str, value: str) -> tuple[str, str]:
    how: list[str] = []

    def edit(aug: augeas.Augeas, root: str) -> None:
        # Top-level comments all precede the first Match block (the lens puts later ones inside it).
        comments = aug.match(f"{root}/#comment[. =~ regexp('{quoted(keyword)}([ \t=].*)?', 'i')]")
        matches = aug.match(f"{root}/Match")
        if comments:
            aug.insert(comments[0], keyword, False)
            how.append("added after its commented-out default")
        elif matches:
            # after the last global line, so it stays with them, above the blank line before Match
            settings = [p for p in aug.match(f"{root}/*") if aug.label(p) not in ("#comment", "Match")]
            aug.insert(settings[-1] if settings else matches[0], keyword, not settings)
            how.append("added before the first Match block")
        else:
            how.append("added at the end")
        aug.set(f"{root}/{keyword}", value)

    return _edit(text, path, edit), how[0]


def _edit(text: str, path: str, edit: Callable[[augeas.Augeas, str], None]) -> str:
    return edit_text(LENS, text, path, edit)


def _located(err: ParseError) -> str:
    where = f"{err.file}:{err.line}" if err.line else err.file
    return f"{where}: {err.message}"
