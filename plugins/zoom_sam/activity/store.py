"""Landing a sweep's rows: batched, idempotent, one transaction per batch.

Hosted events are upserted by (profile, event type, Zoom uuid), so a retried or re-run sweep
writes the same rows again instead of adding any. A holder's upcoming events of one kind
(meetings or webinars) are replaced as a set whenever that kind was read for the holder, so a
cancelled meeting disappears; kinds not read this time are left as they were.

A batch is the rows of whole holders, so a killed sweep leaves each holder either landed or not,
never half-landed, and coverage (advanced only after every holder completed) is untouched.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.engine import Engine

from zoom_sam.warehouse.schema import activity_event, upcoming_event
from zoom_sam.warehouse.upsert import upsert


class ActivityWriter:
    """Buffers rows of completed holders and writes them every ``batch_holders`` holders."""

    def __init__(self, engine: Engine, alias: str, *, batch_holders: int = 500) -> None:
        self.engine = engine
        self.alias = alias
        self.batch_holders = batch_holders
        self.events_written = 0
        self.upcoming_written = 0
        self.batches = 0
        self._events: list[dict[str, Any]] = []
        self._upcoming: list[dict[str, Any]] = []
        self._replaced: dict[str, list[str]] = {}  # upcoming event type -> users whose set was read
        self._holders = 0

    def add(self, user_id: str, events: Iterable[dict[str, Any]], upcoming: Iterable[dict[str, Any]],
            upcoming_read: Iterable[str]) -> None:
        """One holder's rows; ``upcoming_read`` names the upcoming kinds read for it."""
        self._events.extend(events)
        self._upcoming.extend(upcoming)
        for kind in upcoming_read:
            self._replaced.setdefault(kind, []).append(user_id)
        self._holders += 1
        if self._holders >= self.batch_holders:
            self.flush()

    def flush(self) -> None:
        if not self._holders:
            return
        with self.engine.begin() as conn:
            for kind, users in self._replaced.items():
                conn.execute(upcoming_event.delete().where(
                    upcoming_event.c.profile_alias == self.alias,
                    upcoming_event.c.event_type == kind,
                    upcoming_event.c.user_id.in_(users),
                ))
            self.events_written += upsert(conn, activity_event, _unique(self._events))
            self.upcoming_written += upsert(conn, upcoming_event, _unique(self._upcoming))
        self.batches += 1
        self._events, self._upcoming, self._replaced, self._holders = [], [], {}, 0


def _unique(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per key: PostgreSQL refuses an upsert batch that touches the same row twice."""
    return list({(row["event_type"], row["event_id"]): row for row in rows}.values())
