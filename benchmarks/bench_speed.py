"""Side-by-side wall times of the local commands (issue 11 item 4): not a timed test.

    .venv/bin/python -m benchmarks.bench_speed [--runs 15] [--rev REV]

Each round runs every variant once as a fresh process, in turn (so a loaded machine moves them all):

  python -c pass          the interpreter's start-up (this venv's site-packages included)
  preflight rules         the CLI and every rule module imported, no host read (the old floor)
  preflight --help        the goal: <= 150 ms wall
  check (examples/run.sh) the built-in example's command line on its two image roots
  lint examples/host1     `preflight lint examples/host1 --concurrency 12`

The goals for check and lint (<= 100 ms) are "after interpreter start-up": the wall time minus the
same round's `python -c pass`. Printed: median and best (ms) of each, and of each minus start-up.
--rev REV also times the same commands from a worktree of REV (git worktree in a temp directory,
removed at the end), interleaved with the working tree, for a before/after in one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOP = Path(__file__).resolve().parents[1]


def variants(top: Path) -> dict[str, list[str]]:
    py = str(TOP / ".venv" / "bin" / "python")
    pre = [py, "-c", "from preflight.cli import main; main()"]
    ex = top / "examples"
    return {
        "python -c pass": [py, "-c", "pass"],
        "preflight rules": [*pre, "rules"],
        "preflight --help": [*pre, "--help"],
        "check (examples/run.sh)": [
            *pre, "check", "--live", "guest1-rhel6-64", "qemu+ssh://host2.example.com/system", "--concurrency", "12",
            "--source", str(ex / "host1"), "--source-libvirt", f"test://{ex / 'host1.xml'}",
            "--dest", str(ex / "host2"), "--dest-libvirt", f"test://{ex / 'host2.xml'}",
        ],
        "lint examples/host1": [*pre, "lint", str(ex / "host1"), "--concurrency", "12"],
    }


def timed(argv: list[str], cwd: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(cwd), "COLUMNS": "100"}
    s = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    return (time.perf_counter() - s) * 1000


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_speed", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--rev", help="also time this revision (a temporary git worktree), interleaved")
    args = ap.parse_args()
    trees = {"working tree": TOP}
    tmp = None
    if args.rev:
        tmp = tempfile.mkdtemp(prefix="bench-speed-")
        subprocess.run(["git", "-C", str(TOP), "worktree", "add", "--detach", tmp, args.rev], check=True,
                       capture_output=True)
        trees = {args.rev: Path(tmp), **trees}
    try:
        rows: dict[tuple[str, str], list[float]] = {}
        starts: dict[str, list[float]] = {t: [] for t in trees}
        for top in trees.values():  # warm-up: pyc files, page cache
            for argv in variants(top).values():
                timed(argv, top)
        for _ in range(args.runs):
            for tree, top in trees.items():
                for name, argv in variants(top).items():
                    ms = timed(argv, top)
                    rows.setdefault((tree, name), []).append(ms)
                    if name == "python -c pass":
                        starts[tree].append(ms)
        load = os.getloadavg()
        print(f"{args.runs} rounds, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {os.cpu_count()} CPUs")
        print(f"{'tree':<14} {'command':<26} {'median':>8} {'best':>8}   {'- start-up: median':>19} {'best':>6}")
        for (tree, name), values in rows.items():
            after = [v - s for v, s in zip(values, starts[tree], strict=True)]
            extra = "" if name == "python -c pass" else \
                f"   {statistics.median(after):>19.1f} {min(after):>6.1f}"
            print(f"{tree:<14} {name:<26} {statistics.median(values):>8.1f} {min(values):>8.1f}{extra}")
    finally:
        if tmp:
            subprocess.run(["git", "-C", str(TOP), "worktree", "remove", "--force", tmp], check=False,
                           capture_output=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
