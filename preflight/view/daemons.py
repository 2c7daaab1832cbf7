"""The libvirt daemon(s) and config files that govern a migration's connection on one host.

Monolithic (libvirtd) or modular (virtqemud, virtproxyd) layout, told by the daemons that
run or, when no state was seen, by the config files present. The rules (DMN, LIM, NET003)
and the limits fix judge and write every daemon listed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from preflight.model import probes as P

if TYPE_CHECKING:
    from preflight.view.host import HostView

QEMU_CONF = P.QEMU_CONF  # the QEMU driver's file (migration_host, ports), read by the daemon that runs QEMU
CONFS = {"libvirtd": P.LIBVIRTD_CONF, "virtqemud": P.VIRTQEMUD_CONF, "virtproxyd": P.VIRTPROXYD_CONF}

@dataclass(frozen=True)
class JudgedDaemon:
    """A libvirt daemon the migration's connections reach, the file it reads, and why it is judged."""

    name: str  # libvirtd | virtqemud | virtproxyd
    path: str  # its config file
    why: str

    def describe(self) -> str:
        return f"{self.name} judged on {self.path}: {self.why}"

    @property
    def admin_uri(self) -> str:
        """virt-admin's URI for this daemon (``virtqemud:///system``), as gather.sh asks it."""
        return f"{self.name}:///system"



def judged(host: HostView, incoming: str | None = None) -> list[JudgedDaemon]:
    """The daemons whose limits and config a migration meets on this host, each with why.

    ``incoming`` is the transport of the migration's connection *to* this
    host ("ssh", "tcp", "tls", ...; the destination) or None for the local
    client connection (the source). Monolithic hosts: libvirtd. Modular
    hosts: virtqemud, which every QEMU connection ends in (virt-ssh-helper
    connects to its socket directly; virtproxyd forwards to it); plus
    virtproxyd for an incoming connection that lands there: qemu+tcp/tls
    always (virtproxyd owns the TCP listeners), qemu+ssh when virtproxyd is
    up (a client without virt-ssh-helper goes through nc and the legacy
    libvirt-sock, which virtproxyd serves). When the layout cannot be told
    (daemon state not seen, libvirtd.conf and virtqemud.conf both present)
    every candidate is judged: the stricter result counts.
    """
    mono, modular, why_mono, why_modular, proxy = _layout(host)
    out: list[JudgedDaemon] = []
    if mono:
        out.append(JudgedDaemon("libvirtd", P.LIBVIRTD_CONF, why_mono))
    if modular:
        out.append(JudgedDaemon("virtqemud", P.VIRTQEMUD_CONF, why_modular))
        if incoming in ("tcp", "tls"):
            out.append(JudgedDaemon("virtproxyd", P.VIRTPROXYD_CONF,
                                    f"modular host: qemu+{incoming} connections are accepted by virtproxyd "
                                    "(it owns the TCP listeners) and forwarded to virtqemud"))
        elif incoming in ("ssh", "libssh", "libssh2", "ext") and proxy:
            out.append(JudgedDaemon("virtproxyd", P.VIRTPROXYD_CONF,
                                    f"modular host, {proxy}: a qemu+{incoming} client without virt-ssh-helper "
                                    "reaches virtqemud through virtproxyd's legacy libvirt-sock"))
    return out


def _layout(host: HostView) -> tuple[bool, bool, str, str, str]:
    """(monolithic?, modular?, why libvirtd, why virtqemud, why virtproxyd counts or "")."""
    running = host.daemons
    if running.ok:
        up = {d: how for d, (state, how) in running.get().items() if state in ("running", "socket")}
        if "libvirtd" in up or "virtqemud" in up:
            both = "libvirtd" in up and "virtqemud" in up
            note = "; libvirtd and virtqemud both run: a client picks virtqemud's socket when it exists, " \
                   "an older one libvirtd's, so both are judged" if both else ""
            proxy = f"virtproxyd runs (seen by {up['virtproxyd']})" if "virtproxyd" in up else ""
            return ("libvirtd" in up, "virtqemud" in up,
                    f"monolithic daemon, runs (seen by {up.get('libvirtd')}){note}",
                    f"modular host: virtqemud runs (seen by {up.get('virtqemud')}){note}", proxy)
    # No daemon state (image mode, or none running): the config files tell the layout.
    state = running.reason if not running.ok else "no libvirt daemon runs"
    lib, qemu = host.file_exists(P.LIBVIRTD_CONF), host.file_exists(P.VIRTQEMUD_CONF)
    proxy = "virtproxyd.conf present" if host.file_exists(P.VIRTPROXYD_CONF) is not False else ""
    if qemu is False:
        return True, False, f"monolithic layout ({P.VIRTQEMUD_CONF} absent; daemon state: {state})", "", ""
    if lib is False:
        return False, True, "", f"modular layout ({P.LIBVIRTD_CONF} absent; daemon state: {state})", proxy
    why = (f"layout unknown: {P.LIBVIRTD_CONF} and {P.VIRTQEMUD_CONF} both "
           f"{'present' if lib and qemu else 'present or unreadable'} and the daemon state not seen "
           f"({state}); both judged, the stricter result counts")
    return True, True, why, why, proxy


def daemon_for_path(path: str) -> str | None:
    """The daemon whose config file ``path`` is (libvirtd.conf -> libvirtd ...), or None."""
    return next((name for name, conf in CONFS.items() if conf == path), None)


def evidence(daemon: JudgedDaemon) -> dict[str, str]:
    """What every daemon finding carries, so a fix finds the daemon (and file) the rule judged."""
    return {"daemon": daemon.name, "config": daemon.path, "why_judged": daemon.why}


def judged_by(found: Mapping[str, Any]) -> str | None:
    """The daemon a finding's evidence names (see :func:`evidence`), or None for a host-level one."""
    name = found.get("daemon")
    return name if isinstance(name, str) and name in CONFS else None
