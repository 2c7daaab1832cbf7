"""Gathering: one batched sh script per host, libvirt facts, both hosts in parallel."""

from __future__ import annotations

from preflight.gather.libvirt_facts import gather_libvirt
from preflight.gather.pair import default_libvirt_uri, gather_host, gather_pair

__all__ = ["default_libvirt_uri", "gather_host", "gather_libvirt", "gather_pair"]
