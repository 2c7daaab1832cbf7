"""Session fixtures shared by several test folders: a real sshd and a real libvirtd.

Both are started by the tests themselves (own config, keys, sockets, pid file),
on loopback only, and stopped by PID.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.libvirtd_server import Libvirtd, start_libvirtd
from tests.support.skips import pytest_runtest_makereport  # noqa: F401 - hook: under CI=true a skip fails
from tests.support.sshd_server import Sshd, start_sshd


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    with start_sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture(scope="session")
def libvirtd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Libvirtd]:
    with start_libvirtd(tmp_path_factory.mktemp("libvirtd")) as daemon:
        yield daemon
