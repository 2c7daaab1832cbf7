"""Problems found by trying `preflight evacuate` cold, as a new operator would; each test failed before its fix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]


def preflight(*args: str, columns: int = 250) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "preflight.cli", *args], capture_output=True, text=True,
                          cwd=TOP, timeout=120,
                          env={"PATH": "/usr/sbin:/usr/bin:/bin", "NO_COLOR": "1", "COLUMNS": str(columns)})


def test_help_paragraphs_reflow_to_the_terminal() -> None:
    """`evacuate --help` on a wide terminal: each paragraph is one line (typer keeps a docstring's line
    breaks, so `check --live GUEST` and `qemu+ssh://DEST/system` were printed on two lines)."""
    out = preflight("evacuate", "--help")
    assert out.returncode == 0, out.stderr
    text = out.stdout.split("╭")[0]
    assert any("`check --live GUEST qemu+ssh://DEST/system` would judge it" in line for line in text.splitlines())
    lines = [line.strip() for line in text.splitlines()]
    # a line break is the docstring's own when the next word would still have fitted on the line
    broken = [a for a, b in zip(lines, lines[1:], strict=False)
              if a and b and not a.startswith("Usage:") and len(a) + 1 + len(b.split()[0]) < 250 - 4]
    assert broken == [], broken
