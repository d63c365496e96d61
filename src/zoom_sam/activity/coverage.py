"""``activity_coverage``: the span of time whose hosting the warehouse holds for every holder.

One row per profile, whichever source filled it (``source`` names the last one), so switching a
profile between ``per_user`` and ``host_report`` continues the same history. It changes in two
places only, both after a sweep completed for every holder (all shards):

* :func:`advance_coverage`: the completed window joins the coverage when it touches it;
* :func:`apply_retention`: events older than the retention leave the warehouse and the coverage
  start moves up with them, so coverage always says what remains analysable.

A failed or killed sweep calls neither, so the coverage stays where it was and the retry's
window is the same.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoom_sam.activity.window import Coverage, Window
from zoom_sam.warehouse.schema import activity_coverage
from zoom_sam.warehouse.sql import run_sql


@dataclass(frozen=True)
class Retention:
    cutoff: datetime
    events_purged: int


def read_coverage(conn: Connection, alias: str) -> Coverage | None:
    row = conn.execute(
        sa.select(activity_coverage.c.covered_from, activity_coverage.c.covered_to)
        .where(activity_coverage.c.profile_alias == alias)
    ).first()
    return Coverage(row.covered_from, row.covered_to) if row else None


def advance_coverage(conn: Connection, alias: str, window: Window, *, source: str, run_id: str) -> None:
    """Add a window every holder completed to the coverage."""
    params = {"alias": alias, "source": source, "window_start": window.start, "window_end": window.end,
              "run_id": run_id, "now": datetime.now(timezone.utc)}
    run_sql(conn, "activity/start_coverage", params)
    run_sql(conn, "activity/advance_coverage", params)


def apply_retention(conn: Connection, alias: str, *, as_of: datetime, retention_days: int) -> Retention:
    """Purge events older than ``retention_days`` before the as-of."""
    cutoff = as_of - timedelta(days=retention_days)
    params = {"alias": alias, "cutoff": cutoff}
    events = run_sql(conn, "activity/purge_events", params).rowcount
    run_sql(conn, "activity/trim_coverage", params)
    return Retention(cutoff, events)
