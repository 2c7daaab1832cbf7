"""Host data made safe for every report format, in one place.

Findings carry text from the inspected hosts (hostnames, /etc/hosts names,
config values, guest names) and the user's own arguments. A hostile host can put
terminal escapes in them (a fake green ``READY``), a newline (a forged verdict
line), or characters XML cannot hold. Every renderer (text, JSON, SARIF, JUnit)
takes findings and host fields through here:

- one-line fields (message, file, subject, remediation, spec, reasons, plan
  words) get every control character, newline included, shown as ``\\xNN``;
- ``evidence`` keeps its newlines (it is data, e.g. a traceback) but no other
  control character;
- XML additionally loses U+FFFE/U+FFFF, the two BMP characters XML 1.0 forbids
  that are not controls.

JSON would carry the raw characters safely as ``\\u001b``, but consumers print
``message``; so JSON gets the same escaped strings as the text report (a value
differs from the host's only where it held a control character).
"""

from __future__ import annotations

import re
from dataclasses import asdict, replace
from typing import Any

from preflight.model.findings import Finding
from preflight.model.plan import MigrationPlan
from preflight.report.words import human, opt_human, reference
from preflight.textsafe import escape_control, escape_deep

_NOT_XML = re.compile("[\ufffe\uffff]")


def line(text: str) -> str:
    """One-line host text: every control character, newline included, escaped."""
    return escape_control(text, keep_newlines=False)


def opt_line(text: str | None) -> str | None:
    return None if text is None else line(text)


def finding(f: Finding) -> Finding:
    """A copy of ``f`` whose one-line strings are escaped (``evidence`` as it was: see finding_dict);
    message and remediation in words (no probe keys, the RHEL guide named: report.words)."""
    waived = f.waived
    if waived is not None:  # the reason comes from a config file or a comment in the inspected file
        waived = replace(waived, kind=line(waived.kind), reason=line(waived.reason), origin=line(waived.origin),
                         expires=opt_line(waived.expires))
    return replace(f, rule=line(f.rule), name=line(f.name), message=human(line(f.message)), file=opt_line(f.file),
                   remediation=opt_line(opt_human(f.remediation)), subject=opt_line(f.subject), seed=opt_line(f.seed),
                   waived=waived)


def finding_dict(f: Finding) -> dict[str, Any]:
    """The JSON form of ``f``, escaped; evidence after asdict() so nested dataclasses are covered too."""
    d = finding(f).to_dict()
    d["evidence"] = escape_deep(d["evidence"])
    d["reference"] = opt_line(reference(f.seed))  # `seed` kept for compatibility; this one names the guide
    return d


def plan_dict(plan: MigrationPlan) -> dict[str, Any]:
    return {k: _deep_line(v) for k, v in asdict(plan).items()}


def _deep_line(value: object) -> Any:
    if isinstance(value, str):
        return line(value)
    if isinstance(value, list):
        return [_deep_line(v) for v in value]
    return value


def xml(text: str) -> str:
    """Text that any XML 1.0 parser accepts (after line())."""
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group(0)):04x}", line(text))
