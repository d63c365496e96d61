"""The activity sweep's operators: ``sweep_activity`` (mapped over shards) and ``pull_activity``.

``sweep_activity`` is mapped over the profile's ``activity_shards`` (dynamic task mapping over
chunks of holders, never one task per user): each shard reads its own holders (a stable hash of
the user id) at its live share of the account's rate limit (the limit divided by the shards
sending at the moment, ``zoom_sam.activity.shared_rate``), so the shards together stay inside
Zoom's per-account limit on whichever workers they run, and use all of it. ``pull_activity`` runs once every shard
succeeded and is the only task that advances the activity coverage; a failed shard stops it, so
coverage never claims a window some holder did not complete.
"""
from __future__ import annotations

from typing import Any

from zoom_sam.operators.base import ProfileOperator
from zoom_sam.warehouse.lock_names import COVERAGE

SWEEP_TASK_ID = "sweep_activity"


class SweepActivityOperator(ProfileOperator):
    """One shard of the activity sweep (:mod:`zoom_sam.activity.shard`).

    :param shard: this task's shard (the mapped argument).
    :param shards: how many shards the sweep has (the profile's ``activity_shards`` at parse time).
    """

    ui_color = "#e3f4ea"
    process = "zoom_sam.activity.shard:run"
    zoom_work = "sweep_work"

    def __init__(self, *, shard: int = 0, shards: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shard = shard
        self.shards = shards
        self.zoom_shards = shards

    def inputs(self, context: Any) -> dict[str, Any]:
        return {"shard": self.shard, "shards": self.shards}


def sweep_activity_tasks(*, task_id: str, profile_path: str, profile_alias: str, shards: int, **kwargs: Any):
    """The mapped sweep: one task instance per shard of the profile's ``activity_shards``."""
    return SweepActivityOperator.partial(
        task_id=task_id, profile_path=profile_path, profile_alias=profile_alias, shards=shards,
        map_index_template="shard {{ task.shard + 1 }} of {{ task.shards }}", **kwargs,
    ).expand(shard=list(range(shards)))


class PullActivityOperator(ProfileOperator):
    """After every shard succeeded: the sweep's completion (:mod:`zoom_sam.activity.completion`).

    Under the profile's ``coverage`` lock: the sweeps of concurrent runs may overlap (events are
    upserted by Zoom's uuid), their coverage steps do not.
    """

    warehouse_lock = COVERAGE
    process = "zoom_sam.activity.completion:run"

    def inputs(self, context: Any) -> dict[str, Any]:
        results = context["ti"].xcom_pull(task_ids=SWEEP_TASK_ID)
        if isinstance(results, dict):  # a single mapped instance comes back unwrapped
            results = [results]
        return {"shard_results": [r for r in results or () if r]}
