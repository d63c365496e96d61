"""The download process: read who holds what in Zoom and land it in the warehouse.

The flow, with memory bounded by the batch size and the number of calls in flight:

1. take the run's staging over for this try, clearing whatever an earlier, killed try of the run
   left (other runs of the profile may be staging at the same time; their rows stay);
2. stream every user and the settings of add-on holders into staging (:mod:`.listing`);
3. under the profile's ``state`` lock (:mod:`zoom_sam.warehouse.locks`), merge the complete
   snapshot in one transaction (:mod:`.merge`). Only the merge takes the lock: the Zoom listing
   before it runs beside other runs of the profile.

Any error other than "this user vanished between listing and settings" fails the task before the
merge: an incomplete snapshot must never end subscriptions that were merely not read. That
includes the answers the client refuses to trust: a malformed body, a page loop, and a listing
that comes up short of Zoom's ``total_records`` even when listed again (the client raises each at
the end of the listing, after the users it yielded, so staging sees them but the merge never
does). The rows this try staged are discarded then, so nothing of it reaches a later merge.

``ZOOM_SAM_BATCH_SIZE`` (default 1000) sets the rows per staging transaction when the caller
gives no ``batch_size``: larger batches write faster, smaller ones hold less memory. It is read
here, where the batches are made, so the task and a hand-run process size them alike.
"""
from __future__ import annotations

import logging
import os
from datetime import datetime
from typing import Any

from zoom_sam.process import RunContext, Summary, ZoomAccess
from zoom_sam.profiles import Profile
from zoom_sam.subscriptions.listing import stage_snapshot
from zoom_sam.subscriptions.merge import MergeResult, merge_snapshot
from zoom_sam.subscriptions.progress import Progress, summary_table
from zoom_sam.subscriptions.staging import StageWriter
from zoom_sam.vocabulary import UserStatus
from zoom_sam.warehouse.jobs import Job
from zoom_sam.warehouse.lock_names import STATE
from zoom_sam.warehouse.locks import profile_lock
from zoom_sam.warehouse.owner import Owner
from zoom_sam.warehouse.upsert import DEFAULT_BATCH_SIZE
from zoom_sam.zoom.budget import pages

log = logging.getLogger(__name__)

# The staging owner's task name: a retry of the step takes over what an earlier try staged.
TASK_ID = "download_subscriptions"


def run(ctx: RunContext, zoom: ZoomAccess, *, batch_size: int | None = None,
        max_in_flight: int | None = None) -> Summary:
    """Download the subscription snapshot of ``ctx.profile`` into the warehouse.

    ``ctx.try_number`` is the task's try: a later try of the run takes its staging over. The
    job record gets the counts and API statistics also when the download fails.
    """
    profile, engine, job = ctx.profile, ctx.warehouse, ctx.job
    client = zoom.client()
    owner = Owner(ctx.run_id, TASK_ID, ctx.try_number)
    size = batch_size or int(os.environ.get("ZOOM_SAM_BATCH_SIZE", DEFAULT_BATCH_SIZE))
    stage = StageWriter(engine, profile.alias, owner, size)
    progress = Progress(log, client.config.page_size)
    try:
        stage.begin()
        if stage.stale_rows_removed:
            log.info("removed %d staged rows of dead runs of %s", stage.stale_rows_removed, profile.alias)
        try:
            stage_snapshot(client, profile, stage, progress, max_in_flight)
        except Exception as exc:
            _discard(stage, profile, ctx.as_of, exc)
            raise
        log.info("snapshot staged: %d users, %d subscriptions in %d batches after %.1f s; merging",
                 stage.users_written, stage.subscriptions_written, stage.batches, progress.elapsed())
        with profile_lock(engine, profile.alias, STATE, owner) as waited:
            job.counts["lock_wait_s"] = round(waited, 3)
            merged = merge_snapshot(engine, profile, owner, ctx.as_of)
    finally:  # also for a failed try: how far it got and what it cost
        job.api = dict(client.stats())
        job.counts.update({"users_by_status": dict(progress.users),
                           "rows_staged": stage.users_written + stage.subscriptions_written,
                           "stale_staged_rows_removed": stage.stale_rows_removed})
    _record(job, progress, stage, merged)
    log.info("download_subscriptions of %s as of %s done in %.1f s\n%s", profile.alias, ctx.as_of.isoformat(),
             progress.elapsed(), summary_table(merged.by_model, merged.new, merged.gone, merged.unrecognized,
                                                progress.users))
    return Summary(
        report={
            "users": sum(progress.users.values()),
            "subscriptions_active": sum(c["active"] for c in merged.by_model.values()),
            "new": merged.new,
            "gone": merged.gone,
            "unrecognized_identifiers": len(merged.unrecognized),
        },
        minimal=minimal_calls(job.counts, client.config.page_size),
    )


def minimal_calls(counts: dict[str, Any], page_size: int) -> dict[str, int]:
    """The download's minimum (all Medium): each status's listing (one page per ``page_size``
    users, one when empty) and one settings read per active Licensed user listed."""
    listed = counts["users_by_status"]
    return {"Medium": sum(pages(listed.get(status, 0), page_size) for status in UserStatus)
            + counts["settings_read"] + counts["settings_user_vanished"]}


def _discard(stage: StageWriter, profile: Profile, as_of: datetime, exc: Exception) -> None:
    """Say in the task log that nothing was merged, and drop what this try staged."""
    log.error("download_subscriptions of %s as of %s stopped before the merge (%s): nothing was merged, the "
              "warehouse still holds the last complete snapshot; discarding what this try staged (%d users, "
              "%d subscriptions written so far)", profile.alias, as_of.isoformat(), type(exc).__name__,
              stage.users_written, stage.subscriptions_written)
    try:
        stage.discard()
    except Exception:  # noqa: BLE001 - the Zoom error is the one to report; the next try clears staging
        log.warning("could not discard the staged rows now; the next try of the download clears them first",
                    exc_info=True)


def _record(job: Job, progress: Progress, stage: StageWriter, merged: MergeResult) -> None:
    job.counts.update({
        "users_gone": merged.users_gone,
        "settings_read": progress.settings_read,
        "settings_user_vanished": progress.settings_missing,
        "subscriptions_by_model": merged.by_model,
        "subscriptions_new": merged.new,
        "subscriptions_gone": merged.gone,
        "unrecognized": merged.unrecognized,
        "staging_batches": stage.batches,
    })
