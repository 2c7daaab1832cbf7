"""PID 1 of one lab host: sets up its mounts and hostname, starts bindfs, then reaps children.

Run by the lab as ``unshare --net --mount --uts --ipc --pid --fork --propagation private
python -I -S hostinit.py SPEC.json``. Standard library only: /root is overmounted while it runs.
Prints ``ready <pid in the root namespace>`` (or ``error <text>``) on stdout, then logs to a file.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time

MS_BIND, MS_REC, MS_NOSUID, MS_NODEV, MS_NOEXEC, MNT_DETACH = 0x1000, 0x4000, 0x2, 0x4, 0x8, 2
_libc = ctypes.CDLL(None, use_errno=True)


def mount(src: str, dst: str, fstype: str | None = None, flags: int = 0, data: str | None = None) -> None:
    rc = _libc.mount(src.encode(), dst.encode(), fstype.encode() if fstype else None, flags,
                     data.encode() if data else None)
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {src} on {dst}: {os.strerror(err)}")


def root_pid() -> int:
    with open("/proc/self/status") as f:  # still the root namespace's /proc
        for line in f:
            if line.startswith("NSpid:"):
                return int(line.split()[1])
    raise RuntimeError("no NSpid in /proc/self/status")


def mounted(path: str) -> bool:
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == path for line in f)


def setup(spec: dict) -> int:
    """Mount everything; return the bindfs pid (in this namespace)."""
    hostdir = spec["hostdir"]
    for keep in spec["root_keep"]:  # e.g. /root/.pyenv, so the lab's python still runs inside
        target = os.path.join(hostdir, "root", os.path.relpath(keep, "/root"))
        os.makedirs(target, exist_ok=True)
        mount(keep, target, flags=MS_BIND | MS_REC)
    for rel, dst in spec["binds"]:
        mount(os.path.join(hostdir, rel), dst, flags=MS_BIND | MS_REC)
    for keep in spec["root_keep"]:  # the staging mounts are no longer needed once /root is bound
        _libc.umount2(os.path.join(hostdir, "root", os.path.relpath(keep, "/root")).encode(), MNT_DETACH)
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    shared = spec["shared_mnt"]
    # No FUSE caching: both hosts must see each other's creates and deletes at once, as on real shared storage.
    fuse_opts = "subtype=glusterfs,entry_timeout=0,attr_timeout=0,negative_timeout=0"
    bindfs = subprocess.Popen(["bindfs", "-f", "-o", fuse_opts, spec["store"], shared],
                              stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not mounted(shared):
        if bindfs.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"bindfs did not mount {shared}")
        time.sleep(0.005)
    # /run last: the lab's state directory may live under the root namespace's /run
    mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=64m")
    for d in ("/run/sshd", "/run/lock", "/run/lab"):
        os.makedirs(d, exist_ok=True)
    with open("/run/lab/bindfs.pid", "w") as f:
        f.write(f"{bindfs.pid}\n")
    socket.sethostname(spec["hostname"])
    return bindfs.pid


def main() -> None:
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    pid = root_pid()
    log = os.open(spec["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)  # before /run is hidden
    try:
        setup(spec)
    except Exception as e:  # report to the lab, which tears down
        print(f"error {e}", flush=True)
        sys.exit(1)
    os.chdir("/")
    print(f"ready {pid}", flush=True)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)

    def stop(signum: int, frame: object) -> None:
        os.kill(-1, signal.SIGKILL)  # everything in this PID namespace but me
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        try:
            os.wait()
        except ChildProcessError:
            time.sleep(0.5)


if __name__ == "__main__":
    main()
