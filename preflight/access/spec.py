"""Host specs as the user types them: ``local``, ``ssh://[user@]host[:port]`` or an image root directory."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

HostKind = Literal["local", "ssh", "image"]


class HostSpecError(ValueError):
    """The spec names no host we know how to reach."""


@dataclass(frozen=True)
class HostSpec:
    kind: HostKind
    user: str | None = None
    host: str | None = None
    port: int | None = None
    root: str | None = None  # image mode: absolute path of the image root

    def __str__(self) -> str:
        if self.kind == "local":
            return "local"
        if self.kind == "image":
            return self.root or ""
        host = f"[{self.host}]" if self.host and ":" in self.host else (self.host or "")
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        return f"ssh://{user}{host}{port}"


def parse_host_spec(spec: str) -> HostSpec:
    """Parse ``local``, ``ssh://[user@]host[:port]`` or a directory (an image root).

    >>> parse_host_spec("ssh://root@host2.example.com:2222")
    HostSpec(kind='ssh', user='root', host='host2.example.com', port=2222, root=None)
    >>> parse_host_spec("local").kind
    'local'
    """
    if spec == "local":
        return HostSpec(kind="local")
    if spec.startswith("ssh://"):
        parts = urlsplit(spec)
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise HostSpecError(f"{spec!r}: expected ssh://[user@]host[:port] with nothing after the host")
        try:
            port = parts.port
        except ValueError as exc:
            raise HostSpecError(f"{spec!r}: bad port ({exc})") from None
        if not parts.hostname:
            raise HostSpecError(f"{spec!r}: no host name")
        # urlsplit lower-cases hostname; keep the user's spelling (ssh_config Host patterns match case)
        netloc_host = parts.netloc.rpartition("@")[2]
        host = (
            netloc_host[1:].split("]", 1)[0] if netloc_host.startswith("[") else netloc_host.split(":", 1)[0]
        )
        user = unquote(parts.username) if parts.username else None
        return HostSpec(kind="ssh", user=user, host=unquote(host), port=port)
    if "://" in spec:
        raise HostSpecError(f"{spec!r}: only 'local', ssh://[user@]host[:port] or a directory are supported")
    path = os.path.abspath(os.path.expanduser(spec))
    if not os.path.isdir(path):
        raise HostSpecError(f"{spec!r}: not 'local', not ssh://..., and not a directory (image root)")
    return HostSpec(kind="image", root=path)
