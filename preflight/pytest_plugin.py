"""pytest plugin (entry point ``pytest11``): assert migration readiness from a host test suite.

A testinfra-style suite that already checks hosts one at a time can also check the pair::

    def test_guest1_can_move(preflight_pair):
        report = preflight_pair("host1.example.com", "host2.example.com",
                                guests=["guest1"], dest_uri="qemu+ssh://host2.example.com/system")
        assert report.verdict == "ready", report.blocking_failures

Fixtures:

- ``preflight_pair(source, dest, ...)`` -> ``engine.Report``: the same judgement as
  ``preflight check`` (hosts given as ``preflight check`` host specs: ``local``, ``[user@]host``
  over ssh, or an image-root directory; or as saved snapshot files). With
  ``--preflight-facts DIR``, snapshots are read from ``DIR/<name>.json`` when present and saved
  there when gathered, so a suite gathers each host once across runs (delete the file to refresh).
- ``preflight_host(spec, ...)`` -> ``HostView``: one host's parsed facts, for assertions about a
  single host. A one-host judgement (which rules apply to one host alone) needs a ``preflight lint`` command;
  until then there is no ``preflight_lint``.

Loaded by pytest in every run where the package is installed, so this module imports nothing
heavy at import time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from preflight.engine import Report
    from preflight.model.facts import HostSnapshot
    from preflight.view import HostView

_FACTS_OPTION = "--preflight-facts"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("preflight", "migration-preflight fixtures")
    group.addoption(_FACTS_OPTION, metavar="DIR", default=None,
                    help="reuse host snapshots saved in DIR (DIR/<name>.json); gathered ones are saved there")


def _cache_name(spec: str) -> str:
    # A host spec may be a path or user@host: one flat, safe file name per spec.
    return re.sub(r"[^A-Za-z0-9_.-]", "_", spec).strip(".") or "host"


class _Snapshots:
    """Snapshots by spec: from a path given, the --preflight-facts cache, or gathered."""

    def __init__(self, facts_dir: str | None) -> None:
        self.facts_dir = Path(facts_dir) if facts_dir else None

    def _cached(self, spec: str) -> Path | None:
        return self.facts_dir / f"{_cache_name(spec)}.json" if self.facts_dir else None

    def load(self, spec: str | Path, facts: str | Path | None, role: str) -> HostSnapshot | None:
        from preflight.cli import load_snapshot

        path = Path(facts) if facts is not None else self._cached(str(spec))
        if path is None or (facts is None and not path.is_file()):
            return None
        return load_snapshot(path, role)

    def save(self, spec: str | Path, snap: HostSnapshot) -> None:
        path = self._cached(str(spec))
        if path is None or path.is_file():
            return
        from preflight.fsutil import make_dirs

        make_dirs(str(path.parent), str(path.parent.parent))
        snap.save(path)


def _plan(guests: Sequence[str], dest_uri: str, flags: dict[str, Any]) -> Any:
    from preflight.cli import build_plan

    return build_plan([*guests, dest_uri], **flags)


@pytest.fixture
def preflight_pair(request: pytest.FixtureRequest) -> Callable[..., Report]:
    """Factory: ``preflight_pair(source, dest, guests=[...], dest_uri=..., **plan_flags)`` -> Report.

    ``source``/``dest`` are host specs (as ``--source``/``--dest``); ``source_facts``/``dest_facts``
    name saved snapshots instead (``preflight gather`` or ``check --save-facts``).
    ``source_libvirt``/``dest_libvirt`` override the libvirt URIs (e.g. ``test:///path.xml``);
    ``select``/``ignore`` choose rules as ``--select``/``--ignore`` do. Other keywords are the
    plan's flags (``concurrency=12``, ``p2p=True`` ...).
    """
    store = _Snapshots(request.config.getoption(_FACTS_OPTION))

    def judge(source: str | Path = "local", dest: str | Path | None = None, *, guests: Sequence[str] = (),
              dest_uri: str | None = None, source_libvirt: str | None = None, dest_libvirt: str | None = None,
              source_facts: str | Path | None = None, dest_facts: str | Path | None = None,
              select: Sequence[str] = (), ignore: Sequence[str] = (), timeout: float = 10.0,
              **plan_flags: Any) -> Report:
        from preflight.cli import dest_spec_from_uri
        from preflight.engine import evaluate
        from preflight.inspect import inspect_pair
        from preflight.rules import select as select_rules

        if dest_uri is None:
            raise ValueError("preflight_pair: dest_uri is required (e.g. qemu+ssh://host2/system)")
        plan = _plan(guests, dest_uri, plan_flags)
        dest_spec = str(dest) if dest is not None else dest_spec_from_uri(plan.dest_uri)
        src = store.load(source, source_facts, "source")
        dst = store.load(dest_spec, dest_facts, "destination")
        src, dst = inspect_pair(plan, str(source), dest_spec, source_libvirt, dest_libvirt, src, dst,
                                timeout=timeout)
        for spec, snap, given in ((source, src, source_facts), (dest_spec, dst, dest_facts)):
            if given is None and snap.reachable:  # an unreachable host is asked again next time
                store.save(spec, snap)
        return evaluate(plan, src, dst, select_rules(list(select), list(ignore)))

    return judge


@pytest.fixture
def preflight_host(request: pytest.FixtureRequest) -> Callable[..., HostView]:
    """Factory: ``preflight_host(spec, libvirt=None, facts=None, role="source")`` -> HostView."""
    store = _Snapshots(request.config.getoption(_FACTS_OPTION))

    def view(spec: str | Path = "local", *, libvirt: str | None = None, facts: str | Path | None = None,
             role: str = "source", timeout: float = 10.0) -> HostView:
        from preflight.access import AccessOptions, parse_host_spec
        from preflight.gather.pair import gather_host
        from preflight.view import HostView

        snap = store.load(spec, facts, role)
        if snap is None:
            snap = gather_host(parse_host_spec(str(spec)), role, libvirt, [], None, AccessOptions(timeout=timeout))
            if facts is None and snap.reachable:
                store.save(spec, snap)
        return HostView(snap)

    return view
