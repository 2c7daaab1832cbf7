"""docs/rules.md is generated from the rule modules and kept current; explain is plain text; helpUri."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from preflight.report import ruledocs
from preflight.rules import ALL_RULES
from tests.cli.test_cli import TOP, preflight

DOCS = TOP / "docs" / "rules.md"


def github_slug(heading: str) -> str:
    """GitHub's heading anchor (github-slugger): lower case, punctuation but '-' dropped, spaces to '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_docs_rules_md_is_current() -> None:
    expected = ruledocs.render()
    actual = DOCS.read_text(encoding="utf-8") if DOCS.is_file() else ""
    assert actual == expected, (
        f"docs/rules.md is stale (a rule's docstring or constants changed); regenerate it: {ruledocs.REGENERATE}")


def test_module_entry_point_prints_the_docs() -> None:
    out = subprocess.run([sys.executable, "-m", "preflight.report.ruledocs"], capture_output=True, text=True,
                         cwd=TOP, timeout=60, check=True)
    assert out.stdout == ruledocs.render()


def test_every_rule_has_a_stable_anchor_and_its_sections() -> None:
    text = ruledocs.render()
    headings = re.findall(r"^### (.+)$", text, flags=re.M)
    assert [github_slug(h) for h in headings] == [ruledocs.anchor(r) for r in ALL_RULES]
    assert ruledocs.anchor(ALL_RULES[1]) == "net001-dest-name-resolves"
    assert len(set(headings)) == len(headings)
    for rule in ALL_RULES:
        section = text.split(f"### {rule.ID} {rule.NAME}\n", 1)[1].split("\n### ", 1)[0]
        assert f"](#{ruledocs.anchor(rule)})" in text  # the index links it
        for needed in rule.NEEDS:
            assert f"`{needed}`" in section
        assert rule.FIX.value in section and rule.SEVERITY.value in section
        if rule.SEED:
            assert "Comes from" in section
        if rule.ID != "INS001":
            assert "**Why it breaks a migration**" in section or "**Why it matters**" in section, rule.ID


def test_markdown_escapes_and_literal_blocks() -> None:
    # NET001's "tcp://<my hostname>:49152" must not become an HTML tag; GST002's '::' block is fenced.
    text = ruledocs.render()
    assert "<my hostname>" not in text and r"\<my hostname\>" in text
    gst002 = text.split("### GST002", 1)[1].split("\n### ", 1)[0]
    assert "```\nvirsh dumpxml GUEST > GUEST.xml\n" in gst002 and "shows::" not in gst002
    assert ruledocs.inline("a ``x_y`` and *b* c_d <e>") == r"a `x_y` and *b* c\_d \<e\>"


def test_explain_has_no_rest_markup() -> None:
    for rule in ALL_RULES:
        plain = ruledocs.plain_doc(rule.docs)
        assert "``" not in plain, rule.ID
        assert not re.search(r"::$", plain, flags=re.M), rule.ID
        assert not re.search(r"(?<![\w*])\*\w[^*\n]*\*(?![\w*])", plain), rule.ID
    out = preflight("explain", "NET005")
    assert out.returncode == 0 and "give an unknown at warning level" in out.stdout


def test_help_uri_is_absolute_and_matches_pyproject(monkeypatch: pytest.MonkeyPatch) -> None:
    # the [project.urls] table (a regex: tomllib is 3.11+, the project supports 3.10)
    table = (TOP / "pyproject.toml").read_text().split("\n[project.urls]\n", 1)[1].split("\n[", 1)[0]
    assert re.search(r'^Documentation = "([^"]+)"$', table, flags=re.M)[1] == ruledocs.DOCS_URL  # type: ignore[index]
    monkeypatch.delenv(ruledocs.DOCS_URL_ENV, raising=False)
    assert ruledocs.help_uri(ALL_RULES[1]) == ruledocs.DOCS_URL + "#net001-dest-name-resolves"
    monkeypatch.setenv(ruledocs.DOCS_URL_ENV, "https://git.example.org/x/blob/v1/docs/rules.md")
    assert ruledocs.help_uri(ALL_RULES[1]) == "https://git.example.org/x/blob/v1/docs/rules.md#net001-dest-name-resolves"
    for bad in ("docs/rules.md", "javascript:alert(1)", "https://a b/", "https://x/y#frag", "https:///nohost"):
        monkeypatch.setenv(ruledocs.DOCS_URL_ENV, bad)
        assert ruledocs.docs_url() == ruledocs.DOCS_URL, bad
