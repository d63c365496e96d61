"""What the child processes of the concurrency tests do.

Each body runs in a spawned interpreter (``tests.support.processes``), builds its own engine and
Zoom client from URLs and connection JSON, and meets the other children at the points a test
names through ``multiprocessing`` events and barriers. Return values are small and picklable.
"""
from __future__ import annotations

import logging
import os
from collections import defaultdict
from contextlib import contextmanager
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from tests.support.processes import TIMEOUT_S
from tests.support.sandbox import direct_client

LOCK_LOGGER = "zoom_sam.warehouse.locks"


class _Signal(logging.Handler):
    """Sets an event when a log line starts with ``prefix``, and keeps every line it sees."""

    def __init__(self, prefix: str, event) -> None:
        super().__init__(logging.INFO)
        self.prefix = prefix
        self.event = event
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = record.getMessage()
        self.lines.append(line)
        if line.startswith(self.prefix):
            self.event.set()


@contextmanager
def signal_on_log(prefix: str, event):
    """Within the block, ``event`` is set when the lock module logs a line starting with ``prefix``."""
    log = logging.getLogger(LOCK_LOGGER)
    handler = _Signal(prefix, event)
    level = log.level
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    try:
        yield handler.lines
    finally:
        log.removeHandler(handler)
        log.setLevel(level)


def _client(zoom_conn: str):
    """A Zoom client straight from the connection JSON (no Airflow import: children start faster)."""
    return direct_client(zoom_conn, backoff_base=0.01, backoff_max=0.05)


def _wait(event_or_barrier) -> None:
    if hasattr(event_or_barrier, "parties"):
        event_or_barrier.wait(TIMEOUT_S)
    elif not event_or_barrier.wait(TIMEOUT_S):
        raise TimeoutError("the other process never signalled")


# ---------------------------------------------------------------------------------------- locks

def hold_lock(url: str, alias: str, name: str, run_id: str, held, release, die: bool = False) -> int:
    """Take a warehouse lock, say so (``held``), then hold it until ``release``, or die holding it."""
    from zoom_sam.warehouse.engine import engine_for_url
    from zoom_sam.warehouse.locks import profile_lock
    from zoom_sam.warehouse.owner import Owner

    engine = engine_for_url(url)
    with profile_lock(engine, alias, name, Owner(run_id, "holder")):
        held.set()
        if die:
            os._exit(0)  # killed outright: no release, no clean-up of any kind
        _wait(release)
    return os.getpid()


# ------------------------------------------------------------------------------------ downloads

def _meet_before_merging(download, barrier) -> None:
    """The download meets the other runs with its snapshot staged, just before it asks for the merge lock."""
    lock = download.profile_lock

    def meet_then_lock(*args, **kwargs):
        _wait(barrier)
        return lock(*args, **kwargs)

    download.profile_lock = meet_then_lock


def download_run(url: str, zoom_conn: str, profile: dict, run_id: str, as_of: str, barrier) -> dict:
    """One run's download_subscriptions; it meets the other runs when staging starts and before its merge.

    At the second meeting every run has staged its whole snapshot, so the merges are as close
    together as they can be: the interleaving in which one run's clean-up used to empty another
    run's staging.
    """
    from zoom_sam.process import context_for
    from zoom_sam.process import GivenZoom
    from zoom_sam.profiles import Profile
    from zoom_sam.subscriptions import process as download
    from zoom_sam.subscriptions.staging import StageWriter
    from zoom_sam.warehouse.engine import engine_for_url

    begin = StageWriter.begin

    def begin_then_meet(self):
        begin(self)
        _wait(barrier)

    StageWriter.begin = begin_then_meet
    _meet_before_merging(download, barrier)
    engine = engine_for_url(url)
    client = _client(zoom_conn)
    ctx = context_for(engine, Profile.model_validate(profile), datetime.fromisoformat(as_of), run_id=run_id)
    try:
        summary = download.run(ctx, GivenZoom(client), batch_size=40)
    finally:
        client.close()
        engine.dispose()
    return {"summary": summary.report, "lock_wait_s": ctx.job.counts["lock_wait_s"]}


# ------------------------------------------------------------------------------------- reclaims

