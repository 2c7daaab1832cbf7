"""The view layer: one host's facts parsed once (:class:`HostView`) and the combiners.

insights-core's word: a combiner joins several facts into the knowledge rules share.
Each combiner is one small module here, used by rules and fixes alike:
``daemons`` (the libvirt daemon(s) and file governing a transport), ``sshd``
(effective sshd values with their origin), ``names`` (the names the migration
resolves), ``storage`` (filesystem sharing of guest disks), ``firewall`` (the
destination's inbound filter). Rules import these, never a parser or a probe key.
"""

from __future__ import annotations

from preflight.parsers.libvirtconf import LibvirtConf
from preflight.view.daemons import JudgedDaemon
from preflight.view.host import LIVE_FIELDS, HostView, Setting

__all__ = ["LIVE_FIELDS", "HostView", "JudgedDaemon", "LibvirtConf", "Setting"]
