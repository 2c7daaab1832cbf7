"""Rule documentation from the rule modules: ``preflight explain``'s plain text, docs/rules.md, helpUri.

The rule modules are the one source: their docstrings (``ID slug — summary`` then sections
whose bodies are indented) and constants (severities, fix applicability, NEEDS, SEED).
docs/rules.md is generated, never edited by hand (tests/cli/test_rule_docs.py fails when it
is stale)::

    python -m preflight.report.ruledocs > docs/rules.md

Anchors are GitHub's own slugs of the headings ``NET001 dest-name-resolves``, i.e.
``#net001-dest-name-resolves``: stable while a rule keeps its id and slug. SARIF's ``helpUri``
(an absolute URI: SARIF 3.49.12, schema format ``uri``) is :data:`DOCS_URL` + that anchor;
``PREFLIGHT_DOCS_URL`` points it at another copy (a mirror, a fork, a pinned tag).
"""

from __future__ import annotations

import os
import re
import sys
import textwrap
from collections.abc import Iterable
from urllib.parse import urlsplit

from preflight.rulekit import Applicability, Rule

# The project's published rule docs. Placeholder until the repository is public: keep it equal to
# [project.urls] Documentation in pyproject.toml (a test compares them); one edit of each moves it.
DOCS_URL = "https://github.com/migration-preflight/migration-preflight/blob/main/docs/rules.md"
DOCS_URL_ENV = "PREFLIGHT_DOCS_URL"
REGENERATE = "python -m preflight.report.ruledocs > docs/rules.md"

_FIX_WORDS = {
    Applicability.SAFE: "safe — `preflight fix` writes the edit; it changes nothing but the judged value",
    Applicability.UNSAFE: "unsafe — `preflight fix` writes an edit to review (a limit raised, a name added)",
    Applicability.DISPLAY_ONLY: "display-only — advice only, no edit is written",
}


def docs_url() -> str:
    """Where docs/rules.md is published: ``PREFLIGHT_DOCS_URL`` when it is an absolute http(s) URL."""
    override = os.environ.get(DOCS_URL_ENV, "").strip()
    parts = urlsplit(override) if override else None
    if parts is not None and parts.scheme in ("http", "https") and parts.netloc and not parts.fragment \
            and not any(c.isspace() or ord(c) < 0x20 for c in override):
        return override
    return DOCS_URL


def anchor(rule: Rule) -> str:
    """GitHub's slug of the rule's heading (lower case; the id and slug hold only [a-z0-9-])."""
    return f"{rule.ID.lower()}-{rule.NAME}"


def help_uri(rule: Rule) -> str:
    return f"{docs_url()}#{anchor(rule)}"


def summary(rule: Rule) -> str:
    """The docstring's first line without ``ID slug —``."""
    first = (rule.docs.splitlines() or [rule.NAME])[0]
    return first.split(" — ", 1)[-1].strip()


# ---- plain text (explain, SARIF text fields) ----

def plain_doc(doc: str) -> str:
    """A rule docstring as plain text: reST ``literals``, *emphasis* and ``::`` block markers dropped."""
    text = re.sub(r"``([^`]+)``", r"\1", doc)
    text = re.sub(r"(?<![\w*])\*([^*\s][^*]*?)\*(?![\w*])", r"\1", text)
    text = re.sub(r"::$", ":", text, flags=re.M)
    return re.sub(r" :$", "", text, flags=re.M)


# ---- Markdown (docs/rules.md) ----

# ``reST literal``, `Markdown code` (seeds use it) and *emphasis*
_INLINE = re.compile(r"``(?P<code>[^`]+)``|(?<!`)`(?P<code1>[^`]+)`(?!`)|(?<![\w*])\*(?P<em>[^*\s][^*]*?)\*(?![\w*])")
_MD_SPECIAL = re.compile(r"([\\`*_<>\[\]|])")


def _escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _code(text: str) -> str:
    return f"`{text}`"  # never holds a backtick: the reST literal pattern excludes it


def inline(text: str) -> str:
    """reST inline markup as Markdown; everything else escaped (``<my hostname>`` is not HTML)."""
    out, pos = [], 0
    for m in _INLINE.finditer(text):
        out.append(_escape(text[pos:m.start()]))
        code = m["code"] if m["code"] is not None else m["code1"]
        out.append(_code(code) if code is not None else f"*{_escape(m['em'])}*")
        pos = m.end()
    out.append(_escape(text[pos:]))
    return "".join(out)


