"""Benchmark of `preflight lint` on one image root (issue 9: <= 100 ms wall after interpreter start-up).

    .venv/bin/python -m benchmarks.bench_lint [--root examples/host1] [--runs 7]

Each run is a fresh interpreter (as a CI job runs it); the child takes the time right after start-up
(before importing preflight) and again when the command has rendered its report (json, to
/dev/null), so imports, the image read, judging and rendering are counted, interpreter start-up is
not. Also prints the same command once more in the same process (warm: imports and lenses loaded).
The floor every command pays (`preflight rules`: the CLI and the rule modules imported) is measured
in between, so a loaded machine shows in both figures. Not a timed test: prints the median and best.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

TOP = Path(__file__).resolve().parents[1]

CHILD = r"""
import time, sys, os
t0 = time.perf_counter()
from preflight.cli import app
def once():
    out = os.dup(1); fd = os.open(os.devnull, os.O_WRONLY); os.dup2(fd, 1)
    try:
        app(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
    finally:
        sys.stdout.flush(); os.dup2(out, 1); os.close(fd); os.close(out)
    return code
code = once()
cold = time.perf_counter() - t0
t1 = time.perf_counter()
once()
warm = time.perf_counter() - t1
print(f"{cold:.6f} {warm:.6f} {code}")
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=str(TOP / "examples" / "host1"))
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--peer", default="host1.example.com,host2.example.com")
    args = ap.parse_args()
    cmd = ["lint", args.root, "--no-config", "--concurrency", "12", "--peer", args.peer, "--format", "json"]
    cold, warm, floor = [], [], []
    for _ in range(args.runs):
        out = subprocess.run([sys.executable, "-c", CHILD, *cmd], capture_output=True, text=True, cwd=TOP,
                             check=False)
        c, w, code = out.stdout.split()
        cold.append(float(c) * 1000)
        warm.append(float(w) * 1000)
        # the floor every command pays (the CLI and the rule modules imported), measured alongside: the
        # machine's load moves both
        rules = subprocess.run([sys.executable, "-c", CHILD, "rules"], capture_output=True, text=True, cwd=TOP,
                               check=False)
        floor.append(float(rules.stdout.split()[0]) * 1000)
    print(f"preflight {' '.join(cmd)}  (exit {code})")
    print(f"floor (`preflight rules`: imports only): median {statistics.median(floor):.1f} ms, "
          f"best {min(floor):.1f} ms")
    print(f"after start-up (imports + gather + judge + render): median {statistics.median(cold):.1f} ms, "
          f"best {min(cold):.1f} ms over {args.runs} fresh interpreters")
    print(f"warm (second run in the same process): median {statistics.median(warm):.1f} ms, best {min(warm):.1f} ms")


if __name__ == "__main__":
    main()
