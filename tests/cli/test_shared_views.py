"""Issue 11 item 4 (speed, 200 hosts): evaluate(..., views=Views()) parses each host's files once for
many pairs, with the same findings as a fresh evaluation per pair."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import preflight.view.host as host_view
from preflight.access import parse_host_spec
from preflight.engine import Views, evaluate
from preflight.gather.pair import gather_pair
from preflight.model.facts import HostSnapshot
from preflight.model.plan import MigrationPlan

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def snapshots() -> tuple[HostSnapshot, HostSnapshot]:
    plan = MigrationPlan(guests=["guest1-rhel6-64"], dest_uri="qemu+ssh://host2.example.com/system", live=True)
    return gather_pair(parse_host_spec(str(EXAMPLES / "host1")), parse_host_spec(str(EXAMPLES / "host2")), plan,
                       f"test://{EXAMPLES / 'host1.xml'}", f"test://{EXAMPLES / 'host2.xml'}")


def findings(report: object) -> list[dict[str, object]]:
    return [dataclasses.asdict(f) for f in report.findings]  # type: ignore[attr-defined]


def test_shared_views_judge_as_fresh_views(snapshots: tuple[HostSnapshot, HostSnapshot],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    src, dst = snapshots
    as_dest = dataclasses.replace(src, role="destination")  # the other direction, as the fleet judges it
    as_src = dataclasses.replace(dst, role="source")
    plans = [MigrationPlan(guests=["guest1-rhel6-64"], dest_uri="qemu+ssh://host2.example.com/system", live=True,
                           concurrency=c) for c in (1, 12, 30)]
    fresh = [findings(evaluate(p, s, d)) for p in plans for s, d in ((src, dst), (as_src, as_dest))]
    made: list[HostSnapshot] = []
    real_init = host_view.HostView.__init__

    def counting(self: host_view.HostView, snapshot: HostSnapshot) -> None:
        made.append(snapshot)
        real_init(self, snapshot)

    monkeypatch.setattr(host_view.HostView, "__init__", counting)
    views = Views()
    shared = [findings(evaluate(p, s, d, views=views)) for p in plans for s, d in ((src, dst), (as_src, as_dest))]
    assert shared == fresh
    assert len(made) == 4  # one view per snapshot object, whatever the number of pairs
    assert views.of(src) is views.of(src) and views.of(src) is not views.of(as_dest)


def test_views_never_confuse_two_snapshots(snapshots: tuple[HostSnapshot, HostSnapshot]) -> None:
    src, _ = snapshots
    views = Views()
    first = views.of(dataclasses.replace(src))
    other = dataclasses.replace(src, role="destination")
    assert views.of(other).snap is other and views.of(other) is not first
