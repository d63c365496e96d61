"""The optional ``host_report`` source: who hosted meetings, day by day, from the active-hosts report.

``GET /report/users?type=active&from=D&to=D`` (Heavy; needs ``report:read:list_users:admin``)
lists every user who hosted on day D with a meeting count, about users/300 calls per day for the
whole account instead of one call per holder. The price is precision: the report says on which
day someone hosted, not when, so its rows carry the day's midnight (UTC) as ``occurred_at`` and
the window is whole days (coverage ends at the as-of's midnight). One ``meeting_hosted`` row is
landed per meeting the report counts (``event_id`` ``report:<user>:<day>:<n>``), so event counts
mean the same as with the per-user source.

The report counts webinars among a host's meetings. Webinar add-on holders' webinars are
therefore still listed per user (the add-on's activity needs them, with their times) and
subtracted from the report's count of that day, so a webinar is never also a meeting.

Zoom serves the report only for days within the last six months; a window reaching further back
fails with a message saying so.
"""
from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from zoom_sam.activity.holders import Holder
from zoom_sam.activity.progress import SweepProgress
from zoom_sam.activity.store import ActivityWriter
from zoom_sam.activity.sweep import SweepPlan, sweep
from zoom_sam.activity.window import Window
from zoom_sam.errors import ConfigurationError
from zoom_sam.vocabulary import EventType, ZoomCode
from zoom_sam.warehouse.schema import activity_event
from zoom_sam.zoom.budget import pages
from zoom_sam.zoom.client import ZoomClient
from zoom_sam.zoom.errors import ZoomApiError

log = logging.getLogger(__name__)

SOURCE = "host_report"
REPORT_SCOPE = "report:read:list_users:admin"
DAYS_IN_FLIGHT = 8  # enough to keep the Heavy limit busy at Zoom's latency; each day's hosts are held until landed


class HostReportUnavailable(ConfigurationError):
    """The report cannot serve this window (scope not granted, or days beyond six months): only a
    change of the Zoom app's scopes or of the profile makes it work, never a retry."""


def days_of(window: Window) -> Iterator[date]:
    day = window.start.date()
    while datetime.combine(day, time(), tzinfo=timezone.utc) < window.end:
        yield day
        day += timedelta(days=1)


def webinars_by_day(conn: Connection, alias: str, window: Window) -> Counter:
    """Webinars hosted in the window (already landed), per (user, day)."""
    per_day: Counter = Counter()
    rows = conn.execute(
        sa.select(activity_event.c.user_id, activity_event.c.occurred_at).where(
            activity_event.c.profile_alias == alias,
            activity_event.c.event_type == EventType.WEBINAR_HOSTED,
            activity_event.c.occurred_at >= window.start,
            activity_event.c.occurred_at < window.end,
        )
    )
    for user_id, occurred_at in rows:
        per_day[(user_id, occurred_at.date())] += 1
    return per_day


def read_host_report(client: ZoomClient, engine: Engine, holders: Sequence[Holder], plan: SweepPlan,
                     max_in_flight: int | None, batch_holders: int) -> dict[str, Any]:
    """The whole host_report sweep; returns its counts.

    Webinars per user first (to subtract them from the report's counts), then the report day by day.
    """
    webinar_holders = [h for h in holders if h.webinar]
    webinars = sweep(client, engine, webinar_holders, dataclasses.replace(plan, meetings=False),
                     max_in_flight=max_in_flight, batch_holders=batch_holders)
    with engine.connect() as conn:
        per_day = webinars_by_day(conn, plan.alias, plan.window)
    writer = ActivityWriter(engine, plan.alias, batch_holders=batch_holders)
    report = land_host_report(client, writer, plan.window, {h.user_id for h in holders}, per_day, alias=plan.alias)
    counts = webinars.as_dict()
    counts.update(report)
    counts.update(holders=len(holders), holders_done=len(holders), meeting_events=report["report_meetings"])
    return counts


def land_host_report(
    client: ZoomClient,
    writer: ActivityWriter,
    window: Window,
    holders: Collection[str],
    webinars: Counter,
    *,
    alias: str,
) -> dict[str, Any]:
    """Read the report for every day of the window (days concurrently) and land the holders' meetings.

    Returns the counts. Hosts that hold no subscription are skipped.
    """
    if not client.has_scope(REPORT_SCOPE):
        raise HostReportUnavailable(
            f"activity_source host_report needs the scope {REPORT_SCOPE}, which the Zoom app was not granted; "
            "grant it or use activity_source per_user")
    pulled_at = datetime.now(timezone.utc)
    days = list(days_of(window))
    progress = SweepProgress(log, client, total=len(days), category="Heavy", label="report days")
    counts = {"report_days": len(days), "report_hosts": 0, "report_meetings": 0, "report_non_holders": 0,
              "report_pages_needed": 0}

    def read_day(day: date) -> tuple[list[tuple[str, int, int]], int]:
        hosts, others = [], 0
        for host in client.report_users(type="active", from_=day, to=day):
            if host.get("id") in holders:
                hosts.append((host["id"], int(host.get("meetings") or 0), int(host.get("meeting_minutes") or 0)))
            else:
                others += 1
        return hosts, others

    results = client.map_concurrent(read_day, days, max_in_flight=DAYS_IN_FLIGHT)
    try:
        for day, read in results:
            if isinstance(read, ZoomApiError) and read.status == 400 and read.code == ZoomCode.PAGE_TOKEN_EXPIRED:
                raise HostReportUnavailable(
                    f"the active-hosts report refused day {day.isoformat()} ({read.message}); Zoom serves it only "
                    "for the last six months: move the window (analyze_activity_from) or use activity_source "
                    "per_user") from None
            if isinstance(read, Exception):
                raise read
            hosts, others = read
            counts["report_pages_needed"] += pages(len(hosts) + others, client.config.page_size)
            counts["report_non_holders"] += others
            counts["report_hosts"] += len(hosts)
            midnight = datetime.combine(day, time(), tzinfo=timezone.utc)
            for user_id, reported, minutes in hosts:
                meetings = reported - webinars[(user_id, day)]
                if meetings <= 0:
                    continue
                counts["report_meetings"] += meetings
                writer.add([_row(alias, user_id, day, n, midnight, max(0, minutes) // meetings, pulled_at)
                            for n in range(1, meetings + 1)])
            progress.step()
    finally:
        results.close()
        writer.flush()
        progress.finish()
    return counts


def _row(alias: str, user_id: str, day: date, n: int, midnight: datetime, minutes: int,
         pulled_at: datetime) -> dict[str, Any]:
    return {"profile_alias": alias, "event_type": EventType.MEETING_HOSTED, "event_id": f"report:{user_id}:{day.isoformat()}:{n}",
            "user_id": user_id, "meeting_id": None, "occurred_at": midnight, "duration_minutes": minutes,
            "source": SOURCE, "pulled_at": pulled_at}
