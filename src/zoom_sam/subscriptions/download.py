"""download_subscriptions: read who holds what in Zoom and land it in the warehouse.

The flow, with memory bounded by the batch size and the number of calls in flight:

1. take the run's staging over for this try, clearing whatever an earlier, killed try of the run
   left (other runs of the profile may be staging at the same time; their rows stay);
2. list active users page by page, staging each one; active Licensed users (the only ones that
   can hold paid add-ons) are fed lazily into ``client.map_concurrent``, which reads their
   settings concurrently within the account's rate limit while the listing goes on;
3. list inactive and pending users (no settings: they hold no add-ons; a pending invitation
   with type 2 holds the seat);
4. under the profile's ``state`` lock (:mod:`zoom_sam.warehouse.locks`), merge the complete
   snapshot in one transaction (:mod:`.merge`).

Any error other than "this user vanished between listing and settings" fails the task before the
merge: an incomplete snapshot must never end subscriptions that were merely not read. That
includes the answers the client refuses to trust: a malformed body, a page loop, and a listing
that comes up short of Zoom's ``total_records`` even when listed again (the client raises each at
the end of the listing, after the users it yielded, so staging sees them but the merge never
does). The rows this try staged are discarded then, so nothing of it reaches a later merge.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from zoom_sam.licensing import can_hold_addons
from zoom_sam.profiles import Profile
from zoom_sam.subscriptions.merge import MergeResult, merge_snapshot
from zoom_sam.subscriptions.progress import Progress, summary_table
from zoom_sam.subscriptions.snapshot import subscription_rows, user_row
from zoom_sam.subscriptions.staging import StageWriter
from zoom_sam.warehouse.jobs import Job
from zoom_sam.warehouse.lock_names import STATE
from zoom_sam.warehouse.locks import profile_lock
from zoom_sam.warehouse.owner import Owner
from zoom_sam.warehouse.upsert import DEFAULT_BATCH_SIZE
from zoom_sam.zoom.errors import ZoomNotFound

log = logging.getLogger(__name__)

STATUSES = ("active", "inactive", "pending")
TASK_ID = "download_subscriptions"


def download_subscriptions(
    client: Any,
    engine: Engine,
    profile: Profile,
    *,
    run_id: str,
    as_of: datetime,
    job: Job,
    try_number: int = 1,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_in_flight: int | None = None,
) -> dict[str, Any]:
    """Download the subscription snapshot of ``profile`` into the warehouse; returns a small summary.

    ``client`` is a :class:`zoom_sam.zoom.client.ZoomClient` (``list_users``,
    ``get_user_settings``, ``map_concurrent``, ``stats``); ``job`` receives counts and API stats.
    ``try_number`` is the task's try: a later try of the run takes its staging over.
    """
    owner = Owner(run_id, TASK_ID, try_number)
    stage = StageWriter(engine, profile.alias, owner, batch_size)
    progress = Progress(log)
    try:
        stage.begin()
        if stage.stale_rows_removed:
            log.info("removed %d staged rows of dead runs of %s", stage.stale_rows_removed, profile.alias)
        try:
            _stage_snapshot(client, profile, stage, progress, max_in_flight)
        except Exception as exc:
            _discard(stage, profile, as_of, exc)
            raise
        log.info("snapshot staged: %d users, %d subscriptions in %d batches after %.1f s; merging",
                 stage.users_written, stage.subscriptions_written, stage.batches, progress.elapsed())
        with profile_lock(engine, profile.alias, STATE, owner) as waited:
            job.counts["lock_wait_s"] = round(waited, 3)
            merged = merge_snapshot(engine, profile, owner, as_of)
    finally:  # also for a failed try: how far it got and what it cost
        job.api = dict(client.stats())
        job.counts.update({"users_by_status": dict(progress.users),
                           "rows_staged": stage.users_written + stage.subscriptions_written,
                           "stale_staged_rows_removed": stage.stale_rows_removed})
    _record(job, progress, stage, merged)
    log.info("download_subscriptions of %s as of %s done in %.1f s\n%s", profile.alias, as_of.isoformat(),
             progress.elapsed(), summary_table(merged.by_model, merged.new, merged.gone, merged.unrecognized,
                                                progress.users))
    return {
        "users": sum(progress.users.values()),
        "subscriptions_active": sum(c["active"] for c in merged.by_model.values()),
        "new": merged.new,
        "gone": merged.gone,
        "unrecognized_identifiers": len(merged.unrecognized),
    }


def _stage_snapshot(client: Any, profile: Profile, stage: StageWriter, progress: Progress,
                    max_in_flight: int | None) -> None:
    """Stream every user of every status into staging, with the settings of add-on holders."""

    def addon_holders() -> Iterator[dict[str, Any]]:
        for user in client.list_users("active"):
            progress.listed("active")
            stage.add_user(user_row(user))
            if can_hold_addons(user):
                yield user
            else:
                stage.add_subscriptions(subscription_rows(profile, user, None))

    def read_settings(user: dict[str, Any]) -> dict[str, Any]:
        return client.get_user_settings(user["id"])

    for user, settings in client.map_concurrent(read_settings, addon_holders(), max_in_flight=max_in_flight):
        if isinstance(settings, ZoomNotFound):
            # Deleted after it was listed: it held the seat when listed; the next run sees it gone.
            progress.settings(found=False)
            settings = None
        elif isinstance(settings, Exception):
            raise settings
        else:
            progress.settings(found=True)
        stage.add_subscriptions(subscription_rows(profile, user, settings))
    for status in STATUSES[1:]:
        for user in client.list_users(status):
            progress.listed(status)
            stage.add_user(user_row(user))
            stage.add_subscriptions(subscription_rows(profile, user, None))
    stage.flush()


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
