"""What a daemon does when a setting is absent, per release.

The seed (a RHEL 6-era guide) documents ``max_clients = 20``; libvirt raised
the compiled default to 5000 when it introduced ``max_anonymous_clients``
(libvirt 1.2.x; RHEL 7 and later ship 5000). Rules say which table applied to
the host they inspected.
"""

from __future__ import annotations

from dataclasses import dataclass

from preflight.versions import version_tuple

# First libvirt release whose compiled defaults are the current ones, and whose
# server stops accepting (connections queue in the kernel backlog) instead of
# accepting and dropping a client over max_clients.
MODERN_LIBVIRT = (1, 2, 0)

OLD_LIBVIRT_DEFAULTS: dict[str, int] = {
    "max_clients": 20,
    "min_workers": 5,
    "max_workers": 20,
    "prio_workers": 5,
    "max_requests": 20,
    "max_client_requests": 5,
}

MODERN_LIBVIRT_DEFAULTS: dict[str, int] = {
    "max_clients": 5000,
    "max_queued_clients": 1000,
    "max_anonymous_clients": 20,
    "min_workers": 5,
    "max_workers": 20,
    "prio_workers": 5,
    "max_client_requests": 5,
}


@dataclass(frozen=True)
class LibvirtDefaults:
    values: dict[str, int]
    label: str  # shown to the user: which table applied and why
    over_limit: str  # "queue" (new connections wait), "drop" (accepted then closed) or "unknown"

    def get(self, key: str) -> int | None:
        return self.values.get(key)




def is_test_driver(uri: str | None) -> bool:
    """libvirt's test driver (test:///default, test:///abs/path.xml): a model of guests, not of a host.

    It answers host-level calls (getHostname ...) with this machine's values, so those mean nothing.
    """
    return bool(uri) and str(uri).startswith("test:")


def libvirt_defaults(libvirt_version: str | None, modular: bool = False) -> LibvirtDefaults:
    """The compiled defaults of the libvirt release on the host (``modular``: of virtqemud/virtproxyd).

    >>> libvirt_defaults("9.0.0").get("max_clients")
    5000
    >>> libvirt_defaults("0.10.2").get("max_clients")
    20
    >>> libvirt_defaults(None).get("max_clients")
    20
    >>> libvirt_defaults(None, modular=True).get("max_clients")
    5000
    """
    vt = version_tuple(libvirt_version)
    if vt is None and modular:
        # A modular daemon's file exists: the release is 5.6 or later, whatever the packages say.
        return LibvirtDefaults(
            MODERN_LIBVIRT_DEFAULTS,
            "libvirt release unknown, but modular daemons exist only since libvirt 5.6: "
            "current compiled defaults (max_clients 5000)",
            "queue",
        )
    if vt is not None and vt < MODERN_LIBVIRT:
        return LibvirtDefaults(
            OLD_LIBVIRT_DEFAULTS,
            f"libvirt {libvirt_version} defaults (before 1.2: max_clients 20, as in the RHEL guide)",
            "drop",
        )
    if vt is None:
        # Cannot tell which table applies: judge against the smaller one, and say so.
        return LibvirtDefaults(
            {**MODERN_LIBVIRT_DEFAULTS, "max_clients": OLD_LIBVIRT_DEFAULTS["max_clients"]},
            "libvirt release unknown: judged against the smaller compiled default "
            "(max_clients 20 before libvirt 1.2, as in the RHEL guide; 5000 since)",
            "unknown",
        )
    return LibvirtDefaults(
        MODERN_LIBVIRT_DEFAULTS,
        f"libvirt {libvirt_version} defaults (since 1.2: max_clients 5000; the RHEL guide's 20 is pre-1.2)",
        "queue",
    )


# Filesystems libvirt itself treats as shared (virFileIsSharedFS /
# virFileIsClusterFS in libvirt 9): a disk elsewhere makes it refuse a live
# migration with "Unsafe migration" unless --unsafe is given.
SHARED_FSTYPES = frozenset(
    {"nfs", "nfs4", "gfs2", "ocfs2", "afs", "smb3", "cifs", "ceph", "gpfs", "beegfs", "lustre"}
)
SHARED_FUSE_SUBTYPES = frozenset({"glusterfs", "quobyte"})


def is_shared_fstype(fstype: str) -> bool:
    """As libvirt judges a mount's type (FUSE only with a cluster subtype).

    >>> is_shared_fstype("fuse.glusterfs"), is_shared_fstype("fuse.sshfs"), is_shared_fstype("ext4")
    (True, False, False)
    """
    if fstype.startswith("fuse."):
        return fstype.split(".", 1)[1] in SHARED_FUSE_SUBTYPES
    return fstype in SHARED_FSTYPES
