"""Fixtures for host-access tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sshd_server import Sshd, start_sshd


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    with start_sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server
