"""Zoom's timestamps (``2026-11-20T10:00:00Z``): read in one place, as aware UTC datetimes."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


def parse_zoom_time(value: Any) -> datetime | None:
    """An aware UTC datetime; None when absent, unreadable, or without a zone (never guessed)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(timezone.utc) if moment.tzinfo else None
