"""Issue 11 item 4 (speed): the command line reuses the dataclasses' compiled functions from a per-user
cache (preflight.codecache); the classes it builds are the ones dataclasses builds, and a cache another
user could write is never read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from preflight import codecache

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not codecache._hookable(), reason="Python without dataclasses._create_fn (3.13+)")

# Describes a few dataclasses of preflight as built (patched or not), and says how many functions this
# process compiled itself (0: every one came from the cache).
DRIVER = r"""
import dataclasses, inspect, json, sys
from preflight import codecache
if sys.argv[1] == "patched":
    codecache.install()
from preflight.model.facts import HostSnapshot, Probe
from preflight.model.findings import Finding
from preflight.engine import Note
out = {}
for c in (HostSnapshot, Probe, Finding, Note):
    for m in ("__init__", "__repr__", "__eq__", "__setattr__", "__delattr__", "__hash__"):
        f = c.__dict__.get(m)
        if f is not None and hasattr(f, "__code__"):
            out[f"{c.__name__}.{m}"] = [repr(f.__annotations__), f.__code__.co_code.hex(), f.__code__.co_flags,
                                        repr(f.__defaults__), str(inspect.signature(f))]
note = Note("warning", "k", "w", "m")
try:
    note.level = "x"
    frozen = False
except dataclasses.FrozenInstanceError:
    frozen = True
out["frozen"] = frozen
out["repr"] = repr(note)
compiled = len(codecache._new)
codecache.save()
print(json.dumps({"classes": out, "compiled": compiled}))
"""


def describe(mode: str, cache: Path) -> dict[str, object]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    out = subprocess.run([sys.executable, "-c", DRIVER, mode], capture_output=True, text=True, cwd=REPO, env=env,
                         timeout=60, check=True)
    data: dict[str, object] = json.loads(out.stdout)
    return data


def test_cached_functions_are_the_ones_dataclasses_builds(tmp_path: Path) -> None:
    plain = describe("plain", tmp_path)
    first = describe("patched", tmp_path)  # compiles, writes the cache
    second = describe("patched", tmp_path)  # from the cache
    assert plain["classes"] == first["classes"] == second["classes"]
    assert first["compiled"] > 20 and second["compiled"] == 0
    path = Path(codecache.cache_path().replace(str(Path.home() / ".cache"), str(tmp_path)))
    assert path.is_file() and path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700


def test_a_cache_others_can_write_is_not_read(tmp_path: Path) -> None:
    describe("patched", tmp_path)
    files = list((tmp_path / "preflight").iterdir())
    assert len(files) == 1
    files[0].chmod(0o620)  # group-writable: someone else could have put code in it
    assert describe("patched", tmp_path)["compiled"] != 0
    files[0].chmod(0o600)
    (tmp_path / "preflight").chmod(0o755)  # a directory others can list: not ours alone
    assert describe("patched", tmp_path)["compiled"] != 0


def test_a_broken_cache_is_ignored_and_replaced(tmp_path: Path) -> None:
    (tmp_path / "preflight").mkdir(mode=0o700)
    path = tmp_path / "preflight" / Path(codecache.cache_path()).name
    path.write_bytes(b"not marshal data")
    path.chmod(0o600)
    assert describe("patched", tmp_path)["compiled"] > 20
    assert describe("patched", tmp_path)["compiled"] == 0


def test_the_command_line_fills_and_uses_the_cache(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    for _ in range(2):
        out = subprocess.run([sys.executable, "-m", "preflight.cli", "rules"], capture_output=True, text=True,
                             cwd=REPO, env=env, timeout=60, check=False)
        assert out.returncode == 0 and "SSH001" in out.stdout, out.stderr
    assert [p.name for p in (tmp_path / "preflight").iterdir()] == [Path(codecache.cache_path()).name]


def test_entries_no_run_uses_are_dropped(tmp_path: Path) -> None:
    """A cache grown by older class definitions is rewritten with what this run used (loading stays cheap)."""
    import marshal

    first = describe("patched", tmp_path)
    path = tmp_path / "preflight" / Path(codecache.cache_path()).name
    used = marshal.loads(path.read_bytes())
    assert len(used) == first["compiled"]
    stale = {f"def __create_fn__():\n def f{i}(): pass\n return f{i}": compile("pass", "<string>", "exec")
             for i in range(len(used))}
    path.write_bytes(marshal.dumps({**used, **stale}))
    assert describe("patched", tmp_path)["compiled"] == 0
    assert marshal.loads(path.read_bytes()).keys() == used.keys()
