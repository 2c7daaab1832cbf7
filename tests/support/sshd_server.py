"""A real sshd on 127.0.0.1 for the tests: free high port, its own host key, authorized_keys, known_hosts."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.skips import skip_or_fail

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    key_type, key = Path(f"{path}.pub").read_text().split()[:2]
    return f"{key_type} {key}"


@dataclass
class Sshd:
    port: int
    dir: Path
    client_config: Path  # ssh -F file: our key, our known_hosts, nothing from ~/.ssh
    known_hosts: Path
    pid: int

    @property
    def spec(self) -> str:
        return f"ssh://root@127.0.0.1:{self.port}"

    def accepted(self) -> int:
        """Connections sshd authenticated so far (its log, -e: one line each)."""
        return (self.dir / "sshd.log").read_text(errors="replace").count("Accepted publickey")

    def client_config_with(self, known_hosts: Path) -> Path:
        path = self.dir / f"ssh_config.{known_hosts.name}"
        path.write_text(self.client_config.read_text().replace(str(self.known_hosts), str(known_hosts)))
        return path


@contextmanager
def start_sshd(d: Path) -> Iterator[Sshd]:
    """sshd -D as our child on 127.0.0.1:<free port>; stopped by its PID."""
    if os.geteuid() != 0 or not os.path.exists(SSHD):
        skip_or_fail("needs root and the sshd binary")
    os.chmod(d, 0o700)
    host_pub = keygen(d / "host_key.key")
    client_pub = keygen(d / "client_key.key")
    (d / "authorized_keys").write_text(client_pub + "\n")
    port = free_port()
    (d / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_pub}\n")
    (d / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key.key\nPidFile {d}/sshd.pid\n"
        f"AuthorizedKeysFile {d}/authorized_keys\nStrictModes no\nUsePAM no\n"
        "PermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nMaxStartups 50\n"
    )
    (d / "ssh_config").write_text(
        f"Host *\n  IdentityFile {d}/client_key.key\n  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {d}/known_hosts\n  GlobalKnownHostsFile /dev/null\n"
    )
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege-separation directory
    with open(d / "sshd.log", "wb") as log:
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(d / "sshd_config")], stderr=log)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("sshd did not start: " + (d / "sshd.log").read_text())
                time.sleep(0.05)
        yield Sshd(port, d, d / "ssh_config", d / "known_hosts", proc.pid)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
