"""Fixtures for gathering tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from libvirtd_server import Libvirtd, start_libvirtd


@pytest.fixture(scope="session")
def libvirtd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Libvirtd]:
    with start_libvirtd(tmp_path_factory.mktemp("libvirtd")) as daemon:
        yield daemon
