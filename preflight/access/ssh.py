"""Run the gather script over ONE multiplexed ssh connection per host (testinfra's ssh backend).

testinfra's ssh backend starts one ssh process per command and, without a
ControlPath, multiplexes nothing (measured: 188 ms per command vs 10 ms). So we
start the master ourselves, in a private 0700 directory, and every command
rides on it; `close()` sends `ssh -O exit` to the master we started.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence

from testinfra.backend.ssh import SshBackend

from preflight.access.base import (
    AccessOptions,
    CommandResult,
    HostAccess,
    HostUnreachable,
    TimedRunMixin,
    decode,
    sh_command,
)
from preflight.access.spec import HostSpec

SSH_FAILED_RC = 255  # ssh's own failure; the gather script itself always exits 0
MAX_ATTEMPTS = 3  # connection attempts when sshd drops us at kex (MaxStartups)


class _Backend(TimedRunMixin, SshBackend):
    pass


def ssh_reason(stderr: str, fallback: str) -> str:
    """ssh's own last words ("Host key verification failed.", "ssh: connect to host ...")."""
    lines = [ln.strip() for ln in stderr.replace("\r", "\n").splitlines() if ln.strip()]
    return lines[-1] if lines else fallback


class SshAccess(HostAccess):
    kind = "ssh"

    def __init__(self, spec: HostSpec, options: AccessOptions | None = None) -> None:
        if spec.kind != "ssh" or not spec.host:
            raise ValueError(f"not an ssh host spec: {spec}")
        self.spec = spec
        self.options = options or AccessOptions()
        self.connections_opened = 0
        self.commands_run = 0
        self.dropped_by_max_startups = 0  # our own connections sshd refused at kex (evidence for SSH001)
        self._dir = tempfile.mkdtemp(prefix="preflight-ssh-")  # mkdtemp makes it 0700
        self.control_path = os.path.join(self._dir, "master")
        self._master_started = False
        self._closed = False
        self._backend = _Backend(
            self._testinfra_hostspec(),
            ssh_config=self.options.ssh_config,
            timeout=max(1, round(self.options.timeout)),
            ssh_extra_args=shlex.join(self._common_options() + ["-o", "ControlMaster=auto"]),
        )
        self._backend._encoding = "utf-8"  # testinfra would otherwise run python remotely to ask

    # --- option building: one list, so the master and the commands agree ----------------
    def _testinfra_hostspec(self) -> str:
        host = f"[{self.spec.host}]" if ":" in (self.spec.host or "") else (self.spec.host or "")
        user = f"{self.spec.user}@" if self.spec.user else ""
        port = f":{self.spec.port}" if self.spec.port else ""
        return f"{user}{host}{port}"

    def _common_options(self) -> list[str]:
        return [
            "-o", "BatchMode=yes",
            "-o", f"StrictHostKeyChecking={self.options.strict_host_key_checking}",
            "-o", f"ControlPath={self.control_path}",
            "-o", f"ControlPersist={self.options.control_persist}",
        ]  # fmt: skip

    def _ssh_argv(self, *extra: str) -> list[str]:
        """argv for our own ssh calls (master start / -O); ``extra`` comes first: first -o wins."""
        argv = ["ssh", *extra]
        if self.options.ssh_config:
            argv += ["-F", self.options.ssh_config]
        argv += self._common_options()
        argv += ["-o", f"ConnectTimeout={max(1, round(self.options.timeout))}"]
        if self.spec.user:
            argv += ["-l", self.spec.user]
        if self.spec.port:
            argv += ["-p", str(self.spec.port)]
        return [*argv, "--", self.spec.host or ""]

    def libvirt_ssh_command(self) -> str:
        """An ssh "binary" for libvirt's ``command=`` URI parameter that rides our master.

        libvirt's qemu+ssh transport runs ``COMMAND [-p port] [-l user] ... host -- sh -c ...``;
        this wrapper adds our options (ControlPath, no new master, -F FILE), so libvirt's
        connection is one more session on the host's single ssh connection: no second
        handshake, one unauthenticated connection at the destination's sshd instead of two,
        and --ssh-config applies to libvirt too.
        """
        path = os.path.join(self._dir, "ssh-via-master")
        if not os.path.exists(path):
            opts = (["-F", self.options.ssh_config] if self.options.ssh_config else []) + [
                "-o", "BatchMode=yes",
                "-o", f"StrictHostKeyChecking={self.options.strict_host_key_checking}",
                "-o", f"ControlPath={self.control_path}",
                "-o", "ControlMaster=no",
            ]  # fmt: skip
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(f'#!/bin/sh\nexec ssh {shlex.join(opts)} "$@"\n')
            os.chmod(path, 0o700)
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
        for attempt in range(MAX_ATTEMPTS):
            rc, stderr = self._start_master(log)
            if rc == 0 and self.master_alive():
                break
            # sshd's MaxStartups drops connections at random while others are unauthenticated
            # (ours race libvirt's own ssh): that is load, not unreachability, so try again.
            if "kex_exchange_identification" not in stderr or attempt == MAX_ATTEMPTS - 1:
                raise HostUnreachable(ssh_reason(stderr, f"ssh to {self.spec} failed (exit {rc})"))
            self.dropped_by_max_startups += 1
            time.sleep(0.2 * (attempt + 1))
        self._master_started = True
        self.connections_opened += 1

    def _start_master(self, log: str) -> tuple[int, str]:
        # -f backgrounds the master after authentication; its inherited stdio goes to a file,
        # not a pipe, because older ssh versions keep it open (a pipe would never reach EOF).
        with open(log, "wb") as out:
            argv = self._ssh_argv("-o", "ControlMaster=yes", "-f", "-N")
            try:
                rc = subprocess.run(
                    argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, timeout=self.options.timeout + 5
                ).returncode
            except subprocess.TimeoutExpired:
                raise HostUnreachable(f"ssh to {self.spec} timed out after {self.options.timeout:g} s") from None
        with open(log, "rb") as f:
            return rc, decode(f.read())

    def run_script(self, script: str, timeout: float, args: Sequence[str] = ()) -> CommandResult:
        self.open()  # reopens (and counts) if the master went away
        self._backend.run_timeout = timeout
        self.commands_run += 1
        try:
            out = self._backend.run(sh_command(script, args, self.options.sudo))
        except RuntimeError as exc:  # testinfra raises on ssh's 255
            res = exc.args[0] if exc.args else None
            stderr = (
                decode(res.stderr_bytes) if res is not None and hasattr(res, "stderr_bytes") else str(exc)
            )
            raise HostUnreachable(ssh_reason(stderr, f"ssh to {self.spec} failed")) from None
        return CommandResult(out.rc, decode(out.stdout_bytes), decode(out.stderr_bytes))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._master_started and self.master_alive():
            subprocess.run(
                self._ssh_argv("-O", "exit"),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=10,
                check=False,
            )
        shutil.rmtree(self._dir, ignore_errors=True)
