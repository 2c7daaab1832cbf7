"""`preflight evacuate` on crafted snapshots (a cold try): it answered a guest memory in other digits
with a traceback (exit 4), and READY on '١٢' KiB; each test failed before its fix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.rule_checks.factory import baseline, guest

TOP = Path(__file__).resolve().parents[2]
XML = ("<domain type='qemu'><name>g1</name><currentMemory unit='KiB'>{v}</currentMemory>"
       "<os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type></os><devices/></domain>")


def evacuate(tmp_path: Path, memory: str) -> subprocess.CompletedProcess[str]:
    src, dst = baseline()
    src.guests = [guest(xml=XML.format(v=memory))]
    s, d = tmp_path / "s.json", tmp_path / "d.json"
    s.write_text(src.build().to_json())
    d.write_text(dst.build().to_json())
    return subprocess.run([sys.executable, "-m", "preflight.cli", "evacuate", "ssh://root@host1.example.com",
                           "--to", "ssh://root@host2.example.com", "--source-facts", str(s), "--dest-facts", str(d)],
                          capture_output=True, text=True, cwd=TOP, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"})


@pytest.mark.parametrize("memory", ["\u00b2", "\u0661\u0662", "9" * 5000])
def test_evacuate_with_a_memory_that_is_not_a_size_places_nothing_and_does_not_crash(tmp_path: Path,
                                                                                        memory: str) -> None:
    out = evacuate(tmp_path, memory)
    assert out.returncode not in (0, 4), (out.returncode, out.stdout, out.stderr)
    assert "internal error" not in out.stderr and ": UNKNOWN" in out.stdout, out.stdout
    assert "not a size" in out.stdout and "9" * 100 not in out.stdout, out.stdout  # the value shown is bounded


def test_evacuate_of_the_same_guest_with_a_real_size_is_ready(tmp_path: Path) -> None:
    out = evacuate(tmp_path, "65536")
    assert out.returncode == 0 and ": READY" in out.stdout, (out.stdout, out.stderr)
