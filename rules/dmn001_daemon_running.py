"""DMN001 libvirt-daemon-running — the libvirt daemon runs and answers on both hosts.

What it checks
    On each host, libvirtd (or, on modular hosts, virtqemud) is running or
    socket-activated (systemd, else pid file, pidof or its socket), and a
    read-only libvirt connection to it succeeded.

Why it breaks a migration
    Without a daemon on the destination, the connection fails with
    ``virt-ssh-helper: cannot connect to '/var/run/libvirt/libvirt-sock'``;
    without one on the source there is nothing to migrate from.

How to fix it
    ``systemctl enable --now libvirtd`` (or ``virtqemud.socket`` on modular
    hosts); check ``journalctl -u libvirtd`` if it does not stay up.
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.model.facts import Availability
from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed

ID = "DMN001"
NAME = "libvirt-daemon-running"
SEVERITY = Severity.ERROR
NEEDS = ("libvirt", "judged_daemons")  # view facts read (preflight.view.needs)
LINT = ("destination", "source")  # roles judged alone by `preflight lint`
SEED = "The destination must run libvirt."


def check(ctx: Context) -> Iterator[Outcome]:
    for scope in (Scope.SOURCE, Scope.DESTINATION):
        host = ctx.host(scope)
        conn = host.libvirt_reason()
        daemons = host.daemons
        name = host.daemon_name
        fix = f"Start the daemon: systemctl enable --now {name} (or {name}.socket on a modular host)"
        if conn.ok and not host.libvirt_is_test_driver:
            yield passed(scope, f"{name} answers on {conn.get().uri}")
        elif daemons.ok:
            states = daemons.get()
            running = {d: s for d, s in states.items() if s[0] in ("running", "socket")}
            if running:
                desc = ", ".join(f"{d} ({s[0]}, seen by {s[1]})" for d, s in running.items())
                if conn.ok or conn.not_applicable:
                    yield passed(scope, f"{desc}")
                elif host.snap.libvirt is not None and host.snap.libvirt.status is Availability.NOT_AVAILABLE:
                    yield not_seen(scope, f"whether {name} answers (libvirt was not asked)", conn)  # not a failure
                else:
                    yield failed(scope, f"{desc}, but libvirt did not answer: {conn.reason}", fix)
            else:
                yield failed(scope, "no libvirt daemon runs (libvirtd, virtqemud stopped)"
                             + (f"; libvirt: {conn.reason}" if not conn.ok else ""), fix)
        elif conn.ok:
            yield not_seen(scope, "libvirt daemon state (test driver answers only for itself)", daemons)
        else:
            yield not_seen(scope, "libvirt daemon", conn if not daemons.not_applicable else daemons)
