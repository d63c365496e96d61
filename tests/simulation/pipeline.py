"""One daily run of a profile's DAG, task by task, as the operators call the library.

Each function is the body of one operator of ``zoom_sam.operators`` with the same arguments
(``dag.test`` per day would cost seconds of scheduler overhead per run for nothing the simulation
checks). The Zoom client comes from ``ZoomHook`` and the connection id of the profile, as in the
operators; the warehouse engine is passed in (the operators build it from the profile's
connection and migrate it first, which ``ensure_schema`` here does once per run).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from zoom_sam.activity.holders import rate_share
from zoom_sam.activity.pull import complete_pull, pull_shard
from zoom_sam.hooks.zoom import ZoomHook
from zoom_sam.licensing import DEFAULT_THRESHOLD_DAYS
from zoom_sam.profile_rows import first_as_of, has_activity_history, upsert_profile
from zoom_sam.profiles import Profile, activity_start, check_activity_start
from zoom_sam.reclaim import GuardExceeded, reclaim
from zoom_sam.reclaim.model import run_mode
from zoom_sam.reclaim.run import ReclaimIncomplete
from zoom_sam.reconcile import reconcile
from zoom_sam.subscriptions.download import download_subscriptions
from zoom_sam.warehouse.jobs import Job
from zoom_sam.warehouse.migrate import ensure_schema


@dataclass
class RunResult:
    """What the reconcile and reclaim tasks of one run returned, and how the reclaim task ended."""

    reconcile: dict[str, Any] = field(default_factory=dict)
    reclaim: dict[str, Any] = field(default_factory=dict)
    reclaim_failure: str | None = None  # GuardExceeded / ReclaimIncomplete: the task failed


SCHEDULED = "scheduled"  # the DagRunType of the daily runs


def run_id_of(as_of: datetime) -> str:
    return f"{SCHEDULED}__{as_of.isoformat()}"


def validate_profile(engine: Engine, profile: Profile, as_of: datetime) -> None:
    """``validate_profile``: the profile row, the onboarding window checked on the first run."""
    ensure_schema(engine)
    with engine.begin() as conn:
        first = first_as_of(conn, profile.alias) or as_of
        if not has_activity_history(conn, profile.alias):
            check_activity_start(profile, first)
        upsert_profile(conn, profile, as_of)


def download(engine: Engine, profile: Profile, as_of: datetime) -> dict[str, Any]:
    """``download_subscriptions``."""
    client = ZoomHook(zoom_conn_id=profile.zoom_conn_id).get_conn()
    try:
        return download_subscriptions(client, engine, profile, run_id=run_id_of(as_of), as_of=as_of, job=Job())
    finally:
        client.close()


def pull_activity(engine: Engine, profile: Profile, as_of: datetime) -> dict[str, Any]:
    """Every mapped ``sweep_activity`` shard, then ``pull_activity``."""
    shards = profile.activity_shards
    idle_days = min([r.last_activity_threshold_days for r in profile.rules] + [DEFAULT_THRESHOLD_DAYS])
    results = []
    for shard in range(shards):
        hook = ZoomHook(profile.zoom_conn_id)
        if shards > 1:
            hook = ZoomHook(profile.zoom_conn_id, config_overrides={"rate_limits": rate_share(hook.get_config().limits,
                                                                                            shards)})
        client = hook.get_conn()
        with engine.connect() as conn:
            first = first_as_of(conn, profile.alias) or as_of
        try:
            results.append(pull_shard(
                client, engine, alias=profile.alias, as_of=as_of, interval_start=as_of - timedelta(days=1),
                history_start=activity_start(profile, first), source=profile.activity_source, shard=shard,
                shards=shards, idle_days=idle_days))
        finally:
            client.close()
    return complete_pull(engine, results, alias=profile.alias, as_of=as_of, run_id=run_id_of(as_of),
                         retention_days=profile.activity_retention_days)


def run_reconcile(engine: Engine, profile: Profile, as_of: datetime) -> dict[str, Any]:
    """``reconcile``."""
    return reconcile(engine, profile.alias, as_of, mode=profile.reclaim.mode, run_id=run_id_of(as_of))


def run_reclaim(engine: Engine, profile: Profile, as_of: datetime, result: RunResult) -> None:
    """``reclaim`` of a scheduled run (no approval step: the simulation runs in automatic mode).
    A guard or an unfinished user fails the task."""
    mode, _ = run_mode(profile, SCHEDULED)
    if mode is None:
        return
    try:
        outcome = reclaim(engine, profile, as_of=as_of, run_id=run_id_of(as_of), approved=False, mode=mode,
                          client_factory=lambda: ZoomHook(zoom_conn_id=profile.zoom_conn_id).get_conn())
        result.reclaim = outcome.summary()
    except (GuardExceeded, ReclaimIncomplete) as exc:
        result.reclaim_failure = f"{type(exc).__name__}: {exc}"
