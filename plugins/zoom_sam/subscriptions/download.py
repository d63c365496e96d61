"""download_subscriptions: read who holds what in Zoom and land it in the warehouse.

The flow, with memory bounded by the batch size and the number of calls in flight:

1. take the run's staging over for this try, clearing whatever an earlier, killed try of the run
   left (other runs of the profile may be staging at the same time; their rows stay);
2. list active users page by page in a thread of its own, staging each one; active Licensed users
   (the only ones that can hold paid add-ons) go through a bounded queue into
   ``client.map_concurrent``, which reads their settings concurrently within the account's rate
   limit while the listing goes on;
3. beside them, in another thread, list inactive and pending users (no settings: they hold no
   add-ons; a pending invitation with type 2 holds the seat); all three share one lock on the
   staging writer, and the first failure of any of them stops the others;
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
import queue
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from zoom_sam.licensing import can_hold_addons, user_key
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
# Active add-on holders listed ahead of their settings reads: the next page is fetched while the
# settings of the last one are read; bounds the memory the listing may run ahead with.
HOLDERS_AHEAD = 1000
_END = object()


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
    """Stream every user of every status into staging, with the settings of add-on holders.

    Three things run at once: the active listing (a thread of its own, a bounded queue of holders
    ahead of the settings reads), the inactive and pending listings (another thread), and the
    settings reads (``client.map_concurrent``, consumed here). All calls share the account's
    limiters, so the listings' pages fill gaps between settings reads instead of following them.
    The first failure of any of them stops the others and is raised here once all have stopped.
    """
    shared = _SharedStage(stage, progress, profile)
    holders: queue.Queue[Any] = queue.Queue(maxsize=HOLDERS_AHEAD)
    stop = threading.Event()
    failures: list[BaseException] = []

    def guarded(work: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                work()
            except BaseException as exc:  # noqa: BLE001 - raised in the task's thread below
                failures.append(exc)
                stop.set()
        return run

    def put(item: Any) -> None:
        while not stop.is_set():
            try:
                holders.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def list_active() -> None:
        for user in client.list_users("active"):
            if stop.is_set():
                return
            shared.active_user(user)
            if can_hold_addons(user):
                put(user)
            else:
                shared.active_subscriptions(user, None)
        put(_END)  # only once the listing passed its completeness checks

    def list_others() -> None:
        for status in STATUSES[1:]:
            for user in client.list_users(status):
                if stop.is_set():
                    return
                shared.other_user(status, user)

    def queued_holders() -> Iterator[dict[str, Any]]:
        while not stop.is_set():
            try:
                user = holders.get(timeout=0.1)
            except queue.Empty:
                continue
            if user is _END:
                return
            yield user

    def read_settings(user: dict[str, Any]) -> dict[str, Any]:
        return client.get_user_settings(user["id"])

    threads = [threading.Thread(target=guarded(work), name=f"zoom-sam-{name}", daemon=True)
               for name, work in (("list-active", list_active), ("list-others", list_others))]
    try:
        for thread in threads:
            thread.start()
        for user, settings in client.map_concurrent(read_settings, queued_holders(), max_in_flight=max_in_flight):
            if isinstance(settings, ZoomNotFound):
                # Deleted after it was listed: it held the seat when listed; the next run sees it gone.
                shared.settings(found=False)
                settings = None
            elif isinstance(settings, Exception):
                raise settings
            else:
                shared.settings(found=True)
            shared.active_subscriptions(user, settings)
    except BaseException:
        stop.set()  # the listings stop at their next user (stop is set only on a failure)
        raise
    finally:  # no listing writes to staging once this returns or raises (a failed try discards it next)
        for thread in threads:
            thread.join()
    if failures:
        raise failures[0]
    stage.flush()


class _SharedStage:
    """The try's StageWriter and Progress, used by the listings' threads and the settings reads.

    StageWriter is not thread-safe, so every use goes through one lock (its batches still check,
    each, that this try owns the run). A user listed as active and also as inactive or pending
    (its status changed while the listings ran) ends staged as the later listing saw it, in
    whatever order the threads get there: its user row, and for each identifier the later
    listing stages, that row.
    """

    def __init__(self, stage: StageWriter, progress: Progress, profile: Profile):
        self.lock = threading.Lock()
        self.stage = stage
        self.progress = progress
        self.profile = profile
        self.later: dict[str, frozenset[str]] = {}  # user -> identifiers staged by the later listings

    def active_user(self, user: dict[str, Any]) -> None:
        row = user_row(user)
        with self.lock:
            self.progress.listed("active")
            if row["user_id"] not in self.later:
                self.stage.add_user(row)

    def active_subscriptions(self, user: dict[str, Any], settings: dict[str, Any] | None) -> None:
        rows = subscription_rows(self.profile, user, settings)
        with self.lock:
            later = self.later.get(user_key(user))
            self.stage.add_subscriptions(rows if later is None else [r for r in rows if r["identifier"] not in later])

    def other_user(self, status: str, user: dict[str, Any]) -> None:
        row = user_row(user)
        rows = subscription_rows(self.profile, user, None)
        with self.lock:
            self.progress.listed(status)
            self.later[row["user_id"]] = self.later.get(row["user_id"], frozenset()) | {r["identifier"] for r in rows}
            self.stage.add_user(row)
            self.stage.add_subscriptions(rows)

    def settings(self, found: bool) -> None:
        with self.lock:
            self.progress.settings(found=found)


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
