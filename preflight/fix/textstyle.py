"""Line endings: edit on LF text, give the file back the endings it came with.

Augeas lenses (libvirt's own included) do not accept CR, so fixers work on
LF-only text; :meth:`LineStyle.restore` puts CRLF and a missing final newline
back unless the fixer decided to convert (when the project's parser misreads
the CRLF file, the conversion is itself the fix).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LineStyle:
    crlf: bool
    final_newline: bool

    @classmethod
    def of(cls, text: str) -> LineStyle:
        """CRLF when every line break is one (a mixed file is treated as LF and keeps its CRs)."""
        breaks = text.count("\n")
        crlf = breaks > 0 and text.count("\r\n") == breaks
        return cls(crlf=crlf, final_newline=not text or text.endswith("\n"))

    def normalise(self, text: str) -> str:
        out = text.replace("\r\n", "\n") if self.crlf else text
        return out if not out or out.endswith("\n") else out + "\n"

    def restore(self, text: str, keep_crlf: bool = True) -> str:
        out = text
        if not self.final_newline and out.endswith("\n"):
            out = out[:-1]
        if self.crlf and keep_crlf:
            out = out.replace("\n", "\r\n")
        return out

    def describe(self) -> str:
        parts = ["CRLF line endings" if self.crlf else "", "" if self.final_newline else "no final newline"]
        return ", ".join(p for p in parts if p)
