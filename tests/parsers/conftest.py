from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).with_name("fixtures")


def load_tree(name: str) -> dict[str, str | None]:
    """A fixture directory as gathered files: {"/etc/ssh/sshd_config": text, ...}."""
    root = FIXTURES / name
    return {
        "/" + p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture
def fixture_text():
    def read(name: str) -> str:
        return (FIXTURES / name).read_text()

    return read


@pytest.fixture
def tree():
    return load_tree
