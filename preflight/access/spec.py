"""Host specs as the user types them: ``local``, ``ssh://[user@]host[:port]`` or an image root directory.

The spec is parsed here once; every part of an ssh spec is validated (a conservative user
name, a hostname / IPv4 / IPv6 literal, a port 1-65535), so nothing downstream (ssh's argv,
the libvirt URI) ever sees a value that could be read as an option, a path or a query.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, unquote

HostKind = Literal["local", "ssh", "image"]

_HOSTNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*")  # also covers IPv4; never '-' or '.' first
_USER = re.compile(r"[A-Za-z0-9._][A-Za-z0-9._-]*")  # never '-' first: ssh would read an option
MAX_NAME = 253  # DNS's limit for a whole name; also the user name bound


class HostSpecError(ValueError):
    """The spec names no host we know how to reach, or a part of it is not acceptable."""


def check_host(host: str) -> str:
    """``host`` if it is a hostname, an IPv4 address or an IPv6 literal (without brackets)."""
    if ":" in host:
        if "%" in host:
            raise HostSpecError(f"{host!r}: IPv6 zone ids are not supported")
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise HostSpecError(f"{host!r}: not a valid IPv6 address") from None
        return host
    if not host or len(host) > MAX_NAME or not _HOSTNAME.fullmatch(host):
        raise HostSpecError(
            f"{host!r}: not a host name (letters, digits, '.' and '-', not starting with '-' or '.') "
            "nor an IP address"
        )
    return host


def check_user(user: str) -> str:
    if len(user) > MAX_NAME or not _USER.fullmatch(user):
        raise HostSpecError(f"{user!r}: user names may hold letters, digits, '.', '_' and '-' (not first)")
    return user


def check_port(port: int) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise HostSpecError(f"{port!r}: port must be 1-65535")
    return port


@dataclass(frozen=True)
class HostSpec:
    kind: HostKind
    user: str | None = None
    host: str | None = None
    port: int | None = None
    root: str | None = None  # image mode: absolute path of the image root

    def __post_init__(self) -> None:
        # Validated on construction, so no HostSpec with a hostile part can exist at all.
        if self.kind == "ssh":
            check_host(self.host or "")
            if self.user is not None:
                check_user(self.user)
            if self.port is not None:
                check_port(self.port)

    @property
    def url_host(self) -> str:
        """The host as it goes into a URI: IPv6 literals in brackets."""
        host = self.host or ""
        return f"[{host}]" if ":" in host else host

    @property
    def authority(self) -> str:
        """``[user@]host[:port]`` for a URI; the user percent-encoded (a no-op for valid users)."""
        user = f"{quote(self.user, safe='')}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        return f"{user}{self.url_host}{port}"

    def __str__(self) -> str:
        if self.kind == "local":
            return "local"
        if self.kind == "image":
            return self.root or ""
        return f"ssh://{self.authority}"


def _decode(text: str, what: str) -> str:
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError:
        raise HostSpecError(f"{what!r}: percent-encoded bytes that are not UTF-8") from None


def parse_authority(authority: str, what: str) -> tuple[str | None, str, int | None]:
    """``[user@]host[:port]`` -> (user, host, port), percent-decoded, then validated.

    ``what`` is the whole input (spec or URI), named in error messages.
    """
    userinfo, at, hostport = authority.rpartition("@")
    user = _decode(userinfo, what) if at else None
    if user == "":
        raise HostSpecError(f"{what!r}: empty user name before '@'")
    if hostport.startswith("["):
        host, bracket, rest = hostport[1:].partition("]")
        if not bracket or ":" not in host:
            raise HostSpecError(f"{what!r}: expected an IPv6 address in brackets")
    else:
        host, colon, rest = hostport.partition(":")
        host, rest = _decode(host, what), colon + rest
    port: int | None = None
    if rest:
        digits = rest[1:]
        if not rest.startswith(":") or ":" in digits:
            hint = "; an IPv6 address goes in brackets, e.g. [fd00::2]" if ":" in digits else ""
            raise HostSpecError(f"{what!r}: unexpected {rest!r} after the host{hint}")
        if digits:  # "host:" is the default port, as in URIs
            if not (digits.isascii() and digits.isdigit() and len(digits) <= 5):
                raise HostSpecError(f"{what!r}: port must be 1-65535")
            port = int(digits)
    if not host:
        raise HostSpecError(f"{what!r}: no host name")
    try:
        if user is not None:
            check_user(user)
        check_host(host)
        if port is not None:
            check_port(port)
    except HostSpecError as exc:
        raise HostSpecError(f"{what!r}: {exc}") from None
    return user, host, port


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
        authority = spec[len("ssh://"):]
        authority = authority[:-1] if authority.endswith("/") else authority
        if any(c in authority for c in "/?#"):
            raise HostSpecError(f"{spec!r}: expected ssh://[user@]host[:port] with nothing after the host")
        user, host, port = parse_authority(authority, spec)
        return HostSpec(kind="ssh", user=user, host=host, port=port)
    if "://" in spec:
        raise HostSpecError(f"{spec!r}: only 'local', ssh://[user@]host[:port] or a directory are supported")
    path = os.path.abspath(os.path.expanduser(spec))
    if not os.path.isdir(path):
        raise HostSpecError(f"{spec!r}: not 'local', not ssh://..., and not a directory (image root)")
    return HostSpec(kind="image", root=path)
