"""Gathering: one batched sh script per host, libvirt facts, both hosts in parallel.

Names are imported on first use: ``import libvirt`` alone costs ~12 ms, and an image-root lint or
check without a libvirt URI never needs it (a live gather imports it in its libvirt thread, while
the ssh handshake runs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from preflight.gather.libvirt_facts import gather_libvirt
    from preflight.gather.pair import default_libvirt_uri, gather_host, gather_pair

__all__ = ["default_libvirt_uri", "gather_host", "gather_libvirt", "gather_pair"]


def __getattr__(name: str) -> Any:
    if name == "gather_libvirt":
        from preflight.gather import libvirt_facts

        return libvirt_facts.gather_libvirt
    if name in __all__:
        from preflight.gather import pair

        return getattr(pair, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
