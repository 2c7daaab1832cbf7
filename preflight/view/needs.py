"""What each fact a rule may declare in ``NEEDS`` is gathered from: view facts -> probe keys.

A rule names the view facts and combiners it reads; the gather plan for ``--select`` is the
union of their probe keys (:func:`probe_keys`), so ``check --select SSH`` runs only the
sshd sections. Per-item probes are named by their prefix (one getent per name ...).
tests/rule_checks/test_needs.py runs every rule on facts cut down to its declared needs and
requires the same findings as with every fact: a missing declaration fails there.
"""

from __future__ import annotations

from collections.abc import Iterable

from preflight.model import probes as P

_F = P.file_key
_LAYOUT = (P.DAEMONS, _F(P.LIBVIRTD_CONF), _F(P.VIRTQEMUD_CONF), _F(P.VIRTPROXYD_CONF))
_HOSTNAME = (P.HOSTNAME, P.HOSTNAME_F, _F(P.ETC_HOSTNAME))  # and libvirt's, always gathered
_SSHD_FILES = (_F(P.SSHD_CONFIG), P.SSHD_FILES, P.SSHD_VERSION)

FACTS: dict[str, tuple[str, ...]] = {
    "libvirt": (),  # guests, hostname, versions: libvirt is always asked (it names the disk paths)
    "hostname": _HOSTNAME,
    "addresses": (P.ADDRESSES, _F(P.ETC_HOSTS), *_HOSTNAME),
    "hosts_file": (_F(P.ETC_HOSTS),),
    "getent": (P.GETENT_PREFIX,),
    "migration_names": (_F(P.QEMU_CONF), *_HOSTNAME),
    "os_release": (_F(P.OS_RELEASE), _F(P.REDHAT_RELEASE)),
    "judged_daemons": _LAYOUT,
    "qemu_conf": (_F(P.QEMU_CONF),),
    "host_uuid": _LAYOUT,
    "libvirt_version": (P.PACKAGES,),
    "qemu_version": (P.PACKAGES,),
    "settings": (*_LAYOUT, P.VIRT_ADMIN_PREFIX, P.PACKAGES),  # live, file, default by release
    "sshd_version": (P.SSHD_VERSION,),
    "sshd_value": (*_SSHD_FILES, P.SSHD_T),
    "ssh_dropped": (P.SSH_DROPPED,),
    "ssh_connect": (P.SSH_CONNECT,),
    "known_hosts": (P.KNOWN_HOST_PREFIX, P.GETENT_PREFIX),  # asked beside getent, for the same names
    "mounts": (P.MOUNTINFO,),
    "netdevs": (P.NETDEVS,),
    "path_stat": (P.PATH_PREFIX,),
    "emulator_run": (P.EMULATOR_PREFIX,),  # `EMULATOR -version` per guest emulator path
    "kvm": (P.KVM,),
    "firewall": (P.FIREWALLD, P.NFT, P.IPTABLES, _F(P.QEMU_CONF)),
    "listening": (P.LISTENING,),  # TCP ports in LISTEN (ss)
    "pki": (_F(P.CA_CERT), _F(P.CLIENT_CERT), _F(P.SERVER_CERT), P.PKI_KEYS),  # libvirt's TLS
    "qemu_pki": (_F(P.QEMU_CA_CERT), _F(P.QEMU_SERVER_CERT), _F(P.QEMU_CLIENT_CERT), P.PKI_KEYS,
                 _F(P.QEMU_CONF)),  # QEMU's migration TLS (--tls)
}


def probe_keys(needs: Iterable[str]) -> set[str]:
    """The probe keys (or key prefixes) behind these facts.

    A need is a fact named here or a declared probe key itself (``"file:/etc/foo"`` read with
    ``HostView.file``): a new file is then one entry in probes.FILES. KeyError for anything else.
    """
    out: set[str] = set()
    for fact in needs:
        if fact in FACTS:
            out.update(FACTS[fact])
        elif (spec := P.spec_of(fact)) is not None and not spec.per:  # a file of FILES, a command's key
            out.add(fact)
        else:
            raise KeyError(f"{fact!r}: neither a fact of preflight.view.needs nor a declared probe key")
    return out
