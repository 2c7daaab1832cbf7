"""Benchmark of the /etc/hosts and libvirt config parsers (issue 12, "parsers linear in input size").

    python -m benchmarks.bench_parsers_hosts_libvirt [--runs 5] [--old]

Parses generated files of 1k, 10k and 100k lines (an ad-block style /etc/hosts with comments,
aliases, IPv6 and CRLF lines; a libvirtd.conf of commented defaults, settings, lists and
triple-quoted strings) and prints the best of ``--runs`` wall times per size, the time per line
and the ratio to the previous size (10x the lines should cost about 10x: linear). ``--old`` also
times the parsers of commit 18a7f53 (Augeas based) on the 1k and 10k files, for comparison
(the issue measured 14.8 s for a 10k-line /etc/hosts). Target: 100k lines < 1 s each.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from preflight.parsers.hosts import parse_hosts  # noqa: E402
from preflight.parsers.libvirtconf import parse_libvirt_conf  # noqa: E402

SIZES = (1_000, 10_000, 100_000)
OLD_COMMIT = "18a7f53"


def hosts_text(lines: int) -> str:
    out = ["127.0.0.1\tlocalhost\n", "::1\tlocalhost ip6-localhost ip6-loopback\n"]
    for i in range(lines - 2):
        if i % 50 == 0:
            out.append(f"# block list section {i // 50}\n")
        elif i % 97 == 0:
            out.append(f"fd00::{i % 65536:x}  v6host{i}.example.net v6host{i}\r\n")
        else:
            out.append(f"0.0.0.0 ads{i}.tracker{i % 113}.example.com ads{i}   # added {i % 28}\n")
    return "".join(out)


def libvirt_text(lines: int) -> str:
    out = []
    for i in range(lines):
        kind = i % 10
        if kind < 6:
            out.append(f"#max_clients_{i} = {i}   # a commented default\n")
        elif kind == 6:
            out.append(f"key_{i} = {i}\n")
        elif kind == 7:
            out.append(f'str_{i} = "value {i}"; other_{i} = \'{i}\'\n')
        elif kind == 8:
            out.append(f'list_{i} = [ "a", [ {i}, -{i} ],\n')
        else:
            out.append('  "b" ]\n')
    return "".join(out)


def best(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Best CPU time of this process (other load on the machine does not count) and best wall time."""
    cpu, wall = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
    return min(cpu), min(wall)


def old_module(name: str) -> ModuleType:
    """The parser module as it was at OLD_COMMIT, imported under another name."""
    source = subprocess.run(["git", "-C", str(REPO), "show", f"{OLD_COMMIT}:preflight/parsers/{name}.py"],
                            capture_output=True, text=True, check=True).stdout
    spec = importlib.util.spec_from_loader(f"old_{name}", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    exec(compile(source, f"{OLD_COMMIT}:{name}.py", "exec"), module.__dict__)  # noqa: S102 - our own history
    return module


def report(label: str, fn: Callable[[str], object], make: Callable[[int], str], sizes: tuple[int, ...],
           runs: int) -> None:
    previous = None
    for size in sizes:
        text = make(size)
        took, wall = best(lambda text=text: fn(text), runs)  # type: ignore[misc]
        ratio = f"  x{took / previous:.1f} for 10x the lines" if previous else ""
        print(f"{label:<28} {size:>7} lines {len(text) / 1e6:6.2f} MB  cpu {took:7.3f} s  wall {wall:7.3f} s  "
              f"{took / size * 1e6:6.2f} us/line{ratio}", flush=True)
        previous = took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--old", action="store_true", help=f"also time the parsers of {OLD_COMMIT}")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, best of {args.runs} runs")
    report("parse_hosts", lambda t: parse_hosts(t), hosts_text, SIZES, args.runs)
    report("parse_libvirt_conf", lambda t: parse_libvirt_conf(t, "/etc/libvirt/libvirtd.conf"), libvirt_text,
           SIZES, args.runs)
    big = hosts_text(100_000)
    first, _ = best(lambda: parse_hosts(big).lookup("ads5.tracker5.example.com"), args.runs)
    hosts = parse_hosts(big)
    hosts.lookup("localhost")
    again, _ = best(lambda: hosts.lookup("ADS99998.tracker86.example.com"), args.runs)
    print(f"{'parse + first lookup':<28}  100000 lines           cpu {first:7.3f} s  (the name index is built once)")
    print(f"{'a further lookup':<28}  100000 lines           cpu {again * 1e6:7.1f} us")
    if args.old:  # the Augeas-era libvirt parser refuses this text at its first ';': only hosts is compared
        old_hosts = old_module("hosts")
        report(f"parse_hosts @{OLD_COMMIT}", lambda t: old_hosts.parse_hosts(t), hosts_text, (1_000, 10_000), 1)


if __name__ == "__main__":
    main()
