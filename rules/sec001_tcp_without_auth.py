"""SEC001 tcp-without-auth — no libvirt daemon accepts plain TCP without authentication.

What it checks
    On both hosts, the daemon owning libvirt's TCP listener (libvirtd, or
    virtproxyd on modular hosts) does not combine a TCP listener with
    ``auth_tcp = "none"``. The listener counts when its file says
    ``listen_tcp = 1`` or when something listens on ``tcp_port`` (16509;
    socket activation ignores ``listen_tcp``). Judged whatever the DESTURI:
    the exposure exists whether or not this migration uses it.

Why it matters
    The migration works, but anyone who can reach port 16509 controls the
    hypervisor: ``virsh -c qemu+tcp://host/system`` with no password,
    unencrypted, can start, stop, read and migrate every guest. An error,
    so the verdict is NOT READY until it is closed.

How to fix it
    Set ``auth_tcp = "sasl"`` (the default) and add SASL users
    (``saslpasswd2 -a libvirt USER``), or stop the listener
    (``listen_tcp = 0``; ``systemctl disable --now libvirtd-tcp.socket`` /
    ``virtproxyd-tcp.socket``); prefer qemu+tls or qemu+ssh.
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.known import Known
from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed
from preflight.view.daemons import evidence
from preflight.view.tls import conf_value, listener_daemons, listening, transport_port

ID = "SEC001"
NAME = "tcp-without-auth"
SEVERITY = Severity.ERROR
NEEDS = ("judged_daemons", "listening")
LINT = ("destination",)  # roles judged alone by `preflight lint`
SEED = "libvirtd.conf: auth_tcp = \"none\" on a TCP listener disables authentication entirely (beyond the RHEL guide)."
TAGS = ("security",)


def check(ctx: Context) -> Iterator[Outcome]:
    for scope in (Scope.SOURCE, Scope.DESTINATION):
        host = ctx.host(scope)
        port = transport_port(host, "tcp")
        ports = listening(host)
        for daemon in listener_daemons(host, "tcp"):
            auth, listen = conf_value(host, daemon, "auth_tcp"), conf_value(host, daemon, "listen_tcp")
            if not auth.ok:
                yield not_seen(scope, f"{daemon.name}'s auth_tcp", auth, subject=daemon.name)
                continue
            ev = {**evidence(daemon), "auth_tcp": auth.get() or "sasl (default)", "tcp_port": port,
                  "listen_tcp": listen.value if listen.value != "" else "0 (default)"}
            if auth.get() != "none":
                yield passed(scope, f"{daemon.name} requires authentication on TCP (auth_tcp = "
                             f"{auth.get() or 'sasl, the default'})", subject=daemon.name, evidence=ev)
                continue
            live = ports.ok and port in ports.get()
            if listen.value == 1 or live:
                why = f"TCP {port} listens" if live else "listen_tcp = 1"
                yield failed(scope, f"{daemon.name}: {why} with auth_tcp = \"none\": anyone who reaches TCP {port} "
                             "controls the hypervisor, unauthenticated and unencrypted",
                             f"In {daemon.path} set auth_tcp = \"sasl\" (and saslpasswd2 -a libvirt USER) or "
                             f"listen_tcp = 0 and disable {daemon.name}-tcp.socket; prefer qemu+tls or qemu+ssh",
                             file=daemon.path, subject=daemon.name, evidence=ev)
            elif not ports.ok:
                yield not_seen(scope, f"{daemon.name}'s TCP listener (auth_tcp = \"none\")",
                               Known(None, f"{ports.reason}; a socket-activated {daemon.name}-tcp.socket would "
                                           "accept unauthenticated clients", ports.not_applicable),
                               subject=daemon.name, evidence=ev)
            else:
                yield passed(scope, f"{daemon.name} has auth_tcp = \"none\" but nothing listens on TCP {port}",
                             subject=daemon.name, evidence=ev)
