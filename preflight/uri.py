"""libvirt URIs: the one place that builds them, and that reads the host to inspect from DESTURI.

A URI is never pasted together from strings the user (or a host) typed: it is built from a
validated HostSpec (see preflight.access.spec), with a fixed path and a query made here from
a fixed set of parameters, each value percent-encoded. So no spec can add ``command=``
(a program libvirt runs) or ``no_verify=1`` (host keys off), nor change the host.
"""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import quote, urlencode

from preflight.access.spec import HostSpec, HostSpecError, parse_authority

LOCAL_SYSTEM = "qemu:///system"
SSH_TRANSPORTS = ("ssh", "libssh", "libssh2")  # the DESTURI port is sshd's only for these

# scheme://authority then the rest; RFC 3986's split, without urlsplit's silent removal of
# tabs and newlines (the host libvirt would see must be the host we inspect, or an error)
_URI = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<authority>[^/?#]*)(?P<rest>.*)", re.DOTALL)


def libvirt_uri(spec: HostSpec, *, verify_host_key: bool = True, command: str | None = None) -> str | None:
    """The read-only libvirt URI that reaches the host ``spec`` names (None for an image root).

    ssh: ``no_tty=1`` gives BatchMode; ``no_verify=0`` keeps host-key verification;
    ``command`` is the ssh program libvirt runs (our wrapper riding the master).
    libvirt decodes each query value with xmlURIUnescapeString, which does not turn '+'
    into a space: values are quoted with %20, never quote_plus.
    """
    if spec.kind == "local":
        return LOCAL_SYSTEM
    if spec.kind != "ssh":
        return None
    params = [("no_tty", "1"), ("no_verify", "0" if verify_host_key else "1")]
    if command is not None:
        params.append(("command", command))
    return f"qemu+ssh://{spec.authority}/system?{urlencode(params, quote_via=quote, safe='/')}"


class UriParts(NamedTuple):
    """A libvirt URI's parts as typed: scheme (driver[+transport]), authority, path, the rest (?query#...)."""

    scheme: str
    authority: str
    path: str
    rest: str

    @property
    def driver(self) -> str:
        return self.scheme.split("+", 1)[0].lower()

    @property
    def transport(self) -> str | None:
        """The transport named after '+' (lower case, as libvirt compares it), None when none is."""
        return self.scheme.split("+", 1)[1].lower() if "+" in self.scheme else None

    def with_(self, scheme: str | None = None, path: str | None = None) -> str:
        """The URI with a corrected scheme or path (for a did-you-mean)."""
        return f"{scheme or self.scheme}://{self.authority}{self.path if path is None else path}{self.rest}"


def split_uri(uri: str) -> UriParts | None:
    """``uri`` split as libvirt reads it, None when it is not scheme://... at all."""
    match = _URI.fullmatch(uri)
    if match is None:
        return None
    rest = match["rest"]
    cut = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    return UriParts(match["scheme"], match["authority"], rest[:cut], rest[cut:])


def dest_host_spec(desturi: str) -> HostSpec:
    """The host to inspect over ssh for ``virsh migrate ... DESTURI``.

    qemu+ssh://root@host2:2222/system -> ssh://root@host2:2222. For tls/tcp transports the
    port is libvirtd's, not sshd's, so it is dropped. Parts are percent-decoded (as libvirt
    does) and validated; a URI with a hostile host or user is a HostSpecError (exit 2).
    """
    match = _URI.fullmatch(desturi)
    if match is None:
        raise HostSpecError(f"{desturi!r}: not a URI (expected e.g. qemu+ssh://host2.example.com/system)")
    if not match["authority"]:
        raise HostSpecError(f"{desturi!r} names no remote host; pass --dest SPEC")
    user, host, port = parse_authority(match["authority"], desturi)
    scheme = match["scheme"].lower()
    transport = scheme.split("+", 1)[1] if "+" in scheme else "tls"
    if transport not in SSH_TRANSPORTS:
        port = None
    return HostSpec(kind="ssh", user=user, host=host, port=port)


def migration_uri(target: HostSpec) -> str:
    """``qemu+ssh://[user@]host[:port]/system``, the DESTURI a person types for ``target`` (a validated ssh
    spec), read back to prove it names that host and nothing else (HostSpecError otherwise).

    >>> migration_uri(HostSpec(kind="ssh", user="root", host="host2.example.com", port=2222))
    'qemu+ssh://root@host2.example.com:2222/system'
    """
    uri = UriParts("qemu+ssh", target.authority, "/system", "").with_()
    if dest_host_spec(uri) != target:
        raise HostSpecError(f"{target}: cannot build a destination URI that names it")
    return uri


def dest_spec_from_uri(desturi: str) -> str:
    """dest_host_spec as the spec string the user could have passed with --dest."""
    return str(dest_host_spec(desturi))
