from __future__ import annotations

import pytest

from preflight.parsers.osrelease import parse_os_release, parse_redhat_release

DEBIAN12 = """PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
"""

RHEL9 = """NAME="Red Hat Enterprise Linux"
VERSION="9.4 (Plow)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="9.4"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Red Hat Enterprise Linux 9.4 (Plow)"
ANSI_COLOR="0;31"
"""

CENTOS7 = """NAME="CentOS Linux"
VERSION="7 (Core)"
ID="centos"
ID_LIKE="rhel fedora"
VERSION_ID="7"
PRETTY_NAME='CentOS Linux 7 (Core)'
"""


def test_debian() -> None:
    r = parse_os_release(DEBIAN12)
    assert (r.id, r.id_like, r.version_id, r.major, r.minor) == ("debian", [], "12", 12, None)
    assert r.pretty_name == "Debian GNU/Linux 12 (bookworm)"


def test_rhel_and_centos() -> None:
    r = parse_os_release(RHEL9)
    assert (r.id, r.id_like, r.major, r.minor, r.name) == (
        "rhel",
        ["fedora"],
        9,
        4,
        "Red Hat Enterprise Linux",
    )
    c = parse_os_release(CENTOS7)
    assert (c.id, c.id_like, c.major, c.pretty_name) == (
        "centos",
        ["rhel", "fedora"],
        7,
        "CentOS Linux 7 (Core)",
    )


def test_junk_is_ignored() -> None:
    r = parse_os_release('# comment\n\nnot a line\nID="unbalanced\nVERSION_ID=\n')
    assert r.id == "unbalanced" and r.version_id is None and r.major is None


@pytest.mark.parametrize(
    ("text", "ident", "version", "major", "minor"),
    [
        ("Red Hat Enterprise Linux Server release 7.9 (Maipo)\n", "rhel", "7.9", 7, 9),
        ("Red Hat Enterprise Linux release 8.10 (Ootpa)", "rhel", "8.10", 8, 10),
        ("CentOS Linux release 7.9.2009 (Core)", "centos", "7.9.2009", 7, 9),
        ("CentOS Stream release 9", "centos", "9", 9, None),
        ("Rocky Linux release 9.3 (Blue Onyx)", "rocky", "9.3", 9, 3),
    ],
)
def test_redhat_release(text: str, ident: str, version: str, major: int, minor: int | None) -> None:
    r = parse_redhat_release(text)
    assert (r.id, r.version_id, r.major, r.minor) == (ident, version, major, minor)
    assert r.pretty_name == text.strip()


def test_redhat_release_garbage() -> None:
    assert parse_redhat_release("").id is None
    r = parse_redhat_release("something else")
    assert r.id is None and r.pretty_name == "something else" and r.major is None
