"""The files the package ships beside its code: SQL statements and the default profiles.

They are package data (``zoom_sam/include/``), so a regular, non-editable install of the wheel
finds them exactly like a source checkout does. Wheels install unzipped and profile paths travel
in DAG arguments, so callers get a real filesystem path.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path


def package_folder(*parts: str) -> Path:
    """``zoom_sam/include/<parts...>`` of the installed package, as a path."""
    return Path(str(resources.files("zoom_sam").joinpath("include", *parts)))
