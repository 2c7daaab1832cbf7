"""What a fix computes: changed files per host, why, and what could not be fixed."""

from __future__ import annotations

from dataclasses import dataclass, field

from preflight.model.findings import Finding


@dataclass
class FileChange:
    """One file's new text on one host, with the reasoning shown to the user."""

    host: str  # "source" | "destination"
    path: str  # as on the host
    old: str | None  # None: a new file
    new: str
    rules: list[str]  # finding ids this change answers
    reasons: list[str] = field(default_factory=list)
    service: str | None = None  # what to restart/reload for it to apply
    live_commands: list[str] = field(default_factory=list)  # apply without a restart (virt-admin)

    @property
    def changed(self) -> bool:
        return self.old != self.new


@dataclass
class NotFixed:
    """A failing finding without a mechanical fix, or one whose fix was refused."""

    finding: Finding
    why: str
    needs: str | None = None  # the option that would let fix do it (e.g. --dest-address): exit 1, not 0


@dataclass
class FixPlan:
    changes: list[FileChange] = field(default_factory=list)
    not_fixed: list[NotFixed] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # policy conflicts, alternatives

    def change_for(self, host: str, path: str) -> FileChange | None:
        for change in self.changes:
            if change.host == host and change.path == path:
                return change
        return None

    @property
    def effective(self) -> list[FileChange]:
        return [c for c in self.changes if c.changed]
