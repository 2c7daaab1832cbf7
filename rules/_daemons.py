"""Helpers shared by the daemon rules (LIM, DMN): which daemons each host's findings judge."""

from __future__ import annotations

from typing import Any

from preflight.model.findings import Scope
from preflight.rulekit import Context
from preflight.view import JudgedDaemon
from preflight.view.daemons import evidence


def judged(ctx: Context, scope: Scope) -> list[JudgedDaemon]:
    """The daemons a migration meets on ``scope``'s host: the destination's take the incoming connection."""
    incoming = ctx.plan.dest_transport if scope is Scope.DESTINATION else None
    return ctx.host(scope).judged_daemons(incoming)


def said(daemon: JudgedDaemon) -> str:
    """The suffix every daemon finding carries: which daemon, which file, and why."""
    return f" [{daemon.describe()}]"


def facts(daemon: JudgedDaemon) -> dict[str, Any]:
    return dict(evidence(daemon))  # the fix reads it back with view.daemons.judged_by


def admin(daemon: JudgedDaemon) -> str:
    """virt-admin aimed at this daemon's admin socket (libvirtd is virt-admin's default)."""
    return "virt-admin" if daemon.name == "libvirtd" else f"virt-admin -c {daemon.admin_uri}"
