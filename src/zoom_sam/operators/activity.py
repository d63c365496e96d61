"""pull_activity in the DAG: ``sweep_activity`` (mapped over shards) then ``pull_activity``.

``sweep_activity`` is mapped over the profile's ``activity_shards`` (dynamic task mapping over
chunks of holders, never one task per user): each shard reads its own holders (a stable hash of
the user id) at its live share of the account's rate limit (the limit divided by the shards
sending at the moment, ``zoom_sam.activity.shared_rate``), so the shards together stay inside
Zoom's per-account limit on whichever workers they run, and use all of it. ``pull_activity`` runs once every shard
succeeded and is the only task that advances the activity coverage; a failed shard stops it, so
coverage never claims a window some holder did not complete.

In the DAG factory these are two lines of ``PIPELINE``, between ``download_subscriptions`` and
``reconcile``, both when ``download_activity`` is true::

    Step("sweep_activity", sweep_activity_tasks, when=lambda p: p.download_activity,
         options=lambda p: {"shards": p.activity_shards}),
    Step("pull_activity", PullActivityOperator, when=lambda p: p.download_activity),
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from zoom_sam.operators.base import ProfileOperator, ProfileRun
from zoom_sam.warehouse.lock_names import COVERAGE

SWEEP_TASK_ID = "sweep_activity"


class SweepActivityOperator(ProfileOperator):
    """One shard of the activity sweep.

    :param shard: this task's shard (the mapped argument).
    :param shards: how many shards the sweep has (the profile's ``activity_shards`` at parse time).
    """

    ui_color = "#e3f4ea"

    def __init__(self, *, shard: int = 0, shards: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shard = shard
        self.shards = shards

    def run(self, run: ProfileRun) -> dict[str, Any]:
        from zoom_sam.activity.pull import pull_shard
        from zoom_sam.profile_rows import first_as_of
        from zoom_sam.profiles import activity_start
        from zoom_sam.timeouts.estimate import sweep_work

        profile = run.profile
        client = run.zoom_client(sweep_work, shards=self.shards)
        with run.engine.connect() as conn:
            first = first_as_of(conn, profile.alias) or run.as_of
        try:
            result = pull_shard(
                client, run.engine, alias=profile.alias, as_of=run.as_of,
                interval_start=_utc(run.context.get("data_interval_start")),
                history_start=activity_start(profile, first), source=profile.activity_source,
                shard=self.shard, shards=self.shards, run_id=run.run_id,
            )
        finally:
            run.job.api = client.stats()
            client.close()
        run.job.minimal = result["minimal"]
        run.job.counts.update(result["counts"], shard=self.shard, shards=self.shards,
                              window_kind=result["window_kind"], window_start=result["window_start"],
                              window_end=result["window_end"])
        return result


def sweep_activity_tasks(*, task_id: str, profile_path: str, profile_alias: str, shards: int, **kwargs: Any):
    """The mapped sweep: one task instance per shard of the profile's ``activity_shards``."""
    return SweepActivityOperator.partial(
        task_id=task_id, profile_path=profile_path, profile_alias=profile_alias, shards=shards,
        map_index_template="shard {{ task.shard + 1 }} of {{ task.shards }}", **kwargs,
    ).expand(shard=list(range(shards)))


class PullActivityOperator(ProfileOperator):
    """After every shard succeeded: advance the coverage, apply the retention, sum up the sweep.

    Under the profile's ``coverage`` lock: the sweeps of concurrent runs may overlap (events are
    upserted by Zoom's uuid), their coverage steps do not.
    """

    warehouse_lock = COVERAGE

    def run(self, run: ProfileRun) -> dict[str, Any]:
        from zoom_sam.activity.pull import complete_pull

        results = run.context["ti"].xcom_pull(task_ids=SWEEP_TASK_ID)
        if isinstance(results, dict):  # a single mapped instance comes back unwrapped
            results = [results]
        summary = complete_pull(run.engine, [r for r in results or () if r], alias=run.profile.alias,
                                as_of=run.as_of, run_id=run.run_id,
                                retention_days=run.profile.activity_retention_days)
        run.job.counts.update(summary["counts"], **{k: v for k, v in summary.items()
                                                    if k not in ("counts", "api", "minimal")})
        run.job.api, run.job.minimal = summary["api"], summary["minimal"]
        return {k: v for k, v in summary.items() if k not in ("counts", "minimal")} | {
            "holders": summary["counts"].get("holders", 0),
            "events": summary["counts"].get("meeting_events", 0) + summary["counts"].get("webinar_events", 0),
            "holders_not_found": summary["counts"].get("holders_not_found", 0),
        }


def _utc(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value.timestamp(), tz=timezone.utc) if value is not None else None
