"""The per-holder sweep: every holder's window read concurrently, at the account's rate limit.

Per holder, in one pass over the whole window (never one call per day):

* ``GET /users/{id}/meetings?type=previous_meetings&from&to`` -> hosted meetings (per_user source);
* ``GET /users/{id}/webinars`` (webinar add-on holders only) -> hosted webinars.

That is all the sweep reads. Upcoming meetings and webinars are not read or kept here: the only
decision they inform is a reclaim's write, which must see them as they are at that moment, so
reclaim reads them itself, right before the write, for the users it is about to act on (a dry run
writes nothing and reads nothing). Upcoming webinars the listing shows anyway are dropped.

Calls go through ``client.map_concurrent``: a bounded number in flight, all under the client's
per-account limiter, so a large account is bound by Zoom's limit and not by latency. Each
listing's pages are counted against the pages its items need (:attr:`HolderRead.pages_needed`),
so the task's ``job_result`` shows the calls against the minimum.

Per-holder answers that are facts about the user, not failures of the sweep, are recorded and
the sweep goes on: the user was deleted in Zoom since the download (404 / 1001), hosting is not
allowed for the user (3161), or the webinar add-on was removed since the download (400 / 200).
Anything else (auth, rate limit exhausted, persistent 5xx) stops the sweep and fails the task:
what landed stays (idempotent), coverage does not advance, the retry reads everything again.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy.engine import Engine

from zoom_sam.activity.holders import Holder
from zoom_sam.activity.occurrences import HolderRows, sort_items
from zoom_sam.activity.progress import SweepProgress
from zoom_sam.activity.store import ActivityWriter
from zoom_sam.activity.window import Window, query_dates
from zoom_sam.vocabulary import EventType
from zoom_sam.zoom.budget import pages
from zoom_sam.zoom.client import ZoomClient
from zoom_sam.zoom.errors import ZoomApiError, ZoomNotFound

log = logging.getLogger(__name__)

HOSTING_NOT_ALLOWED = 3161     # list meetings: "hosting and scheduling not allowed for your user"
WEBINAR_PLAN_MISSING = 200     # list webinars without the Webinar add-on (HTTP 400)
GONE_SAMPLE = 50                   # user ids of deleted holders kept in job_result


@dataclass(frozen=True)
class SweepPlan:
    """What to read for every holder of one sweep."""

    alias: str
    window: Window
    source: str                  # written to activity_event.source
    meetings: bool = True        # list hosted meetings (False: the host report gave them)
    webinars: bool = True        # list webinars of webinar add-on holders
    # Holders since after ``new_after`` (the coverage end: no completed sweep read them) are read
    # from ``history_from`` (the coverage start) instead, so a new holder's last activity is
    # right from its first day; still one listing per holder.
    history_from: datetime | None = None
    new_after: datetime | None = None

    def window_for(self, holder: Holder) -> Window:
        """The stretch read for one holder: the run's window, or the whole history for a new holder."""
        if self.new_after is None or holder.since is None or holder.since <= self.new_after:
            return self.window
        return Window(min(self.history_from, self.window.start), self.window.end, "new_holder")


@dataclass
class HolderRead:
    """What one holder's calls returned."""

    rows: HolderRows = field(default_factory=HolderRows)
    pages_needed: int = 0        # listing pages the items called for (one per listing, more past a full page)
    gone: bool = False
    new_holder: bool = False
    notes: list[str] = field(default_factory=list)


@dataclass
class SweepCounts:
    holders: int = 0
    done: int = 0
    new_holders: int = 0
    meeting_events: int = 0
    webinar_events: int = 0
    listing_pages_needed: int = 0
    outside_window: int = 0
    undated: int = 0
    gone: list[str] = field(default_factory=list)
    gone_count: int = 0
    hosting_not_allowed: int = 0
    webinar_plan_missing: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "holders": self.holders, "holders_done": self.done, "new_holders_read_from_history_start": self.new_holders,
            "meeting_events": self.meeting_events, "webinar_events": self.webinar_events,
            "listing_pages_needed": self.listing_pages_needed, "dropped_outside_window": self.outside_window,
            "dropped_undated": self.undated, "holders_not_found": self.gone_count,
            "holders_not_found_ids": self.gone[:GONE_SAMPLE], "hosting_not_allowed": self.hosting_not_allowed,
            "webinar_plan_missing": self.webinar_plan_missing,
        }


