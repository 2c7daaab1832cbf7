"""Effective sshd settings for the rules: `sshd -T` when it ran, else the parsed files."""

from __future__ import annotations

from dataclasses import dataclass

from preflight.known import Known, known, unknown
from preflight.view import HostView


@dataclass(frozen=True)
class SshdValue:
    value: str | None  # None: not set anywhere, the compiled default applies
    origin: str  # "sshd -T" | "file" | "default"
    file: str | None = None
    line: int | None = None

    def where(self) -> str:
        if self.origin == "file":
            return f"{self.file}:{self.line}"
        return "effective value from sshd -T" if self.origin == "sshd -T" else "compiled default"


def sshd_value(host: HostView, keyword: str) -> Known[SshdValue]:
    files = host.sshd_config
    placed = files.get().effective(keyword) if files.ok else None
    file, line = (placed.file, placed.line) if placed else (None, None)
    live = host.sshd_effective_T
    if live.ok and keyword.lower() in live.get():
        return known(SshdValue(live.get()[keyword.lower()][0], "sshd -T", file, line), "sshd -T")
    if not files.ok:
        return unknown(files.reason, files.not_applicable)
    if files.get().errors:
        err = files.get().errors[0]
        where = f"{err.file}:{err.line}" if err.line else err.file
        return unknown(f"{where}: {err.message}")
    if placed is not None:
        return known(SshdValue(placed.value, "file", file, line), "file")
    return known(SshdValue(None, "default"), "default")
