"""Helpers of the fleet tests: Ansible's own reading of an inventory (ansible-core, a test dependency)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.skips import skip_or_fail

BIN = Path(sys.executable).parent


def ansible_env(tmp: Path) -> dict[str, str]:
    return dict(os.environ, ANSIBLE_HOME=str(tmp / "ansible-home"), ANSIBLE_LOCAL_TEMP=str(tmp / "ansible-tmp"),
                ANSIBLE_INVENTORY_UNPARSED_FAILED="1", ANSIBLE_INVENTORY_ENABLED="ini,yaml",
                ANSIBLE_NOCOLOR="1", ANSIBLE_DEPRECATION_WARNINGS="0")


def ansible_tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        skip_or_fail(f"{name} (ansible-core, a test dependency) is not installed in this venv")
    return str(path)


def ansible_inventory(path: Path, tmp: Path) -> dict:
    """`ansible-inventory --list`: hostvars merged as Ansible merges them, groups' direct hosts and children."""
    out = subprocess.run([ansible_tool("ansible-inventory"), "-i", str(path), "--list"], capture_output=True,
                         text=True, env=ansible_env(tmp), timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def ansible_hosts(path: Path, limit: str, tmp: Path) -> list[str]:
    """`ansible all --list-hosts --limit PATTERN`: the hosts Ansible would run on."""
    out = subprocess.run([ansible_tool("ansible"), "all", "-i", str(path), "--list-hosts", "--limit", limit],
                         capture_output=True, text=True, env=ansible_env(tmp), timeout=60)
    if "no hosts matched" in out.stdout + out.stderr or out.returncode != 0:
        return []
    return [line.strip() for line in out.stdout.splitlines()[1:] if line.strip()]
