"""Benchmark of `preflight check` in the two-host lab (issue 3, "Benchmark"): not a timed test.

    python -m benchmarks.bench_check [--runs 7] [--bashrc-runs 5] [--no-write]

Brings up its own lab (state in $PREFLIGHT_LAB_DIR, default /run/preflight-lab-bench, never the pytest
lab's), defines and starts guest g1 on host1 with a qcow2 disk on the shared store, then runs, from
INSIDE host1 over real SSH to host2, interleaved round by round (check, replay, floor, floor_literal,
naive, traced, python_startup; then the next round):

  check          `preflight check --live g1 qemu+ssh://host2/system --format json` (wall time, and the
                 JSON's hosts.*.gather_seconds / ssh_connections / remote_commands)
  check_replay   the same command on saved snapshots (--source-facts/--dest-facts): everything but gathering
  floor          per host one command channel + one libvirt open, all four in parallel threads
                 (host1 local like the check's source: `sh -c true` + qemu:///system;
                  host2: `ssh host2 true` + qemu+ssh://host2/system)
  floor_literal  the issue's wording: hosts in parallel, per host `ssh HOST true` then the libvirt open
  naive          pytest-testinfra, one remote command per check (host1 local backend, host2 ssh backend as
                 shipped), hosts in parallel, plus the same libvirt reads
  traced         the real `preflight check` run in-process (preflight.cli.main) with timers around the
                 pieces of preflight.gather.pair, the engine and the report: where the check's time goes
  python_startup `python -c pass`, for reference

Every figure is timed inside host1 by benchmarks/inhost.py. host2's sshd runs with `-E LOGFILE` so the
"Accepted publickey" lines per run are counted; a last pass with LogLevel DEBUG1 counts exec requests.
A final experiment copies this machine's /root/.bashrc into host2's /root (the lab's /root has none)
and measures what a per-session `pyenv init` costs each variant. The lab is always torn down.

Writes benchmarks/RESULTS.md (only the part between the MEASURED markers) and benchmarks/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.lab.lab import Lab  # noqa: E402

STATE_DIR = os.environ.get("PREFLIGHT_LAB_DIR", "/run/preflight-lab-bench")
INHOST = str(HERE / "inhost.py")
SSHD_LOG = "/run/lab/sshd-bench.log"  # host2's own tmpfs /run
VARIANTS = ("check", "check_replay", "floor", "floor_literal", "naive", "traced", "python_startup")
BEGIN, END = "<!-- BEGIN MEASURED (written by benchmarks/bench_check.py) -->", "<!-- END MEASURED -->"


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---- lab helpers ------------------------------------------------------------------------------------
def inhost(lab: Lab, *args: str, timeout: float = 300) -> dict[str, Any]:
    res = lab.exec("host1", ["python", INHOST, *args], timeout=timeout)
    if res.returncode != 0:
        raise RuntimeError(f"inhost {args}: rc {res.returncode}: {res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def restart_sshd_logged(lab: Lab, level: str = "INFO") -> None:
    """host2's sshd again, logging to a file (the lab's sshd logs to syslog, which hosts do not have)."""
    lab.stop_daemon("host2", "sshd")
    lab.exec(
        "host2",
        f"rm -f {SSHD_LOG}; mkdir -p /run/sshd && /usr/sbin/sshd -f /etc/ssh/sshd_config "
        f"-E {SSHD_LOG} -o LogLevel={level}",
        check=True,
    )


def sshd_counts(lab: Lab) -> dict[str, int]:
    text = lab.exec("host2", ["cat", SSHD_LOG]).stdout
    return {
        "accepted": len(re.findall(r"Accepted publickey for", text)),
        "exec": len(re.findall(r"server_input_channel_req: channel \d+ request exec", text)),
    }


def machine_info(lab: Lab) -> dict[str, str]:
    def out(cmd: str) -> str:
        r = lab.exec("host1", cmd)
        return (r.stdout or r.stderr).strip().splitlines()[0] if (r.stdout or r.stderr).strip() else "?"

    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        "?",
    )
    osr = dict(ln.split("=", 1) for ln in Path("/etc/os-release").read_text().splitlines() if "=" in ln)
    return {
        "os": osr.get("PRETTY_NAME", "?").strip('"'),
        "kernel": platform.release(),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "openssh": out("ssh -V 2>&1"),
        "libvirt": out("libvirtd --version"),
        "libvirt-python": out(
            "python -c 'import libvirt; v=libvirt.getVersion(); print(f\"{v//1000000}.{v//1000%1000}.{v%1000}\")'"
        ),
        "qemu": out("qemu-system-x86_64 --version"),
        "pytest-testinfra": out("python -c 'import importlib.metadata as m; print(m.version(\"pytest-testinfra\"))'"),
        "migration-preflight": out(
            "python -c 'import importlib.metadata as m; print(m.version(\"migration-preflight\"))'"
        ),
    }


def concurrency_note() -> str:
    """Other preflight labs (e.g. a pytest session's /run/preflight-lab-test) and the load average."""
    others = sorted(str(p) for p in Path("/run").glob("preflight-lab*") if str(p) != STATE_DIR)
    load = Path("/proc/loadavg").read_text().split()[:3]
    return f"load average {' '.join(load)}; other lab state dirs present: {', '.join(others) or 'none'}"


# ---- statistics ---------------------------------------------------------------------------------------
def stats(values: list[float]) -> dict[str, float]:
    v = sorted(values)
    q = statistics.quantiles(v, n=4) if len(v) >= 2 else [v[0], v[0], v[0]]
    return {"n": len(v), "median": statistics.median(v), "min": v[0], "max": v[-1], "q1": q[0], "q3": q[2]}


def fmt(s: dict[str, float], unit: str = "s", digits: int = 3) -> str:
    return (
        f"{s['median']:.{digits}f} {unit} [{s['min']:.{digits}f}–{s['max']:.{digits}f}, "
        f"IQR {s['q1']:.{digits}f}–{s['q3']:.{digits}f}]"
    )


# ---- the run ------------------------------------------------------------------------------------------
def run(runs: int, bashrc_runs: int, rev_tree: str | None = None) -> dict[str, Any]:
    lab = Lab(state_dir=STATE_DIR)
    variants = VARIANTS + (("check_rev",) if rev_tree else ())
    data: dict[str, Any] = {
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "state_dir": STATE_DIR,
        "runs": runs,
        "concurrency_before": concurrency_note(),
    }
    try:
        log(f"lab up in {STATE_DIR}")
        if not lab.up():  # left over from an interrupted run: back to baseline
            lab.reset()
        data["lab_up_seconds"] = round(lab.timings["up"], 2)
        disk = lab.define_guest("host1", "g1", disk=("shared", "g1.qcow2"))
        data["guest"] = {"name": "g1", "disk": disk, "state": lab.domstate("host1", "g1")}
        restart_sshd_logged(lab)
        data["machine"] = machine_info(lab)
        data["lab_root"] = lab.exec("host2", "ls -A /root").stdout.split()
        # warm-up (page cache, libvirt caps cache, pyc files) and the replay's input; not measured
        for v in ("check", "floor", "naive"):
            inhost(lab, "timed", v)
        inhost(lab, "save-facts")
        data["importtime"] = inhost(lab, "importtime")

        if rev_tree:
            inhost(lab, "timed", "check_rev", rev_tree)  # its .pyc files
        rows: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
        for i in range(runs):
            for v in variants:
                before = sshd_counts(lab)["accepted"]
                r = inhost(lab, "timed", v, *([rev_tree] if v == "check_rev" and rev_tree else []))
                r["accepted_publickey"] = sshd_counts(lab)["accepted"] - before
                rows[v].append(r)
            c = rows["check"][-1]
            log(
                f"round {i + 1}/{runs}: "
                + ", ".join(f"{v} {rows[v][-1]['wall']:.3f}" for v in variants)
                + f" (check verdict {c.get('child', {}).get('verdict')})"
            )
        data["rows"] = rows

        # exec requests per run: sshd at DEBUG1, one run each (not timed)
        restart_sshd_logged(lab, "DEBUG1")
        execs: dict[str, dict[str, int]] = {}
        for v in ("check", "floor", "floor_literal", "naive"):
            before = sshd_counts(lab)
            inhost(lab, "timed", v)
            after = sshd_counts(lab)
            execs[v] = {k: after[k] - before[k] for k in after}
        data["sshd_debug_counts"] = execs
        restart_sshd_logged(lab)

        if bashrc_runs:
            data["bashrc"] = bashrc_experiment(lab, bashrc_runs)
        data["concurrency_after"] = concurrency_note()
    finally:
        log("lab down")
        lab.down()
    data["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return data


BASHRC_VARIANTS = ("ssh_true", "check", "naive")


def bashrc_experiment(lab: Lab, runs: int) -> dict[str, Any]:
    """Same variants with and without this machine's /root/.bashrc (pyenv init) in host2's /root."""
    bashrc = Path("/root/.bashrc").read_text() if Path("/root/.bashrc").exists() else None
    if bashrc is None:
        return {"skipped": "this machine has no /root/.bashrc"}
    res: dict[str, dict[str, list[float]]] = {
        "without": {v: [] for v in BASHRC_VARIANTS},
        "with": {v: [] for v in BASHRC_VARIANTS},
    }
    try:
        for _ in range(runs):
            for mode in ("without", "with"):
                if mode == "with":
                    lab.write_file("host2", "/root/.bashrc", bashrc)
                else:
                    lab.exec("host2", ["rm", "-f", "/root/.bashrc"])
                for v in BASHRC_VARIANTS:
                    if v == "ssh_true":
                        r = lab.exec(
                            "host1",
                            [
                                "python",
                                "-c",
                                (
                                    "import subprocess,time;s=time.perf_counter();"
                                    "subprocess.run(['ssh','host2','true'],stderr=subprocess.DEVNULL);"
                                    "print(time.perf_counter()-s)"
                                ),
                            ],
                        )
                        res[mode][v].append(float(r.stdout.strip()))
                    else:
                        r = inhost(lab, "timed", v)
                        res[mode][v].append(r["wall"])
                        if v == "check":
                            res[mode].setdefault("check_verdicts", []).append(r.get("child", {}).get("verdict"))
    finally:
        lab.exec("host2", ["rm", "-f", "/root/.bashrc"])
    return res


# ---- the report ------------------------------------------------------------------------------------------
def summarize(data: dict[str, Any]) -> dict[str, Any]:
    rows = data["rows"]
    walls = {v: [r["wall"] for r in rows[v]] for v in rows}
    s: dict[str, Any] = {"wall": {v: stats(w) for v, w in walls.items()}}
    chk = [r["child"] for r in rows["check"]]
    s["verdicts"] = sorted({c["verdict"] for c in chk})
    s["gather_src"] = stats([c["hosts"]["source"]["gather_seconds"] for c in chk])
    s["gather_dst"] = stats([c["hosts"]["destination"]["gather_seconds"] for c in chk])
    s["gather_max"] = stats([max(c["hosts"][h]["gather_seconds"] for h in ("source", "destination")) for c in chk])
    s["json_counts"] = {
        h: sorted({(c["hosts"][h]["ssh_connections"], c["hosts"][h]["remote_commands"]) for c in chk})
        for h in ("source", "destination")
    }
    s["accepted"] = {v: sorted({r["accepted_publickey"] for r in rows[v]}) for v in rows}
    s["floor_inner"] = stats([r["child"]["inner"] for r in rows["floor"]])
    s["floor_literal_inner"] = stats([r["child"]["inner"] for r in rows["floor_literal"]])
    s["naive_inner"] = stats([r["child"]["inner"] for r in rows["naive"]])
    s["naive_commands"] = rows["naive"][0]["child"]["remote_commands"]
    s["naive_host2_cmds_seconds"] = stats([r["child"]["commands_per_host_seconds"]["host2"] for r in rows["naive"]])
    s["floor_parts"] = {
        k: stats([r["child"]["parts"][k] for r in rows["floor"]]) for k in rows["floor"][0]["child"]["parts"]
    }
    s["timeline"] = timeline([r for r in rows["traced"]])

    def paired(a: str, b: str, inner_a: Any = None, inner_b: Any = None) -> dict[str, float]:
        ra = inner_a if inner_a is not None else walls[a]
        rb = inner_b if inner_b is not None else walls[b]
        return stats([x / y for x, y in zip(ra, rb)])

    gmax = [max(c["hosts"][h]["gather_seconds"] for h in ("source", "destination")) for c in chk]
    s["ratios"] = {
        "check/floor (wall)": paired("check", "floor"),
        **({"check_rev/floor (wall): the --rev revision": paired("check_rev", "floor"),
            "check/check_rev (wall)": paired("check", "check_rev")} if "check_rev" in rows else {}),
        "check/floor_literal (wall)": paired("check", "floor_literal"),
        "gather/floor (gather_seconds max / floor inner)": paired(
            "", "", gmax, [r["child"]["inner"] for r in rows["floor"]]
        ),
        "naive/check (wall)": paired("naive", "check"),
        "naive inner/gather (naive inner / gather_seconds max)": paired(
            "", "", [r["child"]["inner"] for r in rows["naive"]], gmax
        ),
    }
    return s


def timeline(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Segments of the traced check (seconds), median over runs; marks are seconds since launch."""
    segs: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        segs.setdefault(name, []).append(round(value, 4))

    for r in rows:
        if "marks" not in r.get("child", {}):  # a failed traced run: counted out (its stderr is in the JSON)
            log(f"traced run without marks (rc {r.get('rc')}): {r.get('stderr_tail', '')[-300:]}")
            continue
        c, m = r["child"], r["child"]["marks"]
        entered = m["A check() entered: typer parsed the arguments"][0]
        ins = m["B inspect_pair (gather, total)"]
        p1_end = max(v[1] for k, v in m.items() if k.startswith("1 "))
        p2_end = max(v[1] for k, v in m.items() if k.startswith("2 "))
        fin = [v for k, v in m.items() if k.startswith("4 ")]
        add("a. interpreter start + benchmark hooks (python_ready)", c["python_ready"])
        add("b. import preflight.cli (typer, libvirt, testinfra, ...)", c["import_cli_done"] - c["python_ready"])
        add("c. typer parses the arguments (imports pydantic)", entered - c["import_cli_done"])
        add("d. gather phase 1 (libvirt x2 + ssh master, parallel)", p1_end - ins[0])
        add("e. gather phase 2 (gather.sh on both hosts, parallel)", p2_end - p1_end)
        add(
            "f. gather phase 3 (destination_names: names from the dest's answers; late names)",
            min(v[0] for v in fin) - p2_end,
        )
        add("g. gather finish (ssh -O exit)", max(v[1] for v in fin) - min(v[0] for v in fin))
        add(
            "h. evaluate (rules; Augeas parses of the configs)",
            m["C evaluate (rules, parsers)"][1] - m["C evaluate (rules, parsers)"][0],
        )
        add("i. render JSON + write", m["D render json + write"][1] - m["D render json + write"][0])
        add("j. after main() returns until the process is reaped", r["wall"] - c["main_returned"])
        add("= wall", r["wall"])
        add("(inspect_pair total)", ins[1] - ins[0])
        for k, v in m.items():
            if k[0] in "1234":
                add(f"    {k}", v[1] - v[0])
    return {k: stats(v) for k, v in segs.items()}


def markdown(data: dict[str, Any], s: dict[str, Any]) -> str:
    m = data["machine"]
    w = s["wall"]
    L: list[str] = []
    a = L.append
    a(
        f"Measured {data['started']} – {data['finished']}, {data['runs']} interleaved rounds "
        "(check, check_replay, floor, floor_literal, naive, traced, python_startup per round) "
        "after one warm-up of each."
    )
    a("")
    a("Reproduce (from /work/main, as root; about 3.5 minutes, 1 without the .bashrc experiment):")
    a("")
    a("    python -m benchmarks.bench_check --runs 7")
    a("")
    a("### Machine")
    a("")
    a("| | |")
    a("|---|---|")
    for k, v in m.items():
        a(f"| {k} | {v} |")
    a(
        f"| lab | own state dir `{data['state_dir']}`, up in {data['lab_up_seconds']} s; guest g1 "
        f"({data['guest']['state']}) with `{data['guest']['disk']}` on the shared (fuse.glusterfs) store |"
    )
    a(f"| lab /root of host2 | `{' '.join(data['lab_root'])}` (no .bashrc / .profile) |")
    a(f"| concurrency before | {data['concurrency_before']} |")
    a(f"| concurrency after | {data['concurrency_after']} |")
    a("")
    a(
        "**Noise:** this machine has 2 cores and another session may run the pytest lab at the same time; "
        "the rounds interleave the variants so each sees similar load, figures are medians with "
        "[min–max, interquartile range], and ratios are medians of the per-round ratios."
    )
    a("")
    a("### Results (wall time measured inside host1, seconds)")
    a("")
    a("| variant | what | median [min–max, IQR] |")
    a("|---|---|---|")
    desc = {
        "check": "`preflight check --live g1 qemu+ssh://host2/system --format json`",
        "check_replay": "same, on saved snapshots (`--source-facts/--dest-facts`): no gathering",
        "floor": "floor: host1 `sh -c true` + `openReadOnly(qemu:///system)`, host2 `ssh host2 true` + "
        "`openReadOnly(qemu+ssh://host2/system)`, all 4 in parallel threads (python process)",
        "floor_literal": "floor as worded: hosts in parallel, per host `ssh HOST true` then the libvirt open",
        "naive": "pytest-testinfra, one command per check (host1 `local://`, host2 `ssh://host2` as shipped), "
        "hosts in parallel + same libvirt reads",
        "traced": "the check run in-process with timers (instrumentation run, for the breakdown)",
        "python_startup": "`python -c pass` (interpreter start, for reference)",
        "check_rev": f"the same check by revision {data.get('rev')} (its git worktree), for a before/after",
    }
    for v in (v for v in (*VARIANTS, "check_rev") if v in w):
        a(f"| {v} | {desc[v]} | {fmt(w[v])} |")
    a(f"| check: gather_seconds (JSON) | source | {fmt(s['gather_src'])} |")
    a(f"| | destination | {fmt(s['gather_dst'])} |")
    a(f"| floor: work only | 4 threads, after `import libvirt` | {fmt(s['floor_inner'])} |")
    a(f"| floor_literal: work only | | {fmt(s['floor_literal_inner'])} |")
    a(f"| naive: work only | libvirt + commands | {fmt(s['naive_inner'])} |")
    a(
        f"| naive: host2's commands alone | {s['naive_commands']['host2']} ssh commands in sequence | "
        f"{fmt(s['naive_host2_cmds_seconds'])} |"
    )
    a("")
    a("### Ratios (median of per-round ratios [min–max])")
    a("")
    a("| ratio | value | target | met |")
    a("|---|---|---|---|")
    targets = {
        "check/floor (wall)": ("<= 1.3", lambda x: x <= 1.3),
        "check/floor_literal (wall)": ("<= 1.3", lambda x: x <= 1.3),
        "gather/floor (gather_seconds max / floor inner)": ("<= 1.3", lambda x: x <= 1.3),
        "naive/check (wall)": (">= 10", lambda x: x >= 10),
        "naive inner/gather (naive inner / gather_seconds max)": (">= 10", lambda x: x >= 10),
    }
    for k, r in s["ratios"].items():
        t, ok = targets.get(k, ("–", lambda x: True))
        a(f"| {k} | {r['median']:.2f} [{r['min']:.2f}–{r['max']:.2f}] | {t} | {'yes' if ok(r['median']) else 'NO'} |")
    a("")
    a("### SSH connections and remote commands per run (host2)")
    a("")
    a("| variant | `Accepted publickey` lines in host2's sshd log per run | exec requests (sshd DEBUG1 pass) |")
    a("|---|---|---|")
    dbg = data["sshd_debug_counts"]
    for v in ("check", "check_replay", "floor", "floor_literal", "naive"):
        acc = s["accepted"][v]
        a(f"| {v} | {', '.join(map(str, acc))} | {dbg.get(v, {}).get('exec', '–')} |")
    jc = s["json_counts"]
    a("")
    a(
        f"`preflight check` JSON says (ssh_connections, remote_commands): source {jc['source']}, "
        f"destination {jc['destination']}. The naive way runs {s['naive_commands']['host1']} local commands "
        f"on host1 and {s['naive_commands']['host2']} ssh commands on host2 (one is testinfra's own "
        f"encoding query), each a new ssh connection."
    )
    a("")
    a("### Where the check's time goes (`traced`: the real `preflight check`, in-process, timed pieces)")
    a("")
    a("| segment | median [min–max, IQR] |")
    a("|---|---|")
    for k, st in s["timeline"].items():
        a(f"| {k} | {fmt(st)} |")
    a(f"| check_replay wall (start + imports + typer + evaluate + render, no gather) | {fmt(w['check_replay'])} |")
    a(f"| python_startup (`python -c pass`) | {fmt(w['python_startup'])} |")
    a("")
    a("Floor parts (each operation alone, inside the floor's threads):")
    a("")
    a("| operation | median [min–max, IQR] |")
    a("|---|---|")
    for k, st in s["floor_parts"].items():
        a(f"| {k} | {fmt(st)} |")
    a("")
    it = data["importtime"]["top_level_cumulative_ms"]
    a(
        "Top-level imports of `preflight check` (`python -X importtime`, one run, cumulative ms): "
        + ", ".join(f"{k} {v}" for k, v in it.items())
        + "."
    )
    if "bashrc" in data and "without" in data["bashrc"]:
        b = data["bashrc"]
        a("")
        a("### A per-session ~/.bashrc on the destination (this machine's, with `pyenv init`)")
        a("")
        a("| variant | without .bashrc | with .bashrc | difference of medians |")
        a("|---|---|---|---|")
        for v in BASHRC_VARIANTS:
            x, y = stats(b["without"][v]), stats(b["with"][v])  # type: ignore[arg-type]
            a(f"| {v} | {fmt(x)} | {fmt(y)} | {y['median'] - x['median']:+.3f} s |")
        a("")
        a(f"check verdicts without / with: {b['without'].get('check_verdicts')} / {b['with'].get('check_verdicts')}")
    return "\n".join(L) + "\n"


def write_results(md: str, path: Path) -> None:
    block = f"{BEGIN}\n{md}{END}"
    if path.exists():
        old = path.read_text()
        if BEGIN in old and END in old:
            pre, rest = old.split(BEGIN, 1)
            post = rest.split(END, 1)[1]
            path.write_text(pre + block + post)
            return
    path.write_text("# Benchmark: `preflight check` in the two-host lab\n\n" + block + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_check",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--runs", type=int, default=7, help="interleaved rounds (>= 5 for the issue) [7]")
    ap.add_argument("--bashrc-runs", type=int, default=5, help="rounds of the .bashrc experiment (0: skip) [5]")
    ap.add_argument("--no-write", action="store_true", help="print only; do not touch RESULTS.md/results.json")
    ap.add_argument("--rev", help="also time the check of this git revision (a temporary worktree), interleaved")
    args = ap.parse_args(argv)
    if args.runs < 1:
        ap.error("--runs must be >= 1")
    tree = None
    if args.rev:
        tree = f"/tmp/bench-check-rev-{os.getpid()}"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", tree, args.rev], check=True,
                       capture_output=True)
    try:
        data = run(args.runs, args.bashrc_runs, tree)
    finally:
        if tree:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", tree], check=False,
                           capture_output=True)
    if args.rev:
        data["rev"] = args.rev
    s = summarize(data)
    md = markdown(data, s)
    print(md)
    if not args.no_write:
        (HERE / "results.json").write_text(json.dumps({"data": data, "summary": s}, indent=1, default=str))
        write_results(md, HERE / "RESULTS.md")
        log(f"wrote {HERE / 'RESULTS.md'} and {HERE / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
