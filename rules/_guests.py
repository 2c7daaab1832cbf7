"""The planned guests, for rules that judge the destination's side of running them (GST006, GST007)."""

from __future__ import annotations

from preflight.model.facts import GuestFact
from preflight.model.findings import Scope
from preflight.rulekit import Context, Outcome, not_seen, skipped

DST = Scope.DESTINATION


def guests_on_runnable_dest(
    ctx: Context, what: str, test_driver: str, image: str, offline: str | None = None
) -> tuple[list[GuestFact], Outcome | None]:
    """The planned guests the source knows, or the one outcome that stops the rule: the source's libvirt
    unseen (UNKNOWN), a test-driver or image-root destination (nothing there can run: SKIP), and, when
    ``offline`` says why the rule does not apply to an --offline migration, that SKIP."""
    src = ctx.source.libvirt
    if src is None:
        return [], not_seen(DST, what, ctx.source.libvirt_reason())
    if ctx.dest.libvirt_is_test_driver:
        return [], skipped(DST, test_driver)
    if ctx.dest.image_mode:
        return [], skipped(DST, image)
    if offline is not None and ctx.plan.offline:
        return [], skipped(DST, f"--offline: {offline}")
    return [g for g in (src.guest(n) for n in ctx.guests) if g is not None], None
