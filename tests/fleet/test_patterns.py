"""Issue 11 item 2: --limit as Ansible's host patterns (the implemented subset), checked against
`ansible all --list-hosts --limit`; what is not implemented is refused, never half-read."""

from __future__ import annotations

from pathlib import Path

import pytest

from preflight.fleet.inventory import load
from preflight.fleet.patterns import PatternError, select, split_patterns

from .conftest import ansible_hosts
from .test_inventory import INI

PATTERNS = [
    "kvm",
    "rack1:rack2",
    "rack1,solo",
    "kvm:!h9",
    "kvm:&rack2",
    "kvm0*",
    "*.example.com",
    "rack?",
    "~kvm0[12]",
    "~^e",
    "all:!rack2",
    "!solo",
    "&rack1",
    "kvm:!edge:&rack2",
    "db-[ab]",
    "e1:e3:lone",
]


@pytest.fixture(scope="module")
def inventory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("inv") / "hosts"
    path.write_text(INI)
    return path


@pytest.mark.parametrize("pattern", PATTERNS)
def test_limit_selects_what_ansible_selects(inventory: Path, tmp_path: Path, pattern: str) -> None:
    chosen, unmatched = select(load(str(inventory)), pattern)
    assert sorted(chosen) == sorted(ansible_hosts(inventory, pattern, tmp_path))
    assert chosen and not unmatched


def test_unmatched_pattern_is_reported(inventory: Path) -> None:
    chosen, unmatched = select(load(str(inventory)), "rack1:nosuch")
    assert unmatched == ["nosuch"] and "h9" in chosen


@pytest.mark.parametrize(("pattern", "words"), [
    ("@hosts.txt", "limit files"),
    ("kvm[0]", "subscripts"),
    ("kvm[0:2]", "subscripts"),
    ("!", "empty pattern"),
    ("~(", "not a regular expression"),
])
def test_unimplemented_patterns_are_refused(inventory: Path, pattern: str, words: str) -> None:
    with pytest.raises(PatternError, match=words):
        select(load(str(inventory)), pattern)


def test_split_keeps_glob_classes_and_ipv6_literals_apart() -> None:
    assert split_patterns("a:b[1:2]:!c") == ["a", "b[1:2]", "!c"]
    assert split_patterns("a,b:c") == ["a", "b:c"]
