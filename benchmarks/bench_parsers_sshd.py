"""Benchmark of the sshd_config parser (issue 12, item 5: linear, < 1 s for 100k lines): not a timed test.

    .venv/bin/python -m benchmarks.bench_parsers_sshd [--lines 100000] [--runs 5]

Parses generated sshd_configs of N lines (comments; settings; quoted arguments with CR line ends;
Match blocks; N lines spread over drop-ins that one Include glob reaches) and an Include loop of
three drop-ins that include each other's directory (sshd: "Too many recursive configuration
includes"). Prints the best of ``--runs`` per shape, and the 10k -> 100k ratio (10 = linear).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from preflight.parsers.sshd import parse_sshd

MAIN = "/etc/ssh/sshd_config"
Files = dict[str, str | None]


def comments(n: int) -> Files:
    return {MAIN: "# a comment line, as in the stock file\n" * n}


def settings(n: int) -> Files:
    return {MAIN: "".join(f"MaxSessions {i % 50 + 1}\n" for i in range(n))}


def quoted_crlf(n: int) -> Files:
    return {MAIN: "".join(f'AcceptEnv "LC_{i}" X # c\r\n' for i in range(n))}


def match_blocks(n: int) -> Files:
    return {MAIN: "".join(f"Match User u{i}\n  MaxSessions 3\n" for i in range(n // 2))}


def dropins(n: int) -> Files:
    files: Files = {MAIN: "Include /etc/ssh/sshd_config.d/*.conf\n"}
    per = 1000
    for k in range(max(1, n // per)):
        files[f"/etc/ssh/sshd_config.d/{k:05}.conf"] = "".join(f"PermitRootLogin no # {i}\n" for i in range(per))
    return files


def include_loop(n: int) -> Files:
    files: Files = {MAIN: "Include /etc/ssh/d/*.conf\n"}
    for name in "abc":
        files[f"/etc/ssh/d/{name}.conf"] = "Include /etc/ssh/d/*.conf\nMaxStartups 2\n" + "# pad\n" * (n // 3)
    return files


SHAPES: dict[str, Callable[[int], Files]] = {
    "comments": comments,
    "settings": settings,
    "quoted_crlf": quoted_crlf,
    "match_blocks": match_blocks,
    "dropins": dropins,
    "include_loop": include_loop,
}


def best(files: Files, runs: int) -> tuple[float, float]:
    """(wall, CPU) seconds, the best of ``runs``: CPU time is what the parse costs when other
    processes share the machine's cores."""
    wall, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        parse_sshd(files, MAIN, "OpenSSH_9.2p1")
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return min(wall), min(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    small = max(1, args.lines // 10)
    print(f"{'shape':<14}{small:>7} lines (wall/CPU){args.lines:>8} lines (wall/CPU)  ratio (CPU)")
    worst = worst_cpu = 0.0
    for name, make in SHAPES.items():
        (w_small, c_small), (w_big, c_big) = best(make(small), args.runs), best(make(args.lines), args.runs)
        worst, worst_cpu = max(worst, w_big), max(worst_cpu, c_big)
        ratio = c_big / c_small if c_small else float("nan")
        print(f"{name:<14}{w_small:>9.3f} s /{c_small:>6.3f} s{w_big:>12.3f} s /{c_big:>6.3f} s{ratio:>9.1f}")
    print(f"slowest {args.lines}-line parse: {worst:.3f} s wall, {worst_cpu:.3f} s CPU (target < 1 s)")


if __name__ == "__main__":
    main()
