"""Which stretch of time one pull_activity run reads: pure planning from coverage and the run.

The window is everything the profile's activity coverage does not hold yet, read in one pass per
holder (a 30-day onboarding gap costs about one call per holder, not thirty):

``onboarding``  no coverage yet: from the start of the analysed history (``analyze_activity_from``,
                or the first run's as-of minus ``max_lookback_days``) to the as-of.
``catch_up``    the as-of lies after the coverage: from the end of the coverage to the as-of,
                reaching back :data:`OVERLAP` further (see below).
``repull``      the as-of lies inside the coverage (a backfill or a cleared run): the run's own
                data interval is read again; events are upserted, so nothing is duplicated.
``empty``       nothing to read (an as-of before the start of the history).

Zoom lists a meeting under ``previous_meetings`` only once it has ended, so a meeting running
across an as-of is missing from the run that covers its start. Every ``catch_up`` window
therefore reaches back :data:`OVERLAP` before the coverage end: it is the same one call per
holder (the query dates widen by a day) and the late meeting is upserted the next day.

With day precision (the ``host_report`` source, whose counts are per calendar day) both ends are
whole UTC days: the end is the as-of's midnight, so coverage never claims a part of a day.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

OVERLAP = timedelta(days=1)
# Zoom reads ``from``/``to`` as calendar dates in the account's timezone, anywhere from UTC-12 to
# UTC+14: a day of padding on each side covers every one, and the items are then filtered by
# their own UTC times, so the padding never lets anything outside the window in.
QUERY_PADDING = timedelta(days=1)
REPULL_FALLBACK = timedelta(days=1)  # a manually triggered run has no data interval


@dataclass(frozen=True)
class Coverage:
    """The span of time whose activity the warehouse holds completely: [covered_from, covered_to)."""

    covered_from: datetime
    covered_to: datetime


@dataclass(frozen=True)
class Window:
    """[start, end): hosting that started in it counts; ``end`` is the run's as-of (or its midnight)."""

    start: datetime
    end: datetime
    kind: str  # onboarding | catch_up | repull | empty

    @property
    def is_empty(self) -> bool:
        return self.end <= self.start

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def describe(self) -> str:
        days = (self.end - self.start).total_seconds() / 86400
        return f"{self.kind} window [{self.start.isoformat()}, {self.end.isoformat()}) ({days:.2f} days)"


def query_dates(start: datetime, end: datetime | None = None) -> tuple[date, date | None]:
    """The ``from``/``to`` dates that cover [start, end) in every timezone (``to`` None: open)."""
    return (start - QUERY_PADDING).date(), (end + QUERY_PADDING).date() if end is not None else None


def day_floor(moment: datetime) -> datetime:
    """Midnight UTC of the day of ``moment``."""
    return datetime.combine(moment.astimezone(timezone.utc).date(), time(), tzinfo=timezone.utc)


def plan_window(
    coverage: Coverage | None,
    *,
    as_of: datetime,
    interval_start: datetime | None,
    history_start: datetime,
    day_precision: bool = False,
) -> Window:
    """The window of one run; see the module docstring for the four kinds.

    ``history_start`` is where the analysed history begins on the first run (already validated
    against ``max_lookback_days`` by ``validate_profile``); ``interval_start`` is the run's
    ``data_interval_start`` (None for a manually triggered run).
    """
    end = day_floor(as_of) if day_precision else as_of
    if coverage is None:
        start, kind = history_start, "onboarding"
    elif end > coverage.covered_to:
        start, kind = max(coverage.covered_to - OVERLAP, coverage.covered_from), "catch_up"
    else:
        start, kind = (interval_start or as_of - REPULL_FALLBACK), "repull"
    if day_precision:
        start = day_floor(start)
    if end <= start:
        return Window(start, start, "empty")
    return Window(start, end, kind)
