"""The one retry after sshd dropped a connection at key exchange (MaxStartups).

From MaxStartups' ``start`` on, sshd drops new unauthenticated connections at
random; our master and libvirt's own ssh race each other, so such a drop is
load, not an unreachable host. Both the ssh master (access/ssh.py) and the
libvirt connection (gather/libvirt_facts.py) retry through :func:`retry`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

MARK = "kex_exchange_identification"  # what ssh prints when sshd closed before the banner
MAX_ATTEMPTS = 3  # a drop rate below 100 % lets one of three through almost always
BACKOFF_S = 0.2  # times the attempt number: the other connections get time to authenticate


def dropped(text: str | None) -> bool:
    return MARK in (text or "")


def retry(attempt: Callable[[], T], was_dropped: Callable[[T], bool],
          on_drop: Callable[[], None] = lambda: None) -> T:
    """Run ``attempt`` until it was not dropped at kex, at most MAX_ATTEMPTS times; the last result."""
    for n in range(MAX_ATTEMPTS):
        result = attempt()
        if n == MAX_ATTEMPTS - 1 or not was_dropped(result):
            return result
        on_drop()
        time.sleep(BACKOFF_S * (n + 1))
    raise AssertionError("unreachable")  # MAX_ATTEMPTS >= 1
