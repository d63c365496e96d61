"""Whether a reclaim write has taken effect, judged from what Zoom shows now.

One definition serves three needs: resolving a write whose outcome is unknown (a dropped
connection, a 5xx, a task killed after the intent), confirming a write Zoom answered 2xx, and
the audit text that says which read confirmed it.
"""
from __future__ import annotations

from typing import Any

from zoom_sam.licensing import LICENSED_TYPE
from zoom_sam.reclaim.model import DISASSOCIATE, DOWNGRADE, Action


def reads_record(action: Action) -> bool:
    """True when the effect shows in the user record; False when it shows in the settings."""
    return action.name in (DOWNGRADE, DISASSOCIATE)


def applied(action: Action, *, record: dict[str, Any] | None = None, settings: dict[str, Any] | None = None) -> bool:
    """Whether the state read (``record`` for the seat, ``settings`` for add-ons) shows ``action`` done."""
    if action.name == DOWNGRADE:
        return record is not None and record.get("type") != LICENSED_TYPE
    if action.name == DISASSOCIATE:
        return record is None
    return ((settings or {}).get("feature") or {}).get(action.flag) is not True


def describe(action: Action, source: str, *, record: dict[str, Any] | None = None,
             settings: dict[str, Any] | None = None) -> str:
    """What the read from ``source`` showed, for the journal's ``confirmation``."""
    if action.name == DOWNGRADE:
        shown = "user not found" if record is None else f"type {record.get('type')}"
    elif action.name == DISASSOCIATE:
        shown = "invitation no longer listed" if record is None else f"invitation still there (type {record.get('type')})"
    elif settings is None:
        shown = "user not found"
    else:
        value = (settings.get("feature") or {}).get(action.flag)
        shown = f"feature.{action.flag} = {str(value).lower() if isinstance(value, bool) else value}"
    return f"{source}: {shown}"
