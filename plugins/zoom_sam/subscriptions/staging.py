"""Batched writes of one run's snapshot into the staging tables.

Rows are buffered and upserted a batch at a time (each batch its own short transaction), so
memory is bounded by the batch size however large the account is. Upserting by the staging key
also absorbs a user that Zoom's paging returns twice.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.engine import Engine

from zoom_sam.warehouse.schema import stage_subscription, stage_zoom_user
from zoom_sam.warehouse.sql import run_sql
from zoom_sam.warehouse.upsert import DEFAULT_BATCH_SIZE, upsert


class StageWriter:
    """Buffers staged users and subscriptions of one (profile, run) and writes them in batches."""

    def __init__(self, engine: Engine, alias: str, run_id: str, batch_size: int = DEFAULT_BATCH_SIZE):
        self.engine = engine
        self.alias = alias
        self.run_id = run_id
        self.batch_size = batch_size
        self._users: list[dict[str, Any]] = []
        self._subscriptions: list[dict[str, Any]] = []
        self.users_written = 0
        self.subscriptions_written = 0
        self.batches = 0

    def clear(self) -> None:
        """Remove everything staged for the profile: a killed earlier try or run left it."""
        with self.engine.begin() as conn:
            run_sql(conn, "download/clear_stage_subscriptions", {"alias": self.alias})
            run_sql(conn, "download/clear_stage_users", {"alias": self.alias})

    def add_user(self, row: Mapping[str, Any]) -> None:
        self._users.append({"profile_alias": self.alias, "run_id": self.run_id, **row})
        if len(self._users) >= self.batch_size:
            self._flush_users()

    def add_subscriptions(self, rows: Iterable[Mapping[str, Any]]) -> None:
        self._subscriptions.extend({"profile_alias": self.alias, "run_id": self.run_id, **r} for r in rows)
        if len(self._subscriptions) >= self.batch_size:
            self._flush_subscriptions()

    def flush(self) -> None:
        self._flush_users()
        self._flush_subscriptions()

    def _flush_users(self) -> None:
        if self._users:
            self.users_written += upsert(self.engine, stage_zoom_user, self._users, batch_size=self.batch_size)
            self.batches += 1
            self._users = []

    def _flush_subscriptions(self) -> None:
        if self._subscriptions:
            self.subscriptions_written += upsert(
                self.engine, stage_subscription, self._subscriptions, batch_size=self.batch_size
            )
            self.batches += 1
            self._subscriptions = []