def _sections(doc: str) -> list[tuple[str, list[str]]]:
    """(heading, dedented body lines) for each section after the first line."""
    found: list[tuple[str, list[str]]] = []
    for line in doc.splitlines()[1:]:
        if line and not line[0].isspace():
            found.append((line.strip(), []))
        elif found:
            found[-1][1].append(line)
        elif line.strip():  # text before any heading: a section without one
            found.append(("", [line]))
    return [(head, textwrap.dedent("\n".join(body)).strip("\n").splitlines()) for head, body in found]


def _body(lines: list[str]) -> list[str]:
    """Markdown lines for a section body: prose (paragraphs, ``- `` lists) inline-converted as a
    whole, so a literal may span lines; a reST literal block (after a line ending in ``::``) fenced."""
    out: list[str] = []
    prose: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.rstrip().endswith("::"):
            prose.append(line)
            continue
        prose.append(line.rstrip()[:-1].rstrip(":").rstrip() + ":")
        block: list[str] = []
        while i < len(lines) and (not lines[i].strip() or lines[i].startswith((" ", "\t"))):
            block.append(lines[i])
            i += 1
        out += inline("\n".join(prose)).split("\n")
        prose = []
        out += ["", "```", *textwrap.dedent("\n".join(block)).strip("\n").splitlines(), "```", ""]
    out += inline("\n".join(prose)).split("\n") if prose else []
    while out and not out[-1].strip():
        out.pop()
    return [line.rstrip() for line in out]


def _cell(text: str) -> str:
    return text.replace("\n", " ")


def rule_markdown(rule: Rule) -> str:
    from preflight.report.words import reference

    severities = ", ".join(s.value for s in rule.SEVERITIES)
    rows = [
        ("Severity", f"{rule.SEVERITY.value} (default)"
         + (f"; its findings can carry {severities}" if len(rule.SEVERITIES) > 1 else "")),
        ("Fix", _FIX_WORDS[rule.FIX]),
        ("Facts read", ", ".join(_code(n) for n in rule.NEEDS) or "none"),
    ]
    if rule.TAGS:
        rows.append(("Tags", ", ".join(_code(t) for t in rule.TAGS)))
    ref = reference(rule.SEED)
    if ref:
        rows.append(("Comes from", inline(ref)))
    text = summary(rule)
    lines = [f"### {rule.ID} {rule.NAME}", "", inline(text[:1].upper() + text[1:]), "", "| | |", "|---|---|"]
    lines += [f"| {name} | {_cell(value)} |" for name, value in rows]
    for head, body in _sections(rule.docs):
        lines.append("")
        if head:
            lines += [f"**{inline(head)}**", ""]
        lines += _body(body)
    lines += ["", f"`preflight explain {rule.ID}` prints this in a terminal.", ""]
    return "\n".join(lines)


def render(rules: Iterable[Rule] | None = None) -> str:
    """docs/rules.md: an index table, then one section per rule, in report order."""
    if rules is None:
        from preflight.rules import ALL_RULES

        rules = ALL_RULES
    rules = list(rules)
    head = [
        "# Rules",
        "",
        "<!-- Generated from the rule modules (rules/*.py); do not edit. Regenerate with:",
        f"     {REGENERATE} -->",
        "",
        "Every rule `preflight check` judges, in report order: what it checks, why it breaks a live",
        "migration, how to fix it, and what it does when it cannot see. `preflight explain ID` prints",
        "the same text; `preflight rules` lists them in one line each. SARIF reports link each rule",
        "here (`helpUri`).",
        "",
        "| Rule | Slug | Severity | Fix | Summary |",
        "|---|---|---|---|---|",
    ]
    for r in rules:
        sev = "/".join(s.value for s in r.SEVERITIES)
        head.append(f"| [{r.ID}](#{anchor(r)}) | {r.NAME} | {sev} | {r.FIX.value} | {_cell(inline(summary(r)))} |")
    body = [rule_markdown(r) for r in rules]
    return "\n".join(head) + "\n\n" + "\n".join(body)


def main() -> None:
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
