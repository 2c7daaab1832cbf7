"""INS001 host-reachable — preflight could inspect the host at all.

What it checks
    That the host's transport (ssh, or the local machine) answered, so its
    facts could be gathered. It is judged whatever rules are selected: an
    unreachable host hides every other fact. When preflight ran on the source
    as the migration's own ssh identity, a destination it could not reach is
    SSH003's certain failure (with its cause), not an unknown: INS001 leaves it
    to SSH003.

Why it breaks a migration
    A host preflight cannot reach over ssh is one ``virsh migrate`` cannot
    reach either (the same name, key authentication and known_hosts); and
    nothing seen means nothing can be said READY.

How to fix it
    Check that the host is up, that SSH reaches it with key authentication
    (BatchMode) and that its host key is in known_hosts; then run again.
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.model.findings import Scope, Severity, Status
from preflight.rulekit import Context, Outcome
from preflight.view.sshconn import control_path

ID = "INS001"
NAME = "host-reachable"
SEVERITY = Severity.ERROR
NEEDS: tuple[str, ...] = ()  # the transport's own answer, never a probe
LINT = ("destination", "source")  # roles judged alone by `preflight lint`
TAGS = ("framework",)

REMEDIATION = ("Check that the host is up, that SSH reaches it with key authentication "
       "(BatchMode) and that its host key is in known_hosts; then run again.")


def _ssh003_judges(ctx: Context) -> bool:
    """The destination's failed connection was the migration's own: SSH003 FAILs it with its cause."""
    if not ctx.plan.uses_ssh:
        return False
    path = control_path(ctx.plan, ctx.source, ctx.dest)
    return path.ok and path.get().certain_failure


def check(ctx: Context) -> Iterator[Outcome]:
    for view in (ctx.source, ctx.dest):
        snap = view.snap
        if not snap.reachable and not (view is ctx.dest and _ssh003_judges(ctx)):
            yield Outcome(Status.UNKNOWN, Scope(snap.role), f"could not inspect {snap.spec}: "
                          f"{snap.unreachable_reason}", remediation=REMEDIATION)
