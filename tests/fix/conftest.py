"""Golden cases for `preflight fix`: two small image roots per case, fixed in place, compared byte for byte.

A case is a directory under golden/: ``case.json`` (concurrency, policy, probes to add, base files to
remove), ``source/`` and ``destination/`` (files laid over a clean base pair of hosts) and
``expected/HOST/PATH`` (every file the fix must change, as it must read afterwards). Set
PREFLIGHT_REGEN_GOLDEN=1 to rewrite the expected files from the current output (then review the diff).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import testinfra

from preflight.engine import Report, evaluate
from preflight.inspect import inspect_pair
from preflight.model.facts import Availability, Probe
from preflight.model.plan import MigrationPlan

GOLDEN = Path(__file__).with_name("golden")


@pytest.fixture(scope="session")
def local_host() -> Any:
    """testinfra's view of this machine, for the state a fix leaves in files (content, mode, owner, links)."""
    return testinfra.get_host("local://")

URI = "qemu+ssh://host2.example.com/system"

# A clean pair for 12 concurrent migrations: names resolve, libvirt limits are large enough;
# sshd's default MaxStartups (10) is the one thing left for cases that do not set it.
BASE: dict[str, dict[str, str]] = {
    "source": {
        "etc/hostname": "host1.example.com\n",
        "etc/hosts": "127.0.0.1\tlocalhost\n10.0.0.10\thost1.example.com host1\n10.0.0.20\thost2.example.com host2\n",
        "etc/libvirt/libvirtd.conf": "max_clients = 40\nmax_workers = 40\n",
    },
    "destination": {
        "etc/hostname": "host2.example.com\n",
        "etc/hosts": "127.0.0.1\tlocalhost\n10.0.0.20\thost2.example.com host2\n",
        "etc/libvirt/libvirtd.conf": "max_clients = 40\nmax_workers = 40\n",
        "etc/ssh/sshd_config": "MaxStartups 20:30:100\n",
    },
}


@dataclass
class Case:
    name: str
    dir: Path
    concurrency: int = 12
    policy: str | None = None
    probes: dict[str, dict[str, str]] = field(default_factory=dict)
    remove: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, d: Path) -> Case:
        meta: dict[str, Any] = json.loads((d / "case.json").read_text()) if (d / "case.json").exists() else {}
        return cls(d.name, d, **meta)

    def build(self, root: Path) -> dict[str, Path]:
        """The two image roots of this case under ``root``."""
        roots = {}
        for role, files in BASE.items():
            host = root / role
            for rel, text in files.items():
                if f"{role}/{rel}" not in self.remove:
                    (host / rel).parent.mkdir(parents=True, exist_ok=True)
                    (host / rel).write_text(text)
            overlay = self.dir / role
            if overlay.is_dir():
                shutil.copytree(overlay, host, dirs_exist_ok=True)
            host.mkdir(parents=True, exist_ok=True)
            roots[role] = host
        return roots

    def expected(self) -> dict[tuple[str, str], bytes]:
        exp = self.dir / "expected"
        if not exp.is_dir():
            return {}
        out = {}
        for p in sorted(exp.rglob("*")):
            if p.is_file():
                role, *rest = p.relative_to(exp).parts
                out[(role, "/" + "/".join(rest))] = p.read_bytes()
        return out


def cases() -> list[Case]:
    return [Case.load(d) for d in sorted(GOLDEN.iterdir()) if d.is_dir()]


def check_case(case: Case, roots: dict[str, Path]) -> Report:
    plan = MigrationPlan(guests=["guest1"], dest_uri=URI, live=True, concurrency=case.concurrency)
    src, dst = inspect_pair(plan, str(roots["source"]), str(roots["destination"]), None, None)
    for snap in (src, dst):
        for key, text in case.probes.get(snap.role, {}).items():
            snap.add(Probe(key, f"{key} (golden case)", Availability.OK, text=text, rc=0))
    return evaluate(plan, src, dst)