def reclaim_run(url: str, zoom_conn: str, profile: dict, run_id: str, as_of: str, barrier) -> dict:
    """The reclaim process (no task, so no warehouse lock) once every run has loaded the same candidates."""
    from zoom_sam.process import context_for
    from zoom_sam.process import GivenZoom
    from zoom_sam.profiles import Profile
    from zoom_sam.reclaim import process as reclaim_module
    from zoom_sam.vocabulary import Mode
    from zoom_sam.warehouse.engine import engine_for_url

    load = reclaim_module.load_candidates

    def load_then_meet(*args, **kwargs):
        candidates = load(*args, **kwargs)
        _wait(barrier)
        return candidates

    reclaim_module.load_candidates = load_then_meet
    engine = engine_for_url(url)
    settings = Profile.model_validate(profile)
    opened = []
    zoom = GivenZoom(factory=lambda: opened.append(_client(zoom_conn)) or opened[-1])
    try:
        ctx = context_for(engine, settings, datetime.fromisoformat(as_of), run_id=run_id)
        outcome = reclaim_module.reclaim(ctx, zoom, Mode(settings.reclaim.mode))
        return {"reclaimed": sorted(c.candidate_id for c in outcome.reclaimed), "incomplete": None}
    except reclaim_module.ReclaimIncomplete as exc:
        return {"reclaimed": None, "incomplete": str(exc)}
    finally:
        for client in opened:
            client.close()
        engine.dispose()


# -------------------------------------------------------------------------------- profile tasks

def task_context(task, run_id: str, as_of: datetime, interval_start: datetime, xcoms: dict) -> dict:
    """What the task runner hands ``execute``: the run, its interval, a TI whose XComs are ``xcoms``."""
    ti = SimpleNamespace(id=f"{run_id}-{task.task_id}", try_number=1, map_index=-1,
                         xcom_pull=lambda task_ids: xcoms.get(task_ids), xcom_push=lambda key, value: None)
    return {"data_interval_start": interval_start, "data_interval_end": as_of, "run_id": run_id, "ti": ti,
            "task_instance": ti, "task": task, "outlet_events": defaultdict(SimpleNamespace)}


def reclaim_task(env: dict, profile_path: str, run_id: str, as_of: str, holding, proceed) -> dict:
    """The reclaim task of one run (its operator, so under the profile's lock).

    ``holding`` is set once the task holds the lock and is about to reclaim; it then waits for
    ``proceed``. A run given no ``holding`` event sets ``proceed`` as soon as it logs that it waits
    for the lock. Returns the task's summary and the lock lines of its log.
    """
    os.environ.update(env)
    import zoom_sam.reclaim.process
    from zoom_sam.operators.reclaim import ReclaimOperator

    task = ReclaimOperator(task_id="reclaim", profile_path=profile_path, profile_alias="acme")
    original = zoom_sam.reclaim.process.run

    def hold_then_reclaim(*args, **kwargs):
        holding.set()
        _wait(proceed)
        return original(*args, **kwargs)

    if holding is not None:
        zoom_sam.reclaim.process.run = hold_then_reclaim
    as_of_dt = datetime.fromisoformat(as_of)
    with signal_on_log("waiting for", proceed) as lines:
        summary = task.execute(task_context(task, run_id, as_of_dt, as_of_dt, {}))
    return {"summary": summary, "log": lines}


def pipeline_run(env: dict, profile_path: str, run_id: str, as_of: str, interval_start: str, barrier) -> dict:
    """One run of a profile DAG, task after task as the scheduler would run them, in this process.

    The run meets the other runs before its download merge (both snapshots fully staged); every
    later step races the other run for real.
    """
    os.environ.update(env)
    from zoom_sam.operators.activity import SWEEP_TASK_ID, PullActivityOperator, SweepActivityOperator
    from zoom_sam.operators.download_subscriptions import DownloadSubscriptionsOperator
    from zoom_sam.operators.reconcile import ReconcileOperator
    from zoom_sam.operators.validate_profile import ValidateProfileOperator
    from zoom_sam.subscriptions import process as download

    _meet_before_merging(download, barrier)
    common = {"profile_path": profile_path, "profile_alias": "acme"}
    tasks = [ValidateProfileOperator(task_id="validate_profile", **common),
             DownloadSubscriptionsOperator(task_id="download_subscriptions", **common),
             SweepActivityOperator(task_id=SWEEP_TASK_ID, shard=0, shards=1, **common),
             PullActivityOperator(task_id="pull_activity", **common),
             ReconcileOperator(task_id="reconcile", **common)]
    xcoms: dict[str, Any] = {}
    as_of_dt, start_dt = datetime.fromisoformat(as_of), datetime.fromisoformat(interval_start)
    for task in tasks:
        xcoms[task.task_id] = task.execute(task_context(task, run_id, as_of_dt, start_dt, xcoms))
    return {t: xcoms[t] for t in ("download_subscriptions", "reconcile")}
