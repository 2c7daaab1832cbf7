"""HostView: one host's facts, parsed once and shared by every rule and fix.

Raw probes from a :class:`HostSnapshot` become typed, effective values, each a
:class:`Known` that carries the reason when it could not be seen. Knowledge
that combines several facts lives in the sibling combiner modules
(:mod:`preflight.view.daemons`, ``sshd``, ``names``, ``storage``, ``firewall``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from preflight.defaults import LibvirtDefaults, is_test_driver, libvirt_defaults
from preflight.known import Known, known, unknown
from preflight.model import probes as P
from preflight.model.facts import Availability, HostMode, HostSnapshot, LibvirtFacts, Probe
from preflight.parsers import commands
from preflight.parsers.hosts import HostsFile, parse_hosts
from preflight.parsers.libvirtconf import LibvirtConf, parse_libvirt_conf
from preflight.parsers.osrelease import OsRelease, parse_os_release, parse_redhat_release
from preflight.parsers.sshd import SshdConfig, parse_sshd, parse_sshd_T
from preflight.view import daemons
from preflight.view.daemons import JudgedDaemon

# libvirt daemon config keys and the virt-admin field reporting the live value.
LIVE_FIELDS = {
    "max_clients": "nclients_max",
    "max_anonymous_clients": "nclients_unauth_max",
    "max_workers": "maxWorkers",
    "min_workers": "minWorkers",
    "prio_workers": "prioWorkers",
}


@dataclass(frozen=True)
class Setting:
    """An effective daemon setting and where its value came from."""

    key: str
    value: int
    origin: str  # "live" (virt-admin) | "file" | "default"
    file: str | None = None
    line: int | None = None
    note: str = ""

    def describe(self) -> str:
        where = {"live": "live value from virt-admin", "file": f"set at {self.file}:{self.line}"}.get(
            self.origin, self.note or "compiled default"
        )
        return f"{self.key} = {self.value} ({where})"


def _from_probe(probe: Probe) -> Known[str]:
    if probe.ok and probe.text is not None:
        return known(probe.text, probe.how)
    na = probe.status is Availability.NOT_AVAILABLE and probe.error != "not gathered"
    return unknown(probe.reason(), not_applicable=na)


class HostView:
    def __init__(self, snapshot: HostSnapshot) -> None:
        self.snap = snapshot
        self.role = snapshot.role
        self._confs: dict[str, Known[LibvirtConf]] = {}

    # --- raw access ---------------------------------------------------------
    @property
    def image_mode(self) -> bool:
        return self.snap.mode is HostMode.IMAGE

    def text(self, key: str) -> Known[str]:
        return _from_probe(self.snap.probe(key))

    def file(self, path: str) -> Known[str]:
        return self.text(P.file_key(path))

    def file_exists(self, path: str) -> bool | None:
        """True/False when known, None when the host could not be read."""
        probe = self.snap.probe(P.file_key(path))
        if probe.status is Availability.OK:
            return True
        if probe.status is Availability.MISSING:
            return False
        return None

    @property
    def libvirt(self) -> LibvirtFacts | None:
        lv = self.snap.libvirt
        return lv if lv is not None and lv.ok else None

    def libvirt_reason(self) -> Known[LibvirtFacts]:
        lv = self.snap.libvirt
        if lv is None:
            return unknown("libvirt was not consulted", not_applicable=self.image_mode)
        if not lv.ok:
            # "not available" is a SKIP only for an image root (no libvirt there to ask); a live host's
            # libvirt that was not asked is UNKNOWN (a crafted or partial snapshot must not skip to READY)
            return unknown(f"libvirt {lv.uri}: {lv.error or lv.status.value}",
                           not_applicable=lv.status is Availability.NOT_AVAILABLE and self.image_mode)
        return known(lv, f"libvirt {lv.uri}")

    @property
    def libvirt_is_test_driver(self) -> bool:
        lv = self.snap.libvirt
        return lv is not None and is_test_driver(lv.uri)

    def _libvirt_field(self, name: str) -> Known[str]:
        """A host-level libvirt answer; the test driver models none of them."""
        lv = self.libvirt_reason()
        if not lv.ok:
            return unknown(lv.reason, lv.not_applicable)
        facts = lv.get()
        if self.libvirt_is_test_driver:
            return unknown(f"libvirt test driver ({facts.uri}) does not model {name}", not_applicable=True)
        value = getattr(facts, name)
        if value is None:
            return unknown(f"libvirt {facts.uri}: {facts.errors.get(name, 'no ' + name)}")
        return known(str(value), f"libvirt {facts.uri}")

    # --- identity -------------------------------------------------------------
    @cached_property
    def hostname(self) -> Known[str]:
        """The name libvirt uses for this host in migration URIs (virGetHostname)."""
        via_libvirt = self._libvirt_field("hostname")
        if via_libvirt.ok:
            return via_libvirt
        for key in (P.HOSTNAME_F, P.HOSTNAME):
            got = self.text(key)
            if got.ok and got.get().strip():
                return known(got.get().strip().splitlines()[0], got.source)
        etc = self.file(P.ETC_HOSTNAME)
        if etc.ok and etc.get().strip():
            return known(etc.get().strip().splitlines()[0].strip(), f"{P.ETC_HOSTNAME}")
        why_etc = etc.reason if not etc.ok else f"{P.ETC_HOSTNAME} is empty"
        return unknown("; ".join(r for r in (via_libvirt.reason, why_etc) if r))

    @cached_property
    def addresses(self) -> Known[list[str]]:
        """The host's own addresses; in image mode, what its /etc/hosts says its name has."""
        live = self.text(P.ADDRESSES).map(commands.parse_addresses)
        if live.ok or not live.not_applicable:
            return live
        name, hosts = self.hostname, self.hosts_file
        if name.ok and hosts.ok:
            own = [a for a in hosts.get().addresses_for(name.get()) if not a.startswith(("127.", "::1"))]
            if own:
                return known(own, f"{P.ETC_HOSTS} entry for {name.get()}")
        # Say why the files could not tell either: rules must not take "unknown" for "none".
        why = (f"its hostname is unknown ({name.reason})" if not name.ok else
               f"{P.ETC_HOSTS} unreadable ({hosts.reason})" if not hosts.ok else
               f"no non-loopback {P.ETC_HOSTS} entry for its hostname {name.get()}")
        return unknown(f"{live.reason}; {why}", not_applicable=True)

    @cached_property
    def host_uuid(self) -> Known[str]:
        via_libvirt = self._libvirt_field("host_uuid")
        if via_libvirt.ok:
            return via_libvirt
        for daemon in self.judged_daemons():  # virtqemud.conf on a modular host
            conf = self.conf_file(daemon.path)
            entry = conf.get().get("host_uuid") if conf.ok else None
            if entry is not None and isinstance(entry.value, str):
                return known(entry.value.lower(), f"{conf.get().path}:{entry.line}")
        return unknown(via_libvirt.reason, via_libvirt.not_applicable)

    # --- parsed files ---------------------------------------------------------
    @cached_property
    def hosts_file(self) -> Known[HostsFile]:
        return self.file(P.ETC_HOSTS).map(lambda t: parse_hosts(t, P.ETC_HOSTS))

    @cached_property
    def os_release(self) -> Known[OsRelease]:
        osr = self.file(P.OS_RELEASE)
        if osr.ok:
            return known(parse_os_release(osr.get()), P.OS_RELEASE)
        rhr = self.file(P.REDHAT_RELEASE)
        if rhr.ok:
            return known(parse_redhat_release(rhr.get()), P.REDHAT_RELEASE)
        return unknown(osr.reason, osr.not_applicable)

    @cached_property
    def daemons(self) -> Known[dict[str, tuple[str, str]]]:
        return self.text(P.DAEMONS).map(commands.parse_daemons)

    # --- which libvirt daemons take the migration's connections (preflight.view.daemons) ---
    def judged_daemons(self, incoming: str | None = None) -> list[JudgedDaemon]:
        """The daemons whose limits and config a migration meets on this host: see daemons.judged."""
        return daemons.judged(self, incoming)

    @cached_property
    def daemon_name(self) -> str:
        """The first daemon that takes migration connections: libvirtd, or virtqemud when modular."""
        return self.judged_daemons()[0].name

    @property
    def daemon_conf_path(self) -> str:
        return self.judged_daemons()[0].path

    @property
    def daemon_conf(self) -> Known[LibvirtConf]:
        return self.conf_file(self.daemon_conf_path)

    def conf_file(self, path: str) -> Known[LibvirtConf]:
        """A libvirt-style config file parsed; absent means every setting is the compiled default."""
        if path not in self._confs:
            probe = self.snap.probe(P.file_key(path))
            if probe.status is Availability.MISSING:
                self._confs[path] = known(parse_libvirt_conf("", path), f"{path} (absent)")
            else:
                self._confs[path] = self.file(path).map(lambda t: parse_libvirt_conf(t, path))
        return self._confs[path]

    @cached_property
    def qemu_conf(self) -> Known[LibvirtConf]:
        return self.conf_file(P.QEMU_CONF)

    # --- versions -------------------------------------------------------------
    @cached_property
    def packages(self) -> Known[dict[str, str]]:
        return self.text(P.PACKAGES).map(commands.parse_packages)

    def _package_version(self, names: tuple[str, ...]) -> Known[str]:
        pk = self.packages
        if not pk.ok:
            return unknown(pk.reason, pk.not_applicable)
        for name in names:
            if name in pk.get():
                return known(pk.get()[name], f"package {name}")
        return unknown(f"none of the packages {', '.join(names)} is installed")

    @cached_property
    def libvirt_version(self) -> Known[str]:
        via_libvirt = self._libvirt_field("lib_version")
        if via_libvirt.ok:
            return via_libvirt
        pkg = self._package_version(
            ("libvirt-daemon", "libvirt-daemon-driver-qemu", "libvirt-daemon-system", "libvirt0", "libvirt-libs")
        )
        return pkg if pkg.ok else Known(None, via_libvirt.reason or pkg.reason,
                                        via_libvirt.not_applicable and pkg.not_applicable)

    @cached_property
    def qemu_version(self) -> Known[str]:
        via_libvirt = self._libvirt_field("hypervisor_version")
        if via_libvirt.ok:
            return via_libvirt
        pkg = self._package_version(("qemu-kvm", "qemu-kvm-core", "qemu-system-x86", "qemu-system-x86-core"))
        return pkg if pkg.ok else Known(None, via_libvirt.reason or pkg.reason,
                                        via_libvirt.not_applicable and pkg.not_applicable)

    @cached_property
    def hypervisor_type(self) -> Known[str]:
        return self._libvirt_field("hypervisor_type")

    # --- daemon limits --------------------------------------------------------
    @cached_property
    def defaults(self) -> LibvirtDefaults:
        return self.defaults_for(self.daemon_name)

    def defaults_for(self, daemon: str) -> LibvirtDefaults:
        v = self.libvirt_version
        return libvirt_defaults(v.value if v.ok else None, modular=daemon != "libvirtd")

    @property
    def virt_admin(self) -> Known[dict[str, int]]:
        return self.virt_admin_of(self.daemon_name)

    def virt_admin_of(self, daemon: str) -> Known[dict[str, int]]:
        return self.text(P.virt_admin_key(daemon)).map(commands.parse_virt_admin)

    def setting(self, key: str, daemon: JudgedDaemon | None = None, live_first: bool = True) -> Known[Setting]:
        """Effective value of a daemon limit: live (virt-admin), else file, else release default.

        ``daemon`` defaults to the first judged daemon (:attr:`daemon_name`). ``live_first=False``:
        what the daemon reads when it next starts (file, else default), whatever runs now.
        """
        d = daemon or self.judged_daemons()[0]
        live = self.virt_admin_of(d.name)
        field = LIVE_FIELDS.get(key)
        if live_first and live.ok and field is not None and field in live.get():
            return known(Setting(key, live.get()[field], "live"), "virt-admin")
        conf = self.conf_file(d.path)
        if not conf.ok:
            return unknown(conf.reason, conf.not_applicable)
        parsed = conf.get()
        if parsed.errors or parsed.invalid:  # a file the daemon refuses: it does not run with it
            err = (parsed.errors or parsed.invalid)[0]
            return unknown(f"{err.file}:{err.line}: {err.message}")
        entry = parsed.get(key)
        if entry is not None:
            if not isinstance(entry.value, int) or isinstance(entry.value, bool):
                return unknown(f"{parsed.path}:{entry.line}: {key} is not a number")
            return known(Setting(key, entry.value, "file", parsed.path, entry.line), parsed.path)
        defaults = self.defaults_for(d.name)
        default = defaults.get(key)
        if default is None:
            return unknown(f"{key}: no default known for this libvirt release")
        return known(Setting(key, default, "default", parsed.path, None, defaults.label), "default")

    # --- sshd -----------------------------------------------------------------
    @cached_property
    def sshd_version(self) -> Known[str]:
        return self.text(P.SSHD_VERSION).map(commands.parse_sshd_version, "no OpenSSH version in sshd -V")

    @cached_property
    def sshd_config(self) -> Known[SshdConfig]:
        index = self.text(P.SSHD_FILES)
        main = self.file(P.SSHD_CONFIG)
        if not main.ok:
            return unknown(main.reason, main.not_applicable)
        paths = [P.SSHD_CONFIG]
        if index.ok:
            paths += [p for p in index.get().splitlines() if p.strip() and p != P.SSHD_CONFIG]
        files: dict[str, str | None] = {}
        unreadable: dict[str, str] = {}
        for path in paths:
            f = self.file(path)
            files[path] = f.value
            if not f.ok and not path.startswith("!"):
                unreadable[path] = f.reason or "not read"
        version = self.sshd_version.value
        # a missing Include index means the drop-ins are unseen, not absent: the parser says so
        return known(parse_sshd(files, P.SSHD_CONFIG, version, unreadable=unreadable,
                                index_error=None if index.ok else index.reason), P.SSHD_CONFIG)

    @cached_property
    def sshd_effective_T(self) -> Known[dict[str, list[str]]]:
        return self.text(P.SSHD_T).map(parse_sshd_T)

    # --- storage & resolution ---------------------------------------------------
    @cached_property
    def mounts(self) -> Known[list[commands.Mount]]:
        return self.text(P.MOUNTINFO).map(commands.parse_mountinfo)

    @cached_property
    def netdevs(self) -> Known[list[str]]:
        """Names of the host's network devices (bridges, NICs, macvtap parents)."""
        return self.text(P.NETDEVS).map(lambda t: [line.strip() for line in t.split() if line.strip()])

    def path_stat(self, path: str) -> Known[commands.PathStat]:
        probe = self.snap.probe(P.path_key(path))
        if probe.status is Availability.MISSING:
            return unknown(f"{path} does not exist on this host")
        seen = _from_probe(probe)
        if not seen.ok:
            return Known(None, seen.reason, seen.not_applicable, seen.source)
        try:
            return known(commands.parse_path_stat(seen.get()), seen.source)
        except ValueError:  # a crafted snapshot's line: no rule may take it for a stat
            return unknown(f"{probe.how}: output not understood")

    def path_missing(self, path: str) -> bool:
        return self.snap.probe(P.path_key(path)).status is Availability.MISSING

    def getent(self, name: str) -> Known[list[str]]:
        """Addresses the resolver returns for name; [] when it answered "not found" (exit 2)."""
        probe = self.snap.probe(P.getent_key(name))
        if probe.rc == 2 and probe.status in (Availability.OK, Availability.ERROR):
            return known([], probe.how)
        return _from_probe(probe).map(commands.parse_getent_ahosts)
