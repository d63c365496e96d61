"""Server-side HTML: the package's Jinja2 templates and static files.

Both folders are package data of ``zoom_sam.ui`` (pyproject.toml), found through
``importlib.resources`` like ``zoom_sam/package_data.py`` finds the SQL, so an installed wheel
serves them as a checkout does: no CDN, no build step.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from zoom_sam.ui.exports import cell

_HERE = Path(str(resources.files("zoom_sam.ui")))
STATIC_DIR = _HERE / "static"
_templates = Jinja2Templates(directory=_HERE / "templates")


def shown(value: Any) -> Any:
    """A value as a table cell shows it: nothing for null, JSON text for nested values."""
    return "" if value is None else cell(value)


def figures(counts: dict[str, Any] | None) -> str:
    """A job's scalar counts as ``name value`` pairs (nested ones, like the API budget, are in its row)."""
    return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in (counts or {}).items()
                     if not isinstance(v, (dict, list)))


_templates.env.filters.update(shown=shown, figures=figures)


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    return _templates.TemplateResponse(request, name, context, status_code=status_code)
