"""Run the gather script over ONE multiplexed ssh connection per host.

We start the master ourselves, in a private 0700 directory, and every command rides on
it (measured: 10 ms per command instead of 188 ms for a new connection); `close()` sends
`ssh -O exit` to the master we started and removes the directory, and so does the
cleanup registry if a signal stops us first.

Every ssh argv is built here, as a list: options from a fixed list, ``-l user``,
``-p port``, then ``--``, then the validated host. No host string is ever parsed again
(by ssh's own ``user@host`` split, a shell, or another library).
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Sequence

from preflight.access import cleanup, kexdrop
from preflight.access.base import AccessOptions, CommandResult, HostAccess, HostUnreachable, decode, sh_command
from preflight.access.run import run_argv
from preflight.access.spec import HostSpec
from preflight.access.ssh_errors import SshCause, classify

SSH_FAILED_RC = 255  # ssh's own failure; the gather script itself always exits 0
EXIT_TIMEOUT = 5.0  # bound of `ssh -O exit` (a local socket round trip)
HOST_KEY_CHECKING = ("yes", "accept-new", "no")  # the only values that reach ssh's -o


def ssh_reason(stderr: str, fallback: str) -> str:
    """ssh's own last words ("Host key verification failed.", "ssh: connect to host ...")."""
    lines = [ln.strip() for ln in stderr.replace("\r", "\n").splitlines() if ln.strip()]
    return lines[-1] if lines else fallback


def private_dir() -> str:
    """A fresh 0700 directory (mkdtemp) for the master's socket and libvirt's wrapper.

    A Unix socket path has room for 107 bytes and ssh binds a 17-byte longer temporary name
    first: under a deep TMPDIR fall back to /tmp rather than fail to connect.
    """
    path = tempfile.mkdtemp(prefix="preflight-ssh-")
    if len(os.fsencode(path)) + len("/master") + 17 < 108:
        return path
    os.rmdir(path)
    return tempfile.mkdtemp(prefix="preflight-ssh-", dir="/tmp")


def ssh_binary() -> str:
    """The ssh program, resolved once per access so the master, commands and libvirt's wrapper agree."""
    return shutil.which("ssh") or "ssh"


