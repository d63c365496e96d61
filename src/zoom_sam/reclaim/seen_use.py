"""Hosting the re-check saw, kept as activity: what stopped a reclaim must count tomorrow too.

The re-check stops a candidate for a meeting or webinar hosted since the as-of, or scheduled
ahead. The activity pull would normally land that hosting the next day, but not always: Zoom
lists webinars only to users who still hold the webinar add-on, so a webinar hosted on the day an
admin removes the add-on is never listed again, and tomorrow the idle-looking seat would be
downgraded a day after it was used. So the instance is written to ``activity_event`` at once,
at its start time (``source`` = ``reclaim_recheck``). A scheduled event counts from its start
even if it never takes place: sparing a seat for one more threshold is the safe mistake. The pull
upserts the same uuid with what Zoom lists, if it ever lists it.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy.engine import Engine

from zoom_sam.activity.occurrences import minutes
from zoom_sam.warehouse.schema import activity_event
from zoom_sam.warehouse.upsert import upsert
from zoom_sam.zoom.timestamps import parse_zoom_time

SOURCE = "reclaim_recheck"


def record_seen_use(engine: Engine, profile_alias: str, user_id: str, seen: Sequence[tuple[str, dict[str, Any]]]) -> int:
    """Upsert the instances into ``activity_event``; returns how many had a start and a uuid."""
    now = datetime.now(timezone.utc)
    rows = []
    for event_type, item in seen:
        start, uuid = parse_zoom_time(item.get("start_time")), item.get("uuid")
        if start is None or not uuid:
            continue
        rows.append({"profile_alias": profile_alias, "event_type": event_type, "event_id": str(uuid),
                     "user_id": user_id, "meeting_id": str(item["id"]) if item.get("id") is not None else None,
                     "occurred_at": start, "duration_minutes": minutes(item.get("duration")), "source": SOURCE,
                     "pulled_at": now})
    if rows:
        upsert(engine, activity_event, rows)
    return len(rows)
