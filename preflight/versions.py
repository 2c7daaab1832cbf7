"""Version strings compared the way operators mean them ("9.0.0-4" < "10.0.0")."""

from __future__ import annotations

import re

_NUM = re.compile(r"\d+")


def version_tuple(text: str | None) -> tuple[int, ...] | None:
    """Leading numeric components of a version: "9.0.0-4.el9" -> (9, 0, 0).

    An epoch ("2:7.2+dfsg-7") is dropped; the release after "-" is ignored
    because builds of one upstream version behave alike for our rules.

    >>> version_tuple("1:9.0.0-4+deb12u2")
    (9, 0, 0)
    >>> version_tuple("1:7.2+dfsg-7+deb12u7") == version_tuple("7.2.0")
    True
    >>> version_tuple("OpenSSH_9.2p1")
    (9, 2, 1)
    >>> version_tuple("") is None
    True
    """
    if not text:
        return None
    text = text.split(":", 1)[1] if re.match(r"^\d+:", text) else text
    text = text.split("-", 1)[0]
    nums = [int(n) for n in _NUM.findall(text)]
    if not nums:
        return None
    # "7.2" (a package) and "7.2.0" (libvirt's report) are the same release
    return tuple(nums + [0] * (3 - len(nums)))


def from_libvirt_int(value: int) -> str:
    """libvirt encodes versions as major*1e6 + minor*1e3 + micro.

    >>> from_libvirt_int(9000000)
    '9.0.0'
    """
    return f"{value // 1000000}.{value // 1000 % 1000}.{value % 1000}"
