"""The libvirt daemon(s) and config files that govern a migration's connection on one host.

Monolithic (libvirtd) or modular (virtqemud, virtproxyd) layout, told by the daemons that
run or, when no state was seen, by the config files present. The rules (DMN, LIM, NET003)
and the limits fix judge and write every daemon listed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from preflight.defaults import LibvirtDefaults
from preflight.known import Known, known, unknown
from preflight.model import probes as P
from preflight.sizing import explain_max_clients, recommended_max_clients

if TYPE_CHECKING:
    from preflight.parsers.libvirtconf import LibvirtConf
    from preflight.view.host import HostView, Setting

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


# The file values the limits size T stays above (never lowered).
LIMIT_KEYS = ("max_clients", "max_workers", "max_anonymous_clients", "min_workers")


@dataclass(frozen=True)
class LimitsTarget:
    """T, the max_clients and max_workers the limits fix writes and LIM001-LIM003 advise, and why."""

    value: int
    recommended: int  # what the plan alone needs (sizing.recommended_max_clients)
    why: str


def file_limits(conf: LibvirtConf) -> dict[str, int]:
    """The limit keys a daemon's file sets to a number."""
    return {k: e.value for k in LIMIT_KEYS if (e := conf.get(k)) is not None and isinstance(e.value, int)}


def limits_target(n: int, connected: int, explicit: Mapping[str, int], defaults: LibvirtDefaults) -> LimitsTarget:
    """T = the largest of the recommended size, the file's max_clients, and the effective max_workers,
    max_anonymous_clients and min_workers (file, else the release's default): never lowers one."""
    def eff(key: str) -> int:
        return explicit.get(key, defaults.get(key) or 0)

    rec = recommended_max_clients(n, connected)
    bounds = {"the recommended size": rec, "the file's max_clients": explicit.get("max_clients", 0),
              "max_workers": eff("max_workers"), "max_anonymous_clients": eff("max_anonymous_clients"),
              "min_workers": eff("min_workers")}
    target = max(bounds.values())
    why = explain_max_clients(n, connected)
    if target > rec:
        binding = next(name for name, v in bounds.items() if v == target)
        why += f"; raised to {target} to stay >= {binding} (never lowered)"
    return LimitsTarget(target, rec, why)


@dataclass(frozen=True)
class ClientCount:
    """virt-admin's live client count of a daemon, less preflight's own connection."""

    reported: int  # nclients as virt-admin printed it
    own: int  # of those, preflight's own read-only libvirt connection (0 or 1)

    @property
    def others(self) -> int:
        return max(0, self.reported - self.own)

    def note(self) -> str:
        """Says so when a count had our own connection taken out."""
        if not self.own:
            return ""
        return (f" (virt-admin counted {self.reported}, less preflight's own read-only libvirt "
                "connection, open beside the gather)")


def own_connections(host: HostView, daemon: JudgedDaemon) -> int:
    """How many of the daemon's clients may be preflight's own while virt-admin counted them.

    Never count yourself: the gather holds one read-only libvirt connection per host. On the
    destination it runs beside the gather script (preflight.gather.pair), so virt-admin may count
    it; it ends in libvirtd, or virtqemud on a modular host (virt-ssh-helper connects to
    virtqemud's socket). The source's connection is closed before its script starts, and a
    connection that never opened (a daemon whose slots are all held queues it unanswered) was
    never counted: neither is subtracted.
    """
    lv = host.libvirt
    if host.role != "destination" or lv is None or not lv.ok or host.libvirt_is_test_driver:
        return 0
    ends_in = "virtqemud" if any(d.name == "virtqemud" for d in host.judged_daemons()) else "libvirtd"
    return 1 if daemon.name == ends_in else 0


def client_count(host: HostView, daemon: JudgedDaemon) -> ClientCount:
    """Clients connected to the daemon now (virt-admin; 0 when not seen), with our own set apart."""
    reported = int((host.virt_admin_of(daemon.name).value or {}).get("nclients", 0))
    return ClientCount(reported, min(reported, own_connections(host, daemon)))


def connected_clients(host: HostView, daemon: JudgedDaemon) -> int:
    """Other clients connected to the daemon now (virt-admin, less preflight's own), 0 when not seen."""
    return client_count(host, daemon).others


def limits_target_of(host: HostView, daemon: JudgedDaemon, n: int) -> Known[LimitsTarget]:
    """:func:`limits_target` for the daemon's file as gathered (absent: every value the default)."""
    conf = host.conf_file(daemon.path)
    if not conf.ok:
        return unknown(conf.reason, conf.not_applicable)
    got = limits_target(n, connected_clients(host, daemon), file_limits(conf.get()), host.defaults_for(daemon.name))
    return known(got, daemon.path)


def advised_limit(host: HostView, daemon: JudgedDaemon, n: int) -> int:
    """The size a limits rule advises: T when the daemon's file reads, else what the plan needs."""
    target = limits_target_of(host, daemon, n)
    return target.get().value if target.ok else recommended_max_clients(n, connected_clients(host, daemon))


@dataclass(frozen=True)
class LiveVsFile:
    """A limit whose live value (virt-admin) differs from what the daemon reads when it restarts."""

    daemon: str
    live: Setting
    after_restart: Setting  # the file's value, else the release default

    def note(self) -> str:
        """Which value the verdict used, and that the other one waits for a restart."""
        return (f"; the verdict used the live value: {self.after_restart.describe()} takes effect only "
                f"when {self.daemon} restarts")

    def evidence(self) -> dict[str, Any]:
        return {"live_value": self.live.value, "after_restart": self.after_restart.value,
                "after_restart_origin": self.after_restart.origin}


def live_vs_file(host: HostView, daemon: JudgedDaemon, key: str) -> LiveVsFile | None:
    """The live and after-restart values of ``key`` when they differ (None when equal or not both seen)."""
    live = host.setting(key, daemon)
    if not live.ok or live.get().origin != "live":
        return None
    saved = host.setting(key, daemon, live_first=False)
    if not saved.ok or saved.get().value == live.get().value:
        return None
    return LiveVsFile(daemon.name, live.get(), saved.get())
