"""Zoom listing items -> warehouse rows: pure functions, the client-side half of the window rule.

A meeting or webinar instance counts as hosting when it *started* inside the run's window (which
ends at the as-of). The filter is applied here whatever the server did with ``from``/``to``: a
server that ignores them, a timezone that shifts them, or a meeting that started after the as-of
(the sweep runs later than its as-of) must never become activity. Scheduled instances that
start at or after the as-of (the webinar listing shows them) are dropped like anything else
outside the window: reclaim reads upcoming events itself, when it is about to write.

The natural key is Zoom's ``uuid`` (one per hosted instance, also for each occurrence of a
recurring meeting), so a re-pull upserts the same row.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from zoom_sam.activity.window import Window
from zoom_sam.vocabulary import EventType
from zoom_sam.zoom.timestamps import parse_zoom_time


def running_after(item: Mapping[str, Any], moment: datetime) -> bool:
    """Whether a listed instance was hosted at or after ``moment``: it started then or later, or it
    started before and was still running (start + duration). A meeting from 23:30 to 00:15 is
    hosting on both sides of midnight. Undated items are not."""
    start = parse_zoom_time(item.get("start_time"))
    if start is None:
        return False
    return start >= moment or start + timedelta(minutes=minutes(item.get("duration")) or 0) > moment


@dataclass
class HolderRows:
    """One holder's listing items, sorted into rows and counts of what was dropped."""

    hosted: list[dict[str, Any]] = field(default_factory=list)
    outside: int = 0    # started outside the window (before it, or at or after the as-of)
    undated: int = 0    # no usable start_time or uuid (recurring meetings without a fixed time)


def sort_items(
    items: Iterable[Mapping[str, Any]],
    *,
    alias: str,
    user_id: str,
    webinar: bool,
    window: Window,
    source: str,
    pulled_at: datetime,
    into: HolderRows | None = None,
) -> HolderRows:
    """Sort one listing's items into hosted rows (started in the window) or dropped (counted)."""
    out = into if into is not None else HolderRows()
    for item in items:
        start = parse_zoom_time(item.get("start_time"))
        uuid = item.get("uuid")
        if start is None or not uuid:
            out.undated += 1
            continue
        meeting_id = str(item["id"]) if item.get("id") is not None else None
        if window.contains(start):
            out.hosted.append({
                "profile_alias": alias, "event_type": EventType.WEBINAR_HOSTED if webinar else EventType.MEETING_HOSTED,
                "event_id": str(uuid), "user_id": user_id, "meeting_id": meeting_id, "occurred_at": start,
                "duration_minutes": minutes(item.get("duration")), "source": source, "pulled_at": pulled_at,
            })
        else:
            out.outside += 1
    return out


def minutes(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
