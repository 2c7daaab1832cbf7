"""/etc/os-release and /etc/redhat-release.

Plain parsing: os-release is a list of shell-quoted KEY=value lines, and the
tokenizer of :mod:`shlex` follows the same quoting rules.

>>> r = parse_os_release('ID=rhel\\nID_LIKE="fedora"\\nVERSION_ID="9.4"\\n')
>>> (r.id, r.id_like, r.major, r.minor)
('rhel', ['fedora'], 9, 4)
>>> parse_redhat_release("CentOS Linux release 7.9.2009 (Core)").version_id
'7.9.2009'
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RELEASE = re.compile(r"^(?P<name>.*?)\s+release\s+(?P<version>[0-9][0-9.]*)\s*(?:\((?P<code>[^)]*)\))?")
# /etc/redhat-release product names -> os-release ID
_RELEASE_IDS = (
    ("red hat enterprise linux", "rhel"),
    ("centos stream", "centos"),
    ("centos", "centos"),
    ("rocky", "rocky"),
    ("almalinux", "almalinux"),
    ("oracle", "ol"),
    ("fedora", "fedora"),
)


@dataclass
class OsRelease:
    id: str | None = None
    id_like: list[str] = field(default_factory=list)
    version_id: str | None = None
    name: str | None = None
    pretty_name: str | None = None

    @property
    def major(self) -> int | None:
        return self._part(0)

    @property
    def minor(self) -> int | None:
        return self._part(1)

    def _part(self, index: int) -> int | None:
        parts = (self.version_id or "").split(".")
        if index < len(parts) and parts[index].isascii() and parts[index].isdigit():
            return int(parts[index])
        return None


def parse_os_release(text: str) -> OsRelease:
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, raw = line.split("=", 1)
        if not _KEY.fullmatch(key):
            continue
        try:
            words = shlex.split(raw, posix=True)
        except ValueError:  # unbalanced quote: keep the text as written
            words = [raw.strip("\"'")]
        values[key] = " ".join(words)
    return OsRelease(
        id=values.get("ID") or None,
        id_like=values.get("ID_LIKE", "").split(),
        version_id=values.get("VERSION_ID") or None,
        name=values.get("NAME") or None,
        pretty_name=values.get("PRETTY_NAME") or None,
    )


def parse_redhat_release(text: str) -> OsRelease:
    """``Red Hat Enterprise Linux Server release 7.9 (Maipo)`` and friends."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    match = _RELEASE.match(line)
    if not match:
        return OsRelease(pretty_name=line or None)
    name = match.group("name")
    lowered = name.lower()
    ident = next((i for prefix, i in _RELEASE_IDS if lowered.startswith(prefix)), None)
    id_like = ["rhel", "fedora"] if ident not in (None, "rhel", "fedora") else []
    return OsRelease(
        id=ident, id_like=id_like, version_id=match.group("version"), name=name, pretty_name=line
    )
