"""Two KVM "hosts" on one machine, made of Linux namespaces, for real `virsh migrate --live` runs
(or three, with ``Lab(dir, hosts=HOSTS3)``: then the hosts' eth0s are joined by a bridge inside host1's
network namespace instead of one veth pair; everything else is the same for each host).

Each host is a PID 1 (hostinit.py) in its own network, mount, UTS, IPC and PID namespaces, with per-host
copies of /etc/libvirt, /etc/ssh, /etc/hosts, /etc/hostname, /etc/resolv.conf, /etc/os-release, /root,
/var/lib/libvirt, /var/log/libvirt, /var/cache/libvirt bind-mounted over the real ones, a private
tmpfs /run, its own sshd and libvirtd, and eth0 of a veth pair that never exists in the root namespace.
The store directory is FUSE-mounted (bindfs, subtype glusterfs, so libvirt treats it as shared) at
SHARED_DIR in both hosts; LOCAL_DIR is per host. All state lives under one directory (state.json records
the PIDs), so `down` works after a crash. Killing a host's init ends its PID namespace, and with it every
process, mount and the network namespace (and veth) of the host.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Union

from . import files
from .files import ADDRS, HOSTS, HOSTS3, LOCAL_DIR, PREFIX, SHARED_DIR

DEFAULT_DIR = Path(os.environ.get("PREFLIGHT_LAB_DIR", "/run/preflight-lab"))
HOSTINIT = Path(__file__).with_name("hostinit.py")
SYS_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BINARIES = ("unshare", "nsenter", "ip", "iptables-restore", "sshd", "ssh", "ssh-keygen", "libvirtd",
            "virsh", "qemu-system-x86_64", "qemu-img", "bindfs", "taskset")
DAEMONS = ("sshd", "libvirtd")
Cmd = Union[str, Sequence[str]]


class LabError(RuntimeError):
    pass


@dataclass(frozen=True)
class MigrationOutcome:
    guest: str
    ok: bool
    rc: int
    first_error_line: str
    seconds: float
    timed_out: bool = False
    stderr: str = ""


def clean_env(term: bool = False) -> dict[str, str]:
    """Environment of commands run inside a host; the lab's python (and its packages) is first on PATH."""
    env = {"PATH": f"{Path(sys.executable).parent}:{SYS_PATH}", "HOME": "/root", "USER": "root",
           "LOGNAME": "root", "SHELL": "/bin/sh", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    if term and "TERM" in os.environ:
        env["TERM"] = os.environ["TERM"]
    return env


def _cap_eff() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return int(line.split()[1], 16)
    return 0


def _used_root_addrs() -> set[str]:
    out = subprocess.run(["ip", "-j", "addr"], capture_output=True, text=True, check=True).stdout
    return {a["local"] for link in json.loads(out) for a in link.get("addr_info", [])}


def missing_prerequisites(hosts: Sequence[str] = HOSTS) -> list[str]:
    """Why this machine cannot build the lab of these hosts (empty list: it can)."""
    why: list[str] = []
    if os.geteuid() != 0:
        why.append("not root")
    caps = _cap_eff()
    for bit, name in ((21, "CAP_SYS_ADMIN"), (12, "CAP_NET_ADMIN")):
        if not caps >> bit & 1:
            why.append(f"no {name}")
    if not os.path.exists("/dev/fuse"):
        why.append("no /dev/fuse")
    path = f"{os.environ.get('PATH', '')}:{SYS_PATH}"
    why += [f"missing binary {b}" for b in BINARIES if not shutil.which(b, path=path)]
    if not why:
        probe = subprocess.run(["unshare", "--net", "--mount", "--uts", "--ipc", "--pid", "--fork", "true"],
                               capture_output=True, text=True, env=clean_env())
        if probe.returncode:
            why.append(f"cannot create namespaces: {probe.stderr.strip()}")
        else:
            try:
                used = _used_root_addrs() & {ADDRS[h] for h in hosts}
            except (OSError, subprocess.CalledProcessError, ValueError) as e:
                used, why = set(), [*why, f"cannot list addresses: {e}"]
            if used:
                why.append(f"lab addresses already used in the root namespace: {sorted(used)}")
    return why


def _proc_start(pid: int) -> int | None:
    """Start time of a live (non-zombie) process, None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return None if fields[0] in "ZX" else int(fields[19])


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        for children in Path(f"/proc/{p}/task").glob("*/children"):
            try:
                kids = [int(c) for c in children.read_text().split()]
            except OSError:
                continue
            found += kids
            todo += kids
    return found


def kill_command(proc: subprocess.Popen[str]) -> None:
    """Kill a command started by Lab.spawn, by PID: first what runs inside the host, so that nsenter
    (outside) reaps it (else the root namespace's slow PID 1 inherits a zombie), then its process group."""
    for pid in _descendants(proc.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        proc.wait(timeout=2)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _first_error_line(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    return next((ln for ln in lines if ln.startswith("error:")), lines[0] if lines else "")


def _clear_dir(d: Path, keep: Sequence[str] = ()) -> None:
    """Empty d (never removing d itself: it may be a bind-mount source), keeping the named children."""
    d.mkdir(parents=True, exist_ok=True)
    for child in d.iterdir():
        if child.name in keep:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def _sh(script: str, *args: str) -> list[str]:
    return ["/bin/sh", "-c", script, "lab", *args]


_PIDFILE_ALIVE = 'p=$(cat /run/"$1".pid 2>/dev/null) && kill -0 "$p" 2>/dev/null'
_START = {
    "sshd": "mkdir -p /run/sshd && /usr/sbin/sshd -f /etc/ssh/sshd_config",
    "libvirtd": (
        # Started pinned to one CPU (per host): libvirt keys its QEMU capabilities cache on the CPUID of
        # the CPU its startup ran on, and the vCPUs here differ (APIC id), so an unpinned restart re-probed
        # QEMU (1.5 s) half of the time. Widened once it answers; QEMU gets all CPUs from libvirt anyway.
        "taskset -c @CPU@ libvirtd -d -p /run/libvirtd.pid || exit 1\n"
        "i=0; until virsh -q -c qemu:///system version >/dev/null 2>&1; do  # probes QEMU once\n"
        "  i=$((i+1)); [ $i -gt 600 ] && { echo 'libvirtd does not answer' >&2; exit 1; }; sleep 0.05\n"
        "done\n"
        'taskset -a -p -c "0-$(($(nproc) - 1))" "$(cat /run/libvirtd.pid)" >/dev/null'
    ),
}
_STOP = """(p=$(cat /run/"$1".pid 2>/dev/null) || exit 0
kill "$p" 2>/dev/null || { rm -f /run/"$1".pid; exit 0; }
i=0; while kill -0 "$p" 2>/dev/null; do
  i=$((i+1)); [ $i -eq 100 ] && kill -9 "$p"; [ $i -gt 200 ] && exit 1; sleep 0.05
done
rm -f /run/"$1".pid) || exit 1"""
# Kill every process of the host except its init, bindfs and this shell; then wipe runtime state.
_KILL_ALL = """b=$(cat /run/lab/bindfs.pid)
others() {  # counts (and with "kill", kills) the others; a function, so no subshell of its own
  n=0; for d in /proc/[0-9]*; do p=${d#/proc/}; case $p in 1|$$|$b) ;; *)
    n=$((n+1)); [ "$1" = kill ] && kill -9 "$p" 2>/dev/null;; esac; done
}
others kill
i=0; while others; [ $n -gt 0 ]; do i=$((i+1)); [ $i -gt 250 ] && exit 1; sleep 0.02; done
rm -rf /run/libvirt /run/*.pid /run/lab/*.xml
"""
_NET = """ip link set lo up
if [ "$(ip -4 -o addr show dev eth0 | awk '{print $4}')" != "$1" ]; then
  ip addr flush dev eth0 && ip addr add "$1" dev eth0 || exit 1
fi
ip link set eth0 up || exit 1
printf '*filter\\n:INPUT ACCEPT\\n:FORWARD ACCEPT\\n:OUTPUT ACCEPT\\nCOMMIT\\n' | iptables-restore
hostname "$2"
"""
BRIDGE = "labnet"  # three hosts: the bridge in host1's namespace; its ports are BRIDGE-HOST
_BRIDGE = """set -e
br=$1; shift
ip link add "$br" type bridge forward_delay 0 stp_state 0
for port in "$@"; do ip link set "$port" master "$br"; ip link set "$port" up; done
ip link set "$br" up"""
_DEFINE = """set -e
if [ -n "$2" ] && [ ! -e "$2" ]; then qemu-img create -q -f qcow2 "$2" 16M; fi
cat > /run/lab/"$1".xml
virsh -q -c qemu:///system define /run/lab/"$1".xml >/dev/null
if [ "$3" = 1 ]; then virsh -q -c qemu:///system start "$1" >/dev/null; fi"""


class Lab:
    hosts: tuple[str, ...] = HOSTS

    def __init__(self, state_dir: str | os.PathLike[str] = DEFAULT_DIR, hosts: Sequence[str] = HOSTS) -> None:
        """hosts: HOSTS (two hosts joined by one veth pair, the default) or HOSTS3 (three, on a bridge)."""
        if tuple(hosts) not in (HOSTS, HOSTS3):
            raise ValueError(f"a lab has the hosts {HOSTS} or {HOSTS3}, not {tuple(hosts)}")
        self.hosts = tuple(hosts)
        self.dir = Path(state_dir)
        self.timings: dict[str, float] = {}
        self.dirty = False  # set by users (the pytest fixture) once they changed something; reset() clears
        self._procs: list[subprocess.Popen[bytes]] = []
        self._safety_net = False
        self._lock = threading.Lock()

    # ---- names ------------------------------------------------------------------------------------
    def host_addr(self, host: str) -> str:
        return ADDRS[self._check_host(host)]

    def hostname(self, host: str) -> str:
        """The host's FQDN (its UTS hostname is the short name, /etc/hosts maps both)."""
        return files.fqdn(self._check_host(host))

    def host_uuid(self, host: str) -> str:
        return files.host_uuid(self._check_host(host))

    def _check_host(self, host: str) -> str:
        if host not in self.hosts:
            raise ValueError(f"unknown lab host {host!r} (hosts: {', '.join(self.hosts)})")
        return host

    # ---- state ------------------------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.dir / "state.json"

    def _load_state(self) -> dict[str, dict[str, list[int]]]:
        try:
            state: dict[str, dict[str, list[int]]] = json.loads(self.state_file.read_text())
            return state
        except (OSError, ValueError):
            return {}

    def _record(self, host: str, role: str, pid: int) -> None:
        with self._lock:
            state = self._load_state()
            state.setdefault(host, {})[role] = [pid, _proc_start(pid) or 0]
            tmp = self.state_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(state))
            tmp.replace(self.state_file)

    def _alive(self, host: str, role: str = "init") -> int | None:
        """Root-namespace PID of the host's init (or its unshare parent) if it is alive and ours."""
        pid, start = self._load_state().get(host, {}).get(role, [0, 0])
        return pid if pid and _proc_start(pid) == start else None

    def _init_pid(self, host: str) -> int:
        pid = self._alive(self._check_host(host))
        if pid is None:
            raise LabError(f"lab host {host} is not up (state in {self.dir})")
        return pid

    def is_up(self) -> bool:
        """All our hosts alive, and no other (a three-host lab's directory is not a two-host lab)."""
        return all(self._alive(h) for h in self.hosts) and set(self._load_state()) <= set(self.hosts)

    def status(self) -> dict[str, dict[str, object]]:
        out: dict[str, dict[str, object]] = {}
        for h in self.hosts:
            pid = self._alive(h)
            out[h] = {"up": bool(pid), "init_pid": pid, "addr": ADDRS[h], "hostname": files.fqdn(h)}
            if pid:
                out[h].update({d: self.daemon_running(h, d) for d in DAEMONS})
        return out

    # ---- running commands inside a host -----------------------------------------------------------
    def enter_argv(self, host: str, argv: Sequence[str]) -> list[str]:
        """argv prefixed so that it runs inside the host (all its namespaces, its root, cwd /root)."""
        pid = self._init_pid(host)
        return ["nsenter", f"--target={pid}", "--mount", "--uts", "--ipc", "--net", "--pid",
                "--root", "--wdns=/root", "--", *argv]

    def spawn(self, host: str, cmd: Cmd, **popen_kw: object) -> subprocess.Popen[str]:
        """Start cmd inside the host without waiting (in its own process group; stop it with kill_command)."""
        argv = _sh(cmd) if isinstance(cmd, str) else list(cmd)
        kw: dict[str, object] = {"stdin": subprocess.DEVNULL, "stdout": subprocess.PIPE,
                                 "stderr": subprocess.PIPE, "text": True}
        kw.update(popen_kw)
        return subprocess.Popen(self.enter_argv(host, argv), env=clean_env(), start_new_session=True,
                                **kw)  # type: ignore[call-overload, no-any-return]

    def exec(self, host: str, cmd: Cmd, timeout: float = 60, input: str | None = None,
             check: bool = False) -> subprocess.CompletedProcess[str]:
        """Run cmd (a shell string or an argv) inside the host with a clean environment.

        On timeout the whole process group is killed and subprocess.TimeoutExpired is raised."""
        proc = self.spawn(host, cmd, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL)
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_command(proc)
            proc.communicate()
            raise
        res = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        if check and res.returncode:
            raise LabError(f"{host}: {cmd!r} failed ({res.returncode}): {(err or out).strip()}")
        return res

    def write_file(self, host: str, path: str, text: str, mode: int | None = None) -> None:
        """Write a file as the host sees it (in place, so bind-mounted files like /etc/hosts work)."""
        script = 'mkdir -p "$(dirname "$1")" && cat > "$1"' + (f' && chmod {mode:o} "$1"' if mode else "")
        self.exec(host, _sh(script, path), input=text, check=True)

    def read_file(self, host: str, path: str) -> str:
        return self.exec(host, ["cat", path], check=True).stdout

    def virsh(self, host: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return self.exec(host, ["virsh", "-q", "-c", "qemu:///system", *args], timeout=timeout)

    def domstate(self, host: str, guest: str) -> str:
        """'running', 'shut off', ... or '' if the host has no such domain."""
        res = self.virsh(host, "domstate", guest)
        return res.stdout.strip() if res.returncode == 0 else ""

    # ---- daemons ------------------------------------------------------------------------------------
    def daemon_running(self, host: str, name: str) -> bool:
        return self.exec(host, _sh(_PIDFILE_ALIVE, self._daemon(name))).returncode == 0

    def start_daemon(self, host: str, name: str) -> None:
        script = f"{_PIDFILE_ALIVE} && exit 0\n{self._start_script(host, name)}"
        self.exec(host, _sh(script, name), check=True)

    def stop_daemon(self, host: str, name: str) -> None:
        self.exec(host, _sh(_STOP, self._daemon(name)), check=True)

    def restart_daemon(self, host: str, name: str) -> None:
        self.exec(host, _sh(f"{_STOP}\n{self._start_script(host, name)}", name), check=True)

    def _ensure_daemons(self, host: str) -> None:
        for name in DAEMONS:
            self.start_daemon(host, name)

    def _start_script(self, host: str, name: str) -> str:
        cpu = self.hosts.index(host) % (os.cpu_count() or 1)
        return _START[self._daemon(name)].replace("@CPU@", str(cpu))

    @staticmethod
    def _daemon(name: str) -> str:
        if name not in DAEMONS:
            raise ValueError(f"unknown daemon {name!r} (one of {', '.join(DAEMONS)})")
        return name

    def _start_host(self, host: str) -> None:
        """Baseline network, hostname, firewall; then sshd and libvirtd, waiting until libvirtd answers."""
        script = f"{_NET}\n{_START['sshd']} || exit 1\n{self._start_script(host, 'libvirtd')}"
        self.exec(host, _sh(script, f"{ADDRS[host]}/{PREFIX}", host), check=True)

    # ---- guests and migrations ----------------------------------------------------------------------
    def define_guest(self, host: str, name: str, disk: tuple[str, str] | None = None, start: bool = True,
                     memory_mib: int = 64) -> str | None:
        """Define (and start) a 1-vCPU TCG guest; disk=("shared"|"local", path) gets a 16 MiB qcow2,
        created if missing (relative paths are inside SHARED_DIR or LOCAL_DIR). Returns the disk path."""
        path = None
        if disk is not None:
            where, rel = disk
            base = {"shared": SHARED_DIR, "local": LOCAL_DIR}.get(where)
            if base is None:
                raise ValueError(f"disk location must be 'shared' or 'local', not {where!r}")
            path = os.path.join(base, rel)
        xml = files.guest_xml(name, path, memory_mib)
        self.exec(host, _sh(_DEFINE, name, path or "", "1" if start else "0"), input=xml, check=True)
        return path

    def migrate(self, guests: Sequence[str], flags: Sequence[str] = (), dest_uri: str | None = None,
                timeout: float = 60, src: str = "host1") -> list[MigrationOutcome]:
        """Run `virsh migrate --live [flags] GUEST DEST_URI` for every guest at once, inside src.

        Each is its own process; one still running at the timeout counts as failed and is killed."""
        dest_uri = dest_uri or f"qemu+ssh://{HOSTS[1] if src == HOSTS[0] else HOSTS[0]}/system"
        outcomes: dict[str, MigrationOutcome] = {}
        deadline = time.monotonic() + timeout

        def run(guest: str, proc: subprocess.Popen[str], t0: float) -> None:
            try:
                out, err = proc.communicate(timeout=max(0.0, deadline - time.monotonic()))
                timed_out = False
            except subprocess.TimeoutExpired:
                kill_command(proc)
                out, err = proc.communicate()
                timed_out = True
            secs = time.monotonic() - t0
            rc = proc.returncode
            first = f"timed out after {timeout:g} s" if timed_out else _first_error_line(err)
            outcomes[guest] = MigrationOutcome(guest, rc == 0 and not timed_out, rc, "" if rc == 0 else first,
                                               round(secs, 3), timed_out, err)

        procs = [(g, self.spawn(src, ["virsh", "-c", "qemu:///system", "migrate", "--live", *flags, g,
                                      dest_uri]), time.monotonic()) for g in guests]
        threads = [threading.Thread(target=run, args=p) for p in procs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return [outcomes[g] for g in guests]

    # ---- lifecycle ----------------------------------------------------------------------------------
    def up(self) -> bool:
        """Build both hosts (~2 s) and return True. A lab that is already up is kept as it is (dead
        daemons restarted) and False returned; a half-dead one is torn down and rebuilt."""
        t0 = time.monotonic()
        if self.is_up():
            self._parallel(self._ensure_daemons)
            self.timings["up"] = time.monotonic() - t0
            return False
        self.down()
        why = missing_prerequisites(self.hosts)
        if why:
            raise LabError("cannot build the lab: " + "; ".join(why))
        try:
            self.dir.mkdir(mode=0o700, parents=True)
            self._make_keys()
            for h in self.hosts:
                self._write_baseline(h, first=True)
            self._parallel(self._spawn_host)
            self._wire()
            self._parallel(self._start_host)
        except BaseException:
            self.down()
            raise
        self.dirty = False
        self.timings["up"] = time.monotonic() - t0
        return True

    def reset(self) -> None:
        """Back to baseline (~1 s): every process but init and bindfs killed, guests and images gone,
        configs, hostname, addresses and firewall restored, sshd and libvirtd restarted."""
        t0 = time.monotonic()
        if not self.is_up():
            self.up()
            return

        def one(h: str) -> None:
            self.exec(h, _sh(_KILL_ALL), check=True)
            self._write_baseline(h)
            self._start_host(h)

        _clear_dir(self.dir / "store")
        self._parallel(one)
        self.dirty = False
        self.timings["reset"] = time.monotonic() - t0

    def down(self) -> None:
        """Tear everything down; safe to call at any time, also after a crash (reads state.json)."""
        t0 = time.monotonic()
        # SIGKILL to a host's init ends its PID namespace (all its processes; then its mount and network
        # namespaces, FUSE mount and veth go too); its unshare parent then reaps it and exits.
        names = list(dict.fromkeys([*self.hosts, *self._load_state()]))  # every host state.json records
        inits = [p for p in (self._alive(h) for h in names) if p]
        parents = [p for p in (self._alive(h, "unshare") for h in names) if p]
        for pid in inits:
            os.kill(pid, signal.SIGKILL)
        for proc in self._procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self._procs.clear()
        deadline = time.monotonic() + 10
        while any(_proc_start(p) is not None for p in inits + parents):
            if time.monotonic() > deadline - 5:
                for pid in parents:  # unshare parents of a crashed lab that did not exit by themselves
                    if _proc_start(pid) is not None:
                        os.kill(pid, signal.SIGKILL)
            if time.monotonic() > deadline:
                raise LabError(f"lab processes did not die: {inits + parents}")
            time.sleep(0.005)
        # nothing of the lab is mounted in the root namespace; unmount anyway if something is
        for mnt in reversed(self._root_mounts()):
            subprocess.run(["umount", "-l", mnt], capture_output=True)
        if self.dir.exists():
            shutil.rmtree(self.dir)
        self.timings["down"] = time.monotonic() - t0

    def _root_mounts(self) -> list[str]:
        prefix = str(self.dir).rstrip("/") + "/"
        with open("/proc/self/mountinfo") as f:
            mps = [line.split()[4] for line in f]
        return [m for m in mps if m.startswith(prefix) or m == prefix[:-1]]

    def install_safety_net(self) -> None:
        """Tear the lab down when this process exits or gets SIGTERM/SIGHUP (for test sessions)."""
        if self._safety_net:
            return
        self._safety_net = True
        atexit.register(self.down)

        def handler(signum: int, frame: object) -> None:
            try:
                self.down()
            finally:
                signal.signal(signum, signal.SIG_DFL)
                os.kill(os.getpid(), signum)

        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, handler)

    # ---- building -----------------------------------------------------------------------------------
    def _parallel(self, fn: Callable[[str], object]) -> None:
        with ThreadPoolExecutor(len(self.hosts)) as ex:
            for f in [ex.submit(fn, h) for h in self.hosts]:
                f.result()

    def _wire(self) -> None:
        """Two hosts: one veth pair, eth0 in each. Three: a bridge (BRIDGE) inside host1's network
        namespace, with one veth per host (host1's own eth0 too) whose other end is a port of it; no
        end ever exists in the root namespace, and the bridge dies with host1."""
        pids = [str(self._init_pid(h)) for h in self.hosts]
        if len(pids) == 2:
            subprocess.run(["ip", "link", "add", "eth0", "netns", pids[0], "type", "veth",
                            "peer", "name", "eth0", "netns", pids[1]],
                           check=True, capture_output=True, text=True)
            return
        ports = [f"{BRIDGE}-{h}" for h in self.hosts]
        for pid, port in zip(pids, ports, strict=True):
            subprocess.run(["ip", "link", "add", "eth0", "netns", pid, "type", "veth",
                            "peer", "name", port, "netns", pids[0]],
                           check=True, capture_output=True, text=True)
        self.exec(self.hosts[0], _sh(_BRIDGE, BRIDGE, *ports), check=True)

    def _make_keys(self) -> None:
        keys = self.dir / "keys"
        keys.mkdir()
        procs = [subprocess.Popen(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"preflight-lab-{n}",
                                   "-f", str(keys / n)], stdin=subprocess.DEVNULL)
                 for n in ("lab", *self.hosts)]
        if any(p.wait() for p in procs):
            raise LabError("ssh-keygen failed")

    def _write_baseline(self, host: str, first: bool = False) -> None:
        """The host's baseline files, written into its backing directories (bind sources: emptied and
        refilled in place, never replaced)."""
        h, keys = self.dir / host, self.dir / "keys"
        etc = h / "etc"
        _clear_dir(etc / "libvirt")
        shutil.copytree("/etc/libvirt", etc / "libvirt", dirs_exist_ok=True, symlinks=True)
        _clear_dir(etc / "libvirt/qemu/networks/autostart")
        with open(etc / "libvirt/libvirtd.conf", "a") as f:
            f.write(files.libvirtd_conf(host))
        with open(etc / "libvirt/qemu.conf", "a") as f:
            f.write(files.QEMU_CONF)
        ssh = etc / "ssh"
        _clear_dir(ssh)
        for name in ("ssh_config", "moduli"):
            if Path("/etc/ssh", name).exists():
                shutil.copy(Path("/etc/ssh", name), ssh / name)
        (ssh / "ssh_config.d").mkdir()
        (ssh / "sshd_config.d").mkdir()
        (ssh / "sshd_config").write_text(files.SSHD_CONFIG)
        shutil.copy(keys / host, ssh / "ssh_host_ed25519_key")
        shutil.copy(keys / f"{host}.pub", ssh / "ssh_host_ed25519_key.pub")
        (ssh / "ssh_host_ed25519_key").chmod(0o600)
        for name, text in (("hosts", files.etc_hosts(self.hosts)), ("hostname", f"{host}\n"),
                           ("resolv.conf", "nameserver 127.0.0.1\n"),
                           ("os-release", Path("/etc/os-release").read_text())):
            (etc / name).write_text(text)  # in place: these are bind-mounted files
        root = h / "root"
        root.mkdir(mode=0o700, exist_ok=True)
        dot_ssh = root / ".ssh"
        _clear_dir(dot_ssh)
        dot_ssh.chmod(0o700)
        host_keys = {x: (keys / f"{x}.pub").read_text() for x in self.hosts}
        for name, text in (("id_ed25519", (keys / "lab").read_text()),
                           ("id_ed25519.pub", (keys / "lab.pub").read_text()),
                           ("authorized_keys", (keys / "lab.pub").read_text()),
                           ("known_hosts", files.known_hosts(host_keys, self.hosts)),
                           ("config", files.SSH_CLIENT_CONFIG)):
            (dot_ssh / name).write_text(text)
            (dot_ssh / name).chmod(0o600)
        lib = h / "var/lib/libvirt"
        _clear_dir(lib, keep=("images",))
        _clear_dir(lib / "images", keep=("shared",))  # shared is a FUSE mount point inside the host
        for d in ("images/local", "images/shared", "qemu", "boot"):
            (lib / d).mkdir(parents=True, exist_ok=True)
        _clear_dir(h / "var/log/libvirt")
        (h / "var/cache/libvirt").mkdir(parents=True, exist_ok=True)  # kept: QEMU capabilities cache
        if first:
            (self.dir / "store").mkdir(exist_ok=True)

    def _binds(self) -> list[tuple[str, str]]:
        return [("etc/libvirt", "/etc/libvirt"), ("etc/ssh", "/etc/ssh"), ("etc/hosts", "/etc/hosts"),
                ("etc/hostname", "/etc/hostname"), ("etc/resolv.conf", "/etc/resolv.conf"),
                ("etc/os-release", "/etc/os-release"), ("var/lib/libvirt", "/var/lib/libvirt"),
                ("var/log/libvirt", "/var/log/libvirt"), ("var/cache/libvirt", "/var/cache/libvirt"),
                ("root", "/root")]

    @staticmethod
    def _root_keep() -> list[str]:
        """Top directories under /root the lab's python needs (e.g. /root/.pyenv); re-exposed in hosts."""
        keep = set()
        for p in (sys.prefix, sys.base_prefix, os.path.realpath(sys.executable)):
            parts = Path(p).parts
            if len(parts) > 2 and parts[:2] == ("/", "root"):
                keep.add(str(Path(*parts[:3])))
        return sorted(keep)

    def _spawn_host(self, host: str) -> None:
        spec = {"hostname": host, "hostdir": str(self.dir / host), "store": str(self.dir / "store"),
                "shared_mnt": SHARED_DIR, "binds": self._binds(), "root_keep": self._root_keep(),
                "log": str(self.dir / f"{host}.log")}
        spec_file = self.dir / f"{host}.json"
        spec_file.write_text(json.dumps(spec))
        with open(self.dir / f"{host}.log", "ab") as log:
            proc = subprocess.Popen(
                ["unshare", "--net", "--mount", "--uts", "--ipc", "--pid", "--fork", "--kill-child",
                 "--propagation", "private", sys.executable, "-I", "-S", str(HOSTINIT), str(spec_file)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, env=clean_env(),
                start_new_session=True)
        self._procs.append(proc)
        self._record(host, "unshare", proc.pid)
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 20)
        line = proc.stdout.readline().decode().strip() if ready else "timeout"
        proc.stdout.close()
        if not line.startswith("ready "):
            log_text = (self.dir / f"{host}.log").read_text(errors="replace").strip()
            raise LabError(f"{host} did not come up: {line} {log_text}")
        self._record(host, "init", int(line.split()[1]))
