"""Issue 12: snapshot loading fuzzed; the only exception is the documented SnapshotError.

Three generators: any JSON document, any bytes, and a real snapshot with one value
anywhere in it replaced by any JSON value (the likeliest crafted input). CI runs a
few hundred examples each; PREFLIGHT_FUZZ_EXAMPLES=100000 is the long run.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from preflight.model import facts as model_facts
from preflight.model.facts import HostSnapshot
from tests.cli.test_cli import example_args, preflight

EXAMPLES = int(os.environ.get("PREFLIGHT_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=20)


def _loads_or_refuses(text: str | bytes) -> None:
    try:
        snap = HostSnapshot.from_json(text)
    except model_facts.SnapshotError as exc:
        assert str(exc)
        return
    assert HostSnapshot.from_json(snap.to_json()) == snap  # what loads also round-trips


@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[tuple[object, ...]]]:
    """A real snapshot's text, and the path to every value in it."""
    d = tmp_path_factory.mktemp("facts")
    assert preflight(*example_args(), "--save-facts", str(d)).returncode == 1
    text = (d / "source.json").read_text()
    return text, _paths(json.loads(text))[1:]


def _paths(doc: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


@FUZZ
@given(value=json_values)
def test_any_json_document(value: object) -> None:
    _loads_or_refuses(json.dumps(value))
    _loads_or_refuses(json.dumps({"format_version": 1, "x": value}))


@FUZZ
@given(data=st.binary(max_size=200))
def test_any_bytes(data: bytes) -> None:
    _loads_or_refuses(data)


@FUZZ
@given(data=st.data())
def test_one_value_replaced_anywhere(valid: tuple[str, list[tuple[object, ...]]], data: st.DataObject) -> None:
    text, paths = valid
    doc = json.loads(text)
    where = data.draw(st.sampled_from(paths))
    new = data.draw(json_values)
    parent: Any = doc
    for part in where[:-1]:
        parent = parent[part]
    if data.draw(st.booleans()) and isinstance(parent, dict):
        del parent[where[-1]]
    else:
        parent[where[-1]] = new
    _loads_or_refuses(json.dumps(doc))
