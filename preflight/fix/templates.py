"""Jinja2 templates in the project's templates/ directory (drop-ins and whole files)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates"


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    # Config files, not HTML: no autoescape; a missing variable is a bug, not an empty string.
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)), autoescape=False,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                              trim_blocks=True, lstrip_blocks=True)


def render(name: str, **values: Any) -> str:
    return _env().get_template(name).render(**values)
