"""Shared body of the "destination not older" version rules."""

from __future__ import annotations

from collections.abc import Iterator

from preflight.known import Known
from preflight.model.findings import Scope
from preflight.rulekit import Outcome, failed, not_seen, passed
from preflight.versions import version_tuple


def not_older(what: str, src: Known[str], dst: Known[str], fix: str) -> Iterator[Outcome]:
    for fact, role in ((src, "source"), (dst, "destination")):
        if not fact.ok:
            yield not_seen(Scope.PAIR, f"{role} {what} version", fact)
            return
    s, d = version_tuple(src.get()), version_tuple(dst.get())
    ev = {"source": src.get(), "destination": dst.get(), "source_from": src.source, "destination_from": dst.source}
    if s is None or d is None:
        yield not_seen(Scope.PAIR, f"{what} version", Known(None, f"unreadable versions {src.get()!r}/{dst.get()!r}"))
        return
    if src.source.split()[0] != dst.source.split()[0]:
        # One side is a package version ("7.2+dfsg-7"), the other the running binary's report
        # ("7.2.22"): distributions patch without changing the package's upstream number, so
        # only major.minor compare reliably.
        s, d = s[:2], d[:2]
        ev["compared"] = "major.minor (the versions come from different sources)"
    if d < s:
        yield failed(Scope.PAIR, f"destination {what} {dst.get()} is older than the source's {src.get()}: "
                     "migrating to an older release is not supported", fix, evidence=ev)
    else:
        rel = "the same as" if d[:3] == s[:3] else "newer than"
        yield passed(Scope.PAIR, f"destination {what} {dst.get()} is {rel} the source's {src.get()}", evidence=ev)
