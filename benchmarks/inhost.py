"""The pieces of the benchmark that run INSIDE lab host1 (started by benchmarks/bench_check.py).

    python benchmarks/inhost.py timed VARIANT [TREE]   time one variant as a child process (check_rev: run
                                                    from the git worktree TREE); print one JSON line
    python benchmarks/inhost.py floor [--literal] | naive | traced | importtime | save-facts   (the children)

Every child prints one JSON line on stdout. `timed` measures the child's wall time from here (inside
host1), so the nsenter that enters the host is not part of any figure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PY = sys.executable

GUEST = "g1"
DEST = "host2"
DEST_URI = f"qemu+ssh://{DEST}/system"
CHECK_ARGV = ["preflight", "check", "--live", GUEST, DEST_URI, "--format", "json"]
REPLAY_DIR = "/run/lab/bench-facts"  # /run is the host's own tmpfs
SSH_OPTS = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"]

pc = time.perf_counter


def _json_tail(text: str) -> Any:
    """The last JSON document of a child's stdout (the report is one pretty-printed document)."""
    text = text.strip()
    try:
        return json.loads(text)
    except ValueError:
        return json.loads(text.splitlines()[-1])


# ---------------------------------------------------------------------------------------------------
# 1. the floor: per host one command channel + one libvirt connection open, in threads
# ---------------------------------------------------------------------------------------------------
def floor(literal: bool) -> dict[str, Any]:
    """Default (strict) floor: the four independent operations all in parallel, host1 local (as the
    check treats the source): `sh -c true` + openReadOnly(qemu:///system); host2: `ssh host2 true` +
    openReadOnly(qemu+ssh://host2/system).
    --literal: the issue's wording: hosts in parallel, per host `ssh HOST true` THEN the libvirt open
    (host1 also over ssh to itself)."""
    t_start = pc()
    import libvirt  # part of the floor: any tool that opens libvirt pays it

    libvirt.registerErrorHandler(lambda *_: None, None)
    t_imported = pc()
    parts: dict[str, float] = {}

    def timed(name: str, fn: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            s = pc()
            fn()
            parts[name] = round(pc() - s, 4)

        return run

    def sh_true() -> None:
        subprocess.run(["sh", "-c", "true"], check=True)

    def ssh_true(host: str) -> Callable[[], None]:
        return lambda: subprocess.run(["ssh", *SSH_OPTS, host, "true"], check=True, stdin=subprocess.DEVNULL)

    def virt_open(uri: str) -> Callable[[], None]:
        return lambda: libvirt.openReadOnly(uri).close()

    if literal:

        def host1() -> None:
            timed("host1 ssh true", ssh_true("host1"))()
            timed("host1 libvirt open qemu:///system", virt_open("qemu:///system"))()

        def host2() -> None:
            timed("host2 ssh true", ssh_true(DEST))()
            timed("host2 libvirt open qemu+ssh", virt_open(DEST_URI))()

        jobs = [host1, host2]
    else:
        jobs = [
            timed("host1 sh -c true", sh_true),
            timed("host1 libvirt open qemu:///system", virt_open("qemu:///system")),
            timed("host2 ssh true", ssh_true(DEST)),
            timed("host2 libvirt open qemu+ssh", virt_open(DEST_URI)),
        ]
    t0 = pc()
    with ThreadPoolExecutor(len(jobs)) as pool:
        for f in [pool.submit(j) for j in jobs]:
            f.result()
    t1 = pc()
    return {"inner": round(t1 - t0, 4), "import_libvirt": round(t_imported - t_start, 4), "parts": parts}


# ---------------------------------------------------------------------------------------------------
# 2. the naive way: pytest-testinfra, one remote command per check
# ---------------------------------------------------------------------------------------------------
FILES = [
    "/etc/hosts",
    "/etc/hostname",
    "/etc/os-release",
    "/etc/redhat-release",
    "/etc/machine-id",
    "/etc/libvirt/libvirtd.conf",
    "/etc/libvirt/virtqemud.conf",
    "/etc/libvirt/virtproxyd.conf",
    "/etc/libvirt/qemu.conf",
    "/etc/ssh/sshd_config",
]


def naive_commands(is_source: bool, names: list[str], paths: list[str]) -> list[str]:
    """Roughly one command per probe of preflight/model/probes.py (see RESULTS.md for the list)."""
    cmds = [f"cat {f}" for f in FILES]  # 10 file probes
    cmds += [
        "grep -i '^[[:space:]]*include' /etc/ssh/sshd_config",  # sshd-files index
        "sh -c 'ls -1 /etc/ssh/sshd_config.d/*.conf 2>/dev/null'",
    ]
    cmds += ["hostname", "hostname -f", "ip -o addr show", "sshd -T", "sshd -V"]  # names, sshd
    cmds += [
        f"dpkg-query -W -f='${{Package}}\\t${{Version}}\\n' {p}"  # packages (3 products)
        for p in ("libvirt-daemon", "qemu-system-x86", "openssh-server")
    ]
    cmds += [f"pidof {d}" for d in ("libvirtd", "virtqemud", "virtproxyd")]  # daemons
    cmds += [
        "virt-admin -c libvirtd:///system srv-clients-info libvirtd",  # live limits
        "virt-admin -c libvirtd:///system srv-threadpool-info libvirtd",
    ]
    cmds += ["cat /proc/self/mountinfo"]  # mounts
    if is_source:
        cmds += [f"getent ahosts {n}" for n in names]  # name resolution
    for p in paths:  # disk identity
        cmds += [f"stat -L -c '%d %i %s %Y %Z' {p}", f"head -c 65536 {p} | sha256sum"]
    return cmds


def libvirt_facts_raw(uri: str) -> dict[str, Any]:
    """What the check reads from libvirt, with plain libvirt-python calls."""
    import xml.etree.ElementTree as ET

    import libvirt

    conn = libvirt.openReadOnly(uri)
    try:
        facts: dict[str, Any] = {
            "type": conn.getType(),
            "version": conn.getVersion(),
            "lib": conn.getLibVersion(),
            "hostname": conn.getHostname(),
            "caps": len(conn.getCapabilities()),
            "guests": {},
        }
        for dom in conn.listAllDomains(0):
            xml = dom.XMLDesc(0)
            disks = [s.get("file") for s in ET.fromstring(xml).iterfind("devices/disk/source") if s.get("file")]
            facts["guests"][dom.name()] = {
                "state": dom.state()[0],
                "persistent": dom.isPersistent(),
                "uuid": dom.UUIDString(),
                "disks": disks,
            }
        return facts
    finally:
        conn.close()


def naive() -> dict[str, Any]:
    """host1 with testinfra's local backend (as the check treats the source), host2 with testinfra's
    ssh backend as shipped (`ssh://host2`: ControlMaster=auto but no ControlPath, so no reuse).
    Hosts in parallel (threads), commands one after the other per host (a testinfra test suite)."""
    t_start = pc()
    import libvirt
    import testinfra

    libvirt.registerErrorHandler(lambda *_: None, None)
    t_imported = pc()
    hosts = {"host1": testinfra.get_host("local://"), "host2": testinfra.get_host(f"ssh://{DEST}")}
    uris = {"host1": "qemu:///system", "host2": DEST_URI}
    counts: dict[str, int] = {}
    times: dict[str, float] = {}
    t0 = pc()
    with ThreadPoolExecutor(2) as pool:
        lv = dict(zip(uris, pool.map(lambda h: libvirt_facts_raw(uris[h]), uris)))
        t_lv = pc()
        paths = sorted({d for g in lv["host1"]["guests"].values() for d in g["disks"]})
        names = list(dict.fromkeys([DEST, lv["host2"]["hostname"]]))

        def run_host(h: str) -> None:
            s = pc()
            cmds = naive_commands(h == "host1", names, paths)
            for c in cmds:
                out = hosts[h].run(c)
                _ = out.stdout  # decoded as a check would (the first decode asks the host its encoding)
            counts[h] = len(cmds) + (1 if h == "host2" else 0)  # + testinfra's remote encoding query
            times[h] = round(pc() - s, 4)

        for f in [pool.submit(run_host, h) for h in hosts]:
            f.result()
    t1 = pc()
    return {
        "inner": round(t1 - t0, 4),
        "import": round(t_imported - t_start, 4),
        "libvirt": round(t_lv - t0, 4),
        "commands_per_host_seconds": times,
        "remote_commands": counts,
    }


# ---------------------------------------------------------------------------------------------------
# 3. where the check's time goes: the real `preflight check` run in this process with timing hooks
# ---------------------------------------------------------------------------------------------------
def traced(spawned: float) -> dict[str, Any]:
    """Run preflight.cli.main() for CHECK_ARGV with the pieces of preflight.gather.pair wrapped in timers.

    ``spawned`` is the parent's time.monotonic() just before it started this process (CLOCK_MONOTONIC
    is system-wide), so every mark is seconds since the command was launched."""
    t_ready = time.monotonic()
    marks: dict[str, list[float]] = {}
    lock = threading.Lock()

    def since(t: float) -> float:
        return round(t - spawned, 4)

    def wrap(owner: Any, attr: str, label: Callable[..., str]) -> None:
        orig = getattr(owner, attr)

        def timed_call(*args: Any, **kw: Any) -> Any:
            s = time.monotonic()
            try:
                return orig(*args, **kw)
            finally:
                with lock:
                    marks.setdefault(label(*args, **kw), [since(s), since(time.monotonic())])

        setattr(owner, attr, timed_call)

    sys.path.insert(0, REPO)
    import preflight.cli as cli

    t_cli = time.monotonic()
    import preflight.inspect as insp
    from preflight.gather import pair

    def host_label(step: str) -> Callable[..., str]:
        return lambda self, *a, **k: f"{step} {self.snap.role}"

    wrap(pair._Host, "gather_libvirt", host_label("1 libvirt facts"))
    wrap(pair._Host, "connect", host_label("1 connect (ssh master; local: nothing)"))
    wrap(
        pair._Host,
        "gather",
        lambda self, names, paths, names_only=False, **_: (
            f"{'3 late names' if names_only else '2 gather.sh'} {self.snap.role}"
        ),
    )
    wrap(pair, "destination_names", lambda *a, **k: "3 destination_names (names from the dest's answers)")
    wrap(pair._Host, "finish", host_label("4 finish"))
    wrap(insp, "inspect_pair", lambda *a, **k: "B inspect_pair (gather, total)")
    wrap(cli, "build_plan", lambda *a, **k: "A check() entered: typer parsed the arguments")
    wrap(cli, "evaluate", lambda *a, **k: "C evaluate (rules, parsers)")
    wrap(cli, "render", lambda *a, **k: "D render json + write")
    out_file = "/run/lab/bench-check-out.json"
    sys.argv = ["preflight", *CHECK_ARGV[1:], "--output", out_file]
    rc = 0
    try:
        cli.app()  # not cli.main(): main() ends the process with os._exit, skipping teardown
    except SystemExit as exc:
        rc = int(exc.code or 0)
    t_end = time.monotonic()
    with open(out_file) as f:
        report = json.load(f)
    return {
        "rc": rc,
        "verdict": report["verdict"],
        "hosts": report["hosts"],
        "python_ready": since(t_ready),
        "import_cli_done": since(t_cli),
        "main_returned": since(t_end),
        "marks": marks,
    }


def importtime() -> dict[str, Any]:
    """Cumulative import time (-X importtime) of the top-level packages `preflight check` loads."""
    code = "import preflight.cli, preflight.inspect, preflight.engine, preflight.report.machine, rules"
    res = subprocess.run([PY, "-X", "importtime", "-c", code], capture_output=True, text=True, cwd=REPO)
    top: dict[str, int] = {}
    for line in res.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        try:
            _, cum, name = (x.strip() for x in line[len("import time:") :].split("|"))
            cum_us = int(cum)
        except ValueError:
            continue
        if name.startswith(" ") or "." in name.strip():
            continue  # keep top-level modules only (indentation = nesting)
        top[name.strip()] = max(top.get(name.strip(), 0), cum_us)
    best = sorted(top.items(), key=lambda kv: -kv[1])[:12]
    return {"top_level_cumulative_ms": {k: round(v / 1000, 1) for k, v in best}}


# ---------------------------------------------------------------------------------------------------
# the timer: one variant as a child process, wall time measured here
# ---------------------------------------------------------------------------------------------------
def child_argv(variant: str) -> list[str]:
    me = os.path.abspath(__file__)
    if variant == "check_rev":  # the same check, run by another revision's code (cwd and PYTHONPATH: its tree)
        return [PY, "-c", "from preflight.cli import main; main()", *CHECK_ARGV[1:]]
    return {
        "check": CHECK_ARGV,
        "check_replay": CHECK_ARGV
        + ["--source-facts", f"{REPLAY_DIR}/source.json", "--dest-facts", f"{REPLAY_DIR}/destination.json"],
        "floor": [PY, me, "floor"],
        "floor_literal": [PY, me, "floor", "--literal"],
        "naive": [PY, me, "naive"],
        "traced": [PY, me, "traced"],
        "python_startup": [PY, "-c", "pass"],
    }[variant]


def timed(variant: str, tree: str = REPO) -> dict[str, Any]:
    argv = child_argv(variant)
    s = pc()
    spawned = time.monotonic()
    extra = {"PYTHONPATH": tree} if tree != REPO else {}
    res = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        cwd=tree,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "BENCH_SPAWNED": repr(spawned), **extra},
    )
    wall = pc() - s
    out: dict[str, Any] = {"variant": variant, "wall": round(wall, 4), "rc": res.returncode}
    if res.stdout.strip():
        try:
            out["child"] = _json_tail(res.stdout)
        except ValueError:
            out["stdout_tail"] = res.stdout[-500:]
    if variant not in ("check", "check_rev") and res.returncode or not res.stdout.strip():
        out["stderr_tail"] = res.stderr[-1500:]
    return out


def main(argv: list[str]) -> int:
    mode = argv[0] if argv else ""
    if mode == "timed":
        print(json.dumps(timed(argv[1], *argv[2:3])))
    elif mode == "floor":
        print(json.dumps(floor("--literal" in argv)))
    elif mode == "naive":
        print(json.dumps(naive()))
    elif mode == "traced":
        print(json.dumps(traced(float(os.environ.get("BENCH_SPAWNED", time.monotonic())))))
    elif mode == "importtime":
        print(json.dumps(importtime()))
    elif mode == "save-facts":  # the replay's input, gathered once
        res = subprocess.run(CHECK_ARGV + ["--save-facts", REPLAY_DIR], capture_output=True, text=True)
        print(json.dumps({"rc": res.returncode, "dir": REPLAY_DIR}))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    sys.exit(main(sys.argv[1:]))
