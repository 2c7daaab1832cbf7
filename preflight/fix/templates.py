"""Jinja2 templates in the project's templates/ directory (drop-ins and whole files).

Installed, templates/ is package data of ``preflight.templates`` (pyproject.toml's package-dir;
the editable install maps it to the checkout's folder), so they are read with importlib.resources.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import jinja2


def _source(name: str) -> str | None:
    try:
        return resources.files("preflight.templates").joinpath(name).read_text(encoding="utf-8")
    except OSError:
        return None  # jinja2 raises TemplateNotFound


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    # Config files, not HTML: no autoescape; a missing variable is a bug, not an empty string.
    return jinja2.Environment(loader=jinja2.FunctionLoader(_source), autoescape=False,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                              trim_blocks=True, lstrip_blocks=True)


def render(name: str, **values: Any) -> str:
    return _env().get_template(name).render(**values)
