"""What ssh's own words say went wrong: one classification, used by every ssh failure we raise.

ssh prints its cause on stderr before the last line ("Host key verification failed." follows
both an unknown and a changed key), so the whole stderr is read, most specific marker first.
The causes are the ones a ``virsh migrate`` over qemu+ssh fails with in the same way
(the same client, known_hosts and keys): each has a fixed remedy.
"""

from __future__ import annotations

from enum import Enum


class SshCause(str, Enum):
    REFUSED = "refused"  # nothing listens on the port (sshd stopped)
    TIMEOUT = "timeout"  # no answer within ConnectTimeout (host down, port filtered)
    NO_ROUTE = "no-route"  # the network says the host cannot be reached
    NAME = "name"  # the host name does not resolve
    HOST_KEY_UNKNOWN = "host-key-unknown"  # not in known_hosts, strict checking on
    HOST_KEY_CHANGED = "host-key-changed"  # known_hosts holds another key for this host
    AUTH_DENIED = "auth-denied"  # no key the server accepts (authorized_keys)
    DROPPED = "dropped"  # sshd closed before the banner: MaxStartups (or a TCP wrapper)
    OTHER = "other"


# (marker, cause), most specific first; markers are ssh's own, matched case-insensitively.
_MARKERS: tuple[tuple[str, SshCause], ...] = (
    ("remote host identification has changed", SshCause.HOST_KEY_CHANGED),
    ("has changed and you have requested strict checking", SshCause.HOST_KEY_CHANGED),
    ("host key is known for", SshCause.HOST_KEY_UNKNOWN),  # "No ED25519 host key is known for host2 ..."
    ("host key verification failed", SshCause.HOST_KEY_UNKNOWN),
    ("permission denied", SshCause.AUTH_DENIED),
    ("too many authentication failures", SshCause.AUTH_DENIED),
    ("kex_exchange_identification", SshCause.DROPPED),
    ("connection refused", SshCause.REFUSED),
    ("timed out", SshCause.TIMEOUT),
    ("no route to host", SshCause.NO_ROUTE),
    ("network is unreachable", SshCause.NO_ROUTE),
    ("could not resolve hostname", SshCause.NAME),
)

DESCRIPTION = {
    SshCause.REFUSED: "the connection was refused: sshd is not running or not listening on that port",
    SshCause.TIMEOUT: "the connection timed out: the host is down or a firewall drops the ssh port",
    SshCause.NO_ROUTE: "there is no route to the host",
    SshCause.NAME: "the host name does not resolve",
    SshCause.HOST_KEY_UNKNOWN: "the host's key is not in known_hosts and strict host key checking refuses it",
    SshCause.HOST_KEY_CHANGED: "known_hosts holds a different key for this host (REMOTE HOST IDENTIFICATION HAS "
                               "CHANGED)",
    SshCause.AUTH_DENIED: "the host accepted none of the client's keys (Permission denied (publickey))",
    SshCause.DROPPED: "sshd closed the connection before the key exchange (MaxStartups, every retry)",
    SshCause.OTHER: "ssh failed",
}


def classify(stderr: str) -> SshCause:
    """The cause named by ssh's stderr (every line); OTHER when none of its known words appear."""
    text = stderr.lower()
    for marker, cause in _MARKERS:
        if marker in text:
            return cause
    return SshCause.OTHER