def read_holder(client: ZoomClient, plan: SweepPlan, holder: Holder, pulled_at: datetime) -> HolderRead:
    """Every call of one holder (runs on a worker thread); see the module docstring."""
    window = plan.window_for(holder)
    out = HolderRead()
    out.new_holder = window is not plan.window
    common = {"alias": plan.alias, "user_id": holder.user_id, "window": window, "source": plan.source,
              "pulled_at": pulled_at, "into": out.rows}
    page_size = client.config.page_size
    try:
        if plan.meetings:
            try:
                first, last = query_dates(window.start, window.end)
                items = list(client.list_meetings(holder.user_id, type="previous_meetings", from_=first, to=last))
                out.pages_needed += pages(len(items), page_size)
                sort_items(items, webinar=False, **common)
            except ZoomApiError as exc:
                out.pages_needed += 1  # the one page that answered with the error
                if isinstance(exc, ZoomNotFound) or exc.code != HOSTING_NOT_ALLOWED:
                    raise
                out.notes.append("hosting_not_allowed")
        if plan.webinars and holder.webinar:
            try:
                items = list(client.list_webinars(holder.user_id, type="scheduled"))
                out.pages_needed += pages(len(items), page_size)
                sort_items(items, webinar=True, **common)
            except ZoomApiError as exc:
                out.pages_needed += 1
                if isinstance(exc, ZoomNotFound) or (exc.status, exc.code) != (400, WEBINAR_PLAN_MISSING):
                    raise
                out.notes.append("webinar_plan_missing")
    except ZoomNotFound:
        out.gone = True
    return out


def sweep(
    client: ZoomClient,
    engine: Engine,
    holders: Sequence[Holder],
    plan: SweepPlan,
    *,
    max_in_flight: int | None = None,
    batch_holders: int = 500,
) -> SweepCounts:
    """Read and land every holder's window; returns the counts (raises on a failure, see above)."""
    counts = SweepCounts(holders=len(holders))
    writer = ActivityWriter(engine, plan.alias, batch_holders=batch_holders)
    progress = SweepProgress(log, client, total=len(holders), category="Medium")
    pulled_at = datetime.now(timezone.utc)
    log.info("sweeping %d holders (%d with the webinar add-on) over the %s", len(holders),
             sum(h.webinar for h in holders), plan.window.describe())
    results = client.map_concurrent(lambda h: read_holder(client, plan, h, pulled_at), holders,
                                    max_in_flight=max_in_flight)
    try:
        for holder, read in results:
            if isinstance(read, Exception):
                raise read
            _count(counts, holder, read)
            writer.add(read.rows.hosted)
            progress.step()
    finally:
        results.close()  # stops submitting; lets the calls in flight finish
        writer.flush()   # what completed lands, also when the sweep failed
        progress.finish()
    return counts


def _count(counts: SweepCounts, holder: Holder, read: HolderRead) -> None:
    counts.done += 1
    counts.new_holders += read.new_holder
    hosted = read.rows.hosted
    webinars = sum(1 for row in hosted if row["event_type"] == EventType.WEBINAR_HOSTED)
    counts.webinar_events += webinars
    counts.meeting_events += len(hosted) - webinars
    counts.listing_pages_needed += read.pages_needed
    counts.outside_window += read.rows.outside
    counts.undated += read.rows.undated
    if read.gone:
        counts.gone_count += 1
        if len(counts.gone) < GONE_SAMPLE:
            counts.gone.append(holder.user_id)
        log.info("holder %s no longer exists in Zoom (404 / 1001): recorded, sweep goes on", holder.user_id)
    counts.hosting_not_allowed += "hosting_not_allowed" in read.notes
    counts.webinar_plan_missing += "webinar_plan_missing" in read.notes
