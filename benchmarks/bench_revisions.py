"""Two revisions side by side on this machine, interleaved: did a refactor slow the check down?

    .venv/bin/python -m benchmarks.bench_revisions OLD [NEW] [--rounds 15]

OLD and NEW are git revisions (NEW defaults to the working tree), each extracted with ``git
archive`` and imported from its own directory (PYTHONPATH) with this venv's interpreter. Per round,
for each revision: gather.sh on this machine as that revision's local access runs it (no lab, no
ssh: the script alone), ``preflight check`` in image mode on examples/ (the working tree's, the
same input for both: interpreter, imports, typer, image reads, rules, JSON), and ``import
preflight.cli`` alone. Prints min and median of each. Not a timed test; noise on a shared 2-core
machine is a few ms, so compare medians of many rounds. No root needed (root reads more files).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

TOP = Path(__file__).resolve().parents[1]
EXAMPLES = TOP / "examples"

# Run inside a revision's directory: print the argv its LocalAccess would run for one full gather.
CAPTURE = r"""
import json, sys
from preflight.access import local as L
from preflight.gather import script

class Stop(Exception):
    pass

got = {}

def capture(self, text, timeout, args=()):
    got["argv"] = L.sh_argv(text, args, False) if hasattr(L, "sh_argv") else \
        ["sh", "-c", L.sh_command(text, args, False)]
    raise Stop()

L.LocalAccess.run_script = capture
access = L.LocalAccess.__new__(L.LocalAccess)
access.commands_run = 0
access.options = type("Options", (), {"sudo": False})()
try:
    script.run_gather(access, names=["host2.example.com"], paths=[])
except Stop:
    pass
json.dump(got["argv"], sys.stdout)
"""


def extract(rev: str, into: Path) -> Path:
    data = subprocess.run(["git", "-C", str(TOP), "archive", rev], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(into, filter="tar")
    return into


def env_for(root: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(root), "NO_COLOR": "1"}


def check_argv() -> list[str]:
    return [sys.executable, "-m", "preflight.cli", "check", "--live", "guest1-rhel6-64",
            "qemu+ssh://host2.example.com/system", "--concurrency", "12",
            "--source", str(EXAMPLES / "host1"), "--source-libvirt", f"test://{EXAMPLES / 'host1.xml'}",
            "--dest", str(EXAMPLES / "host2"), "--dest-libvirt", f"test://{EXAMPLES / 'host2.xml'}",
            "--format", "json"]


def timed(argv: list[str], root: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, capture_output=True, cwd=root, env=env_for(root))
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("old")
    ap.add_argument("new", nargs="?", default=None, help="default: the working tree")
    ap.add_argument("--rounds", type=int, default=15)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="preflight-revs-") as tmp:
        roots = {a.old: extract(a.old, Path(tmp) / "old")}
        roots[a.new or "working tree"] = extract(a.new, Path(tmp) / "new") if a.new else TOP
        gather = {}
        for rev, root in roots.items():
            out = subprocess.run([sys.executable, "-c", CAPTURE], capture_output=True, text=True, cwd=root,
                                 env=env_for(root), check=True)
            gather[rev] = json.loads(out.stdout)
        jobs = {"gather.sh (local, alone)": lambda rev: gather[rev],
                "check, image mode (examples/)": lambda rev: check_argv(),
                "import preflight.cli": lambda rev: [sys.executable, "-c", "import preflight.cli"]}
        times: dict[tuple[str, str], list[float]] = {(j, r): [] for j in jobs for r in roots}
        for argv in jobs.values():  # warm-up: page cache, .pyc files
            for rev, root in roots.items():
                timed(argv(rev), root)
        for _ in range(a.rounds):
            for job, argv in jobs.items():
                for rev, root in roots.items():
                    times[(job, rev)].append(timed(argv(rev), root))
    print(f"{a.rounds} interleaved rounds; load average after: {os.getloadavg()[0]:.2f}")
    print(f"| what | {' | '.join(roots)} |\n|---|{'---|' * len(roots)}")
    for job in jobs:
        cells = [f"{statistics.median(times[(job, r)]):.3f} s (min {min(times[(job, r)]):.3f})" for r in roots]
        print(f"| {job} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
