"""The agreement table: what `preflight check` predicted vs what `virsh migrate` did."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

RESULTS = Path(os.environ.get("PREFLIGHT_AGREEMENT_FILE", "out/agreement.md"))


@dataclass
class Row:
    scenario: str
    predicted: str  # ready | not-ready | unknown
    rules: str  # failing error rules (and warnings, marked ~)
    outcome: str  # "ok" or the first error line
    agree: bool
    expected: str = ""  # the rules the scenario expects to fail when NOT READY


ROWS: list[Row] = []


def table() -> str:
    lines = ["| scenario | predicted | rules | expected rules | real outcome | agree |",
             "|---|---|---|---|---|---|"]
    for r in ROWS:
        outcome = r.outcome.replace("|", "/")[:110]
        lines.append(f"| {r.scenario} | {r.predicted} | {r.rules or '-'} | {r.expected or '-'} | {outcome} | "
                     f"{'yes' if r.agree else '**NO**'} |")
    return "\n".join(lines) + "\n"


def write() -> Path:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("# preflight check vs real migrations (lab)\n\n" + table())
    return RESULTS
