"""What a task of a run limited by its parameters works on: the as-of, or why it does nothing.

"Reconcile on demand" (``reconcile_latest_snapshot_only``) reconciles what the warehouse already
holds, so its as-of is that of the latest snapshot merged, not the moment the run was triggered:
reconciling a snapshot as of a later moment would count the hours since as idle time, and judge
them against activity nobody pulled.

A reconcile whose activity does not reach its as-of (the pull was skipped, or the latest snapshot's
pull never completed) is not run at all: reconcile reads a coverage that ends before the as-of as
insufficient history, and would close every open candidate as ``insufficient_history``, including
those a person is being asked to approve. A scheduled run never gets here: it always pulls first.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from zoom_sam.vocabulary import TaskId
from zoom_sam.warehouse.schema import activity_coverage, zoom_user

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from zoom_sam.process import RunOptions
    from zoom_sam.profiles import Profile


def task_plan(engine: Engine, profile: Profile, options: RunOptions, task_id: str,
              as_of: datetime) -> tuple[datetime, str | None]:
    """The as-of ``task_id`` works on in this run, and why it does nothing (None: it runs)."""
    skipped = options.skips(task_id)
    if skipped:
        return as_of, skipped
    if not (options.reconcile_latest_snapshot_only or options.skip_activity):
        return as_of, None
    with engine.connect() as conn:
        if options.reconcile_latest_snapshot_only:
            snapshot = conn.execute(sa.select(sa.func.max(zoom_user.c.last_seen_at))
                                    .where(zoom_user.c.profile_alias == profile.alias)).scalar_one()
            if snapshot is None:
                return as_of, ("skipped: run parameter reconcile_latest_snapshot_only, but the warehouse holds no "
                               "snapshot of this profile yet; run the DAG without it first")
            as_of = snapshot
        if task_id != TaskId.RECONCILE or not profile.download_activity:
            return as_of, None
        covered_to = conn.execute(sa.select(sa.func.min(activity_coverage.c.covered_to))
                                  .where(activity_coverage.c.profile_alias == profile.alias)).scalar_one()
    if covered_to is None or covered_to < as_of:
        covered = f"covered to {covered_to:%Y-%m-%d %H:%M}Z" if covered_to else "not pulled yet"
        return as_of, (f"skipped: the activity in the warehouse is {covered}, before the as-of "
                       f"{as_of:%Y-%m-%d %H:%M}Z, and this run pulls none (run parameter "
                       f"{' and '.join(n for n in options.limiting() if n != 'dry_run_only')}); reconciling would "
                       "judge on incomplete history and close open candidates as insufficient_history, so nothing "
                       "was reconciled")
    return as_of, None