class SshAccess(HostAccess):
    kind = "ssh"

    def __init__(self, spec: HostSpec, options: AccessOptions | None = None) -> None:
        if spec.kind != "ssh" or not spec.host:
            raise ValueError(f"not an ssh host spec: {spec}")
        self.spec = spec
        self.options = options or AccessOptions()
        if self.options.strict_host_key_checking not in HOST_KEY_CHECKING:
            raise ValueError(f"StrictHostKeyChecking must be one of {', '.join(HOST_KEY_CHECKING)}")
        self.connections_opened = 0
        self.commands_run = 0
        self.dropped_by_max_startups = 0  # our own connections sshd refused at kex (evidence for SSH001)
        self._lock = threading.RLock()  # re-entrant: a signal handler may close while the main thread is in here
        self._starter: subprocess.Popen[bytes] | None = None  # an ssh -f still authenticating
        self._closed = False
        self._ssh = ssh_binary()
        self._dir = private_dir()
        self._cleanup_key = cleanup.register(self._teardown)
        self.control_path = os.path.join(self._dir, "master")

    @property
    def private_dir(self) -> str:
        return self._dir

    # --- argv building: one fixed list, so the master, commands and libvirt agree ---------
    def _control_path_option(self) -> str:
        # ssh expands %-tokens in ControlPath; a '%' in TMPDIR must stay a '%'
        return "ControlPath=" + self.control_path.replace("%", "%%")

    def _fixed_options(self) -> list[str]:
        opts = ["-F", self.options.ssh_config] if self.options.ssh_config else []
        return opts + [
            "-o", "BatchMode=yes",
            "-o", f"StrictHostKeyChecking={self.options.strict_host_key_checking}",
            "-o", self._control_path_option(),
        ]  # fmt: skip

    def ssh_argv(self, *extra: str) -> list[str]:
        """``ssh EXTRA FIXED -o ConnectTimeout=N [-l user] [-p port] -- host``.

        ``extra`` comes first because ssh keeps the first value of each option; every caller
        passes constants (ControlMaster=..., -f -N, -O exit).
        """
        argv = [self._ssh, *extra, *self._fixed_options()]
        argv += ["-o", f"ControlPersist={self.options.control_persist}"]
        argv += ["-o", f"ConnectTimeout={max(1, round(self.options.timeout))}"]
        if self.spec.user:
            argv += ["-l", self.spec.user]
        if self.spec.port:
            argv += ["-p", str(self.spec.port)]
        return [*argv, "--", self.spec.host or ""]

    def libvirt_ssh_command(self) -> str:
        """An ssh "binary" for libvirt's ``command=`` URI parameter that rides our master.

        libvirt's qemu+ssh transport runs ``COMMAND -p port -l user -T -e none -o BatchMode=yes
        -- host sh -c ...``; this wrapper puts our fixed options (ControlPath, no new master,
        -F FILE) before libvirt's argv, so libvirt's connection is one more session on the
        host's single ssh connection: no second handshake, one unauthenticated connection at
        the destination's sshd instead of two, and --ssh-config applies to libvirt too.
        It lives in our private 0700 directory, created with O_EXCL (never a planted file).
        """
        path = os.path.join(self._dir, "ssh-via-master")
        with self._lock:
            if not os.path.exists(path):
                opts = [self._ssh, *self._fixed_options(), "-o", "ControlMaster=no"]
                # Written by a child shell, never through a descriptor of ours: a process another thread
                # forks meanwhile would inherit it, and libvirt's exec of the file would then fail with
                # "Text file busy" (ETXTBSY, seen in the lab under load). set -C: O_EXCL, as before.
                made = subprocess.run(["/bin/sh", "-c", 'umask 077 && set -C && cat >"$1" && chmod 700 "$1"',
                                       "write-wrapper", path], input=f'#!/bin/sh\nexec {shlex.join(opts)} "$@"\n',
                                      text=True, capture_output=True, timeout=30, check=False)
                if made.returncode != 0:
                    raise OSError(f"{path}: cannot write the ssh wrapper: {made.stderr.strip()}")
        return path

    # --- connection -----------------------------------------------------------------------
    def master_alive(self) -> bool:
        # The master removes its socket when it exits, so this costs no process.
        return os.path.exists(self.control_path)

    def open(self) -> None:
        if self._closed:
            raise HostUnreachable("connection already closed")
        if self.master_alive():
            return
        log = os.path.join(self._dir, "master.log")
        def up(result: tuple[int, str]) -> bool:
            return result[0] == 0 and self.master_alive()

        def count_drop() -> None:
            self.dropped_by_max_startups += 1

        rc, stderr = kexdrop.retry(lambda: self._start_master(log),
                                   lambda r: not up(r) and kexdrop.dropped(r[1]), count_drop)
        if not up((rc, stderr)):
            raise HostUnreachable(ssh_reason(stderr, f"ssh to {self.spec} failed (exit {rc})"), classify(stderr).value)
        self.connections_opened += 1

    def _start_master(self, log: str) -> tuple[int, str]:
        # -f backgrounds the master after authentication; its inherited stdio goes to a file,
        # not a pipe, because older ssh versions keep it open (a pipe would never reach EOF).
        with open(log, "wb") as out:
            with self._lock:  # a close() from a signal either sees this process or prevents it
                if self._closed:
                    raise HostUnreachable("connection already closed")
                try:
                    proc = subprocess.Popen(
                        self.ssh_argv("-o", "ControlMaster=yes", "-f", "-N"),
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=out,
                        start_new_session=True,
                    )
                except OSError as exc:  # no ssh binary: the host cannot be reached, say why
                    raise HostUnreachable(f"cannot run {self._ssh}: {exc.strerror or exc}") from None
                self._starter = proc
            try:
                rc = proc.wait(timeout=self.options.timeout + 5)
            except subprocess.TimeoutExpired:
                self._kill_starter()
                raise HostUnreachable(f"ssh to {self.spec} timed out after {self.options.timeout:g} s",
                                      SshCause.TIMEOUT.value) from None
            finally:
                with self._lock:
                    if self._starter is proc:
                        self._starter = None
        with open(log, "rb") as f:
            return rc, decode(f.read())

    def run_script(self, script: str, timeout: float, args: Sequence[str] = ()) -> CommandResult:
        self.open()  # reopens (and counts) if the master went away
        self.commands_run += 1
        out = run_argv([*self.ssh_argv("-o", "ControlMaster=no"), sh_command(script, args, self.options.sudo)],
                       timeout)
        if out.rc == SSH_FAILED_RC:
            stderr = decode(out.stderr)
            raise HostUnreachable(ssh_reason(stderr, f"ssh to {self.spec} failed"), classify(stderr).value)
        return CommandResult(out.rc, decode(out.stdout), decode(out.stderr))

    # --- teardown -------------------------------------------------------------------------
    def _kill_starter(self) -> None:
        with self._lock:
            proc, self._starter = self._starter, None
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # never let a half-authenticated ssh become a master
            except ProcessLookupError:
                pass
            proc.wait()

    def _teardown(self) -> None:
        """Idempotent, and safe from a signal handler: every step checks what is left to undo."""
        with self._lock:
            self._closed = True
        self._kill_starter()
        if self.master_alive():  # only our master can have made a socket in our 0700 directory
            try:
                subprocess.run(
                    self.ssh_argv("-O", "exit"),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    timeout=EXIT_TIMEOUT,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                pass
        shutil.rmtree(self._dir, ignore_errors=True)

    def close(self) -> None:
        self._teardown()
        cleanup.unregister(self._cleanup_key)
