"""Results of rules: one Finding per (rule, host, subject)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any


class Status(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"
    UNKNOWN = "unknown"


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Scope(str, Enum):
    SOURCE = "source"
    DESTINATION = "destination"
    PAIR = "pair"


@dataclass(frozen=True)
class Location:
    """A place in a file, 1-based line; line None when the setting is absent (a default)."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class Waived:
    """Why a FAIL finding does not fail the gate: a waiver (config or baseline file) or an inline
    ``# preflight: ignore[RULE] reason`` comment in the inspected file."""

    kind: str  # "config" | "baseline" | "inline"
    reason: str
    origin: str  # where the waiver is: "preflight.toml:12", "/etc/ssh/sshd_config:4"
    expires: str | None = None  # ISO date


@dataclass
class Finding:
    rule: str  # id, e.g. "NET001"
    name: str  # slug, e.g. "dest-name-resolves"
    status: Status
    severity: Severity
    host: Scope
    message: str
    file: str | None = None
    line: int | None = None
    remediation: str | None = None
    subject: str | None = None  # guest name, disk path, config key ... when a rule reports several
    evidence: dict[str, Any] = field(default_factory=dict)
    seed: str | None = None  # the seed statement the rule comes from
    waived: Waived | None = None  # a FAIL accepted by a waiver: reported, never fails the gate

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["status"] = self.status.value
        d["severity"] = self.severity.value
        d["host"] = self.host.value
        return d


class ParseError(Exception):
    """A configuration file that could not be read as its program would read it."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        super().__init__(f"{file}:{line or '?'}: {message}")
        self.file = file
        self.line = line
        self.message = message
