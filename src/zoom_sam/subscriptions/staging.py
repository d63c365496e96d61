"""Batched writes of one run's snapshot into the staging tables, owned by one try of the run.

Rows are buffered and upserted a batch at a time (each batch its own short transaction), so
memory is bounded by the batch size however large the account is. Upserting by the staging key
also absorbs a user that Zoom's paging returns twice.

Runs of one profile may stage at the same time (a backfill, a manual run beside the daily one),
so everything here is scoped to the run: its rows are keyed by run, and ``stage_run`` records
which try of the run owns them. A retry takes the run over and clears what the killed try left;
each batch checks, in its own transaction, that its try still owns the run, so a try that lost
its worker but not its process can write nothing more and merge nothing. Staging of dead runs
(no batch for :data:`STALE_AFTER`) is removed by the profile's next download; live runs renew
their row with every batch and are never touched.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from zoom_sam.errors import ZoomSamError
from zoom_sam.warehouse.owner import Owner
from zoom_sam.warehouse.schema import stage_run, stage_subscription, stage_zoom_user
from zoom_sam.warehouse.sql import run_sql
from zoom_sam.warehouse.upsert import DEFAULT_BATCH_SIZE, upsert

# Far beyond any pause between two batches of a live try (the merge lock's wait included).
STALE_AFTER = timedelta(hours=24)


class StagingSuperseded(ZoomSamError):
    """Another try owns this run's staging now: this try must neither write nor merge.

    Not retryable: the newer try is the live one, and a retry of this one would only take the
    run over from it.
    """


class StageWriter:
    """Buffers staged users and subscriptions of one (profile, run) and writes them in batches."""

    def __init__(self, engine: Engine, alias: str, owner: Owner, batch_size: int = DEFAULT_BATCH_SIZE):
        self.engine = engine
        self.alias = alias
        self.owner = owner
        self.run_id = owner.run_id
        self.batch_size = batch_size
        self._users: list[dict[str, Any]] = []
        self._subscriptions: list[dict[str, Any]] = []
        self.users_written = 0
        self.subscriptions_written = 0
        self.batches = 0
        self.stale_rows_removed = 0

    def begin(self) -> None:
        """Own the run's staging: clear what an earlier try of the run left, and dead runs' staging."""
        now = datetime.now(timezone.utc)
        params = {**self._key(), "owner": self.owner.describe()[:400], "now": now, "stale_before": now - STALE_AFTER}
        with self.engine.begin() as conn:
            if run_sql(conn, "download/claim_stage", params).rowcount != 1:
                raise StagingSuperseded(f"{self.owner.describe()}: the staging of this run belongs to a newer try, "
                                        f"{_current_owner(conn, self.alias, self.run_id)}; this try stops")
            run_sql(conn, "download/clear_stage_subscriptions", params)
            run_sql(conn, "download/clear_stage_users", params)
            self.stale_rows_removed = (run_sql(conn, "download/clear_stale_stage_subscriptions", params).rowcount
                                       + run_sql(conn, "download/clear_stale_stage_users", params).rowcount)
            run_sql(conn, "download/forget_stale_stage_runs", params)

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
            self.users_written += self._write(stage_zoom_user, self._users)
            self._users = []

    def _flush_subscriptions(self) -> None:
        if self._subscriptions:
            self.subscriptions_written += self._write(stage_subscription, self._subscriptions)
            self._subscriptions = []

    def _write(self, table: sa.Table, rows: list[dict[str, Any]]) -> int:
        with self.engine.begin() as conn:
            if run_sql(conn, "download/renew_stage", {**self._key(), "now": datetime.now(timezone.utc)}).rowcount != 1:
                raise StagingSuperseded(f"{self.owner.describe()}: the staging of this run now belongs to "
                                        f"{_current_owner(conn, self.alias, self.run_id)}; this try stops")
            written = upsert(conn, table, rows, batch_size=self.batch_size)
        self.batches += 1
        return written

    def discard(self) -> None:
        """After a failed try: drop the run's staged rows and the try's ownership, so nothing it
        staged can reach a later merge (StagingSuperseded when another try owns the run now)."""
        with self.engine.begin() as conn:
            release(conn, self.alias, self.owner)
            run_sql(conn, "download/clear_stage_subscriptions", self._key())
            run_sql(conn, "download/clear_stage_users", self._key())

    def _key(self) -> dict[str, Any]:
        return {"alias": self.alias, "run_id": self.run_id, "try_number": self.owner.try_number}


def release(conn: Connection, alias: str, owner: Owner) -> None:
    """In the merge's transaction: end the try's ownership; raises when another try took the run over."""
    params = {"alias": alias, "run_id": owner.run_id, "try_number": owner.try_number}
    if run_sql(conn, "download/release_stage", params).rowcount != 1:
        raise StagingSuperseded(f"{owner.describe()}: not merged, the staging of this run now belongs to "
                                f"{_current_owner(conn, alias, owner.run_id)}")


def _current_owner(conn: Connection, alias: str, run_id: str) -> str:
    row = conn.execute(sa.select(stage_run.c.owner).where(
        stage_run.c.profile_alias == alias, stage_run.c.run_id == run_id)).first()
    return row.owner if row else "nobody (it was removed as a dead run's)"
