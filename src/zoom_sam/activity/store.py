"""Landing a sweep's rows: batched, idempotent, one transaction per batch.

Hosted events are upserted by (profile, event type, Zoom uuid), so a retried or re-run sweep
writes the same rows again instead of adding any.

A batch is the rows of whole holders, so a killed sweep leaves each holder either landed or not,
never half-landed, and coverage (advanced only after every holder completed) is untouched.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.engine import Engine

from zoom_sam.warehouse.schema import activity_event
from zoom_sam.warehouse.upsert import upsert


class ActivityWriter:
    """Buffers rows of completed holders and writes them every ``batch_holders`` holders."""

    def __init__(self, engine: Engine, alias: str, *, batch_holders: int = 500) -> None:
        self.engine = engine
        self.alias = alias
        self.batch_holders = batch_holders
        self.events_written = 0
        self.batches = 0
        self._events: list[dict[str, Any]] = []
        self._holders = 0

    def add(self, events: Iterable[dict[str, Any]]) -> None:
        """The hosted events of one holder (possibly none)."""
        self._events.extend(events)
        self._holders += 1
        if self._holders >= self.batch_holders:
            self.flush()

    def flush(self) -> None:
        if not self._holders:
            return
        with self.engine.begin() as conn:
            self.events_written += upsert(conn, activity_event, _unique(self._events))
        self.batches += 1
        self._events, self._holders = [], 0


def _unique(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per key: PostgreSQL refuses an upsert batch that touches the same row twice."""
    return list({(row["event_type"], row["event_id"]): row for row in rows}.values())
