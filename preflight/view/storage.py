"""Filesystem sharing of guest disks: which mount holds a path, and whether libvirt calls it shared."""

from __future__ import annotations

from preflight.defaults import is_shared_fstype
from preflight.known import Known, known, unknown
from preflight.parsers.commands import Mount, mount_for
from preflight.view.host import HostView


def filesystem_of(host: HostView, path: str) -> Known[Mount]:
    """The mount that holds ``path`` (after symlinks) on this host, or why it cannot be told."""
    stat, mounts = host.path_stat(path), host.mounts
    if not stat.ok:
        return unknown(stat.reason, stat.not_applicable)
    if not mounts.ok:
        return unknown(mounts.reason, mounts.not_applicable)
    mount = mount_for(stat.get().realpath, mounts.get())
    return known(mount, mounts.source) if mount is not None else unknown("no mount holds it")


def shared(mount: Mount) -> bool:
    """As libvirt judges it (virFileIsSharedFS): a disk elsewhere is refused as 'Unsafe migration'."""
    return is_shared_fstype(mount.fstype)
