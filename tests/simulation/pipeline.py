"""One daily run of a profile's DAG: every task's operator executed in order, in this process.

Each task is the operator ``dags/`` builds (``dag_factory.PIPELINE``), executed with the context
Airflow gives a scheduled run: ``data_interval_end`` is the as-of, ``run_type`` is scheduled,
mapped sweep shards have their map index, and ``pull_activity`` receives the shards' results as
its XCom. So each operator loads the profile file as it is when the task runs, opens the warehouse
from its connection, records its ``job_result`` row and calls the library exactly as in
production. ``dag.test`` per day would add seconds of scheduler overhead per run for nothing
the simulation checks.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml
from airflow.sdk.bases.operator import ExecutorSafeguard
from airflow.sdk.exceptions import AirflowFailException

from zoom_sam.operators.activity import SWEEP_TASK_ID, PullActivityOperator, SweepActivityOperator
from zoom_sam.operators.download_subscriptions import DownloadSubscriptionsOperator
from zoom_sam.operators.reclaim import ReclaimOperator
from zoom_sam.operators.reconcile import ReconcileOperator
from zoom_sam.operators.validate_profile import ValidateProfileOperator
from zoom_sam.profiles import Profile
from zoom_sam.reclaim.process import ReclaimIncomplete

SCHEDULED = "scheduled"  # the DagRunType of the daily runs


@dataclass
class TaskInstance:
    """What the operators read from Airflow's task instance."""

    map_index: int = -1
    try_number: int = 1
    xcoms: dict[str, Any] | None = None

    def xcom_pull(self, task_ids: str) -> Any:
        return (self.xcoms or {}).get(task_ids)


@dataclass
class RunResult:
    """What reconcile returned, and how the reclaim task ended (None: it succeeded)."""

    reconcile: dict[str, Any]
    reclaim_failure: str | None = None

    @property
    def guard_stopped(self) -> bool:
        return "reclaim.max_" in (self.reclaim_failure or "")


class Pipeline:
    """The tasks of one profile's DAG, run against the profile file ``path``."""

    def __init__(self, path: Path, profile: Profile) -> None:
        self.path = path
        ids = {"profile_path": str(path), "profile_alias": profile.alias}
        self.validate = ValidateProfileOperator(task_id="validate_profile", **ids)
        self.download = DownloadSubscriptionsOperator(task_id="download_subscriptions", **ids)
        self.shards = [SweepActivityOperator(task_id=SWEEP_TASK_ID, shard=i, shards=profile.activity_shards, **ids)
                       for i in range(profile.activity_shards)]
        self.pull = PullActivityOperator(task_id="pull_activity", **ids)
        self.reconcile = ReconcileOperator(task_id="reconcile", **ids)
        self.reclaim = ReclaimOperator(task_id="reclaim", **ids)

    def write_profile(self, profile: Profile) -> None:
        """The profile file as the next task will read it."""
        self.path.write_text(yaml.safe_dump(profile.settings(), sort_keys=False))

    def run_until_download(self, as_of: datetime) -> None:
        self._execute(self.validate, as_of)
        self._execute(self.download, as_of)

    def pull_activity(self, as_of: datetime) -> None:
        results = [self._execute(shard, as_of, TaskInstance(map_index=i)) for i, shard in enumerate(self.shards)]
        self._execute(self.pull, as_of, TaskInstance(xcoms={SWEEP_TASK_ID: results}))

    def reconcile_and_reclaim(self, as_of: datetime) -> RunResult:
        result = RunResult(self._execute(self.reconcile, as_of))
        try:
            self._execute(self.reclaim, as_of)
        except (AirflowFailException, ReclaimIncomplete) as exc:  # the task fails; the DAG run stops there
            result.reclaim_failure = f"{type(exc).__name__}: {exc}"
        return result

    def _execute(self, operator, as_of: datetime, ti: TaskInstance | None = None) -> Any:
        run_id = f"{SCHEDULED}__{as_of.isoformat()}"
        context = {
            "run_id": run_id, "data_interval_start": as_of - timedelta(days=1), "data_interval_end": as_of,
            "dag_run": SimpleNamespace(run_id=run_id, run_type=SCHEDULED, run_after=as_of),
            "ti": ti or TaskInstance(), "outlet_events": defaultdict(SimpleNamespace),
        }
        token = ExecutorSafeguard.tracker.set(operator)  # as the task runner marks the task it executes
        try:
            return operator.execute(context)
        finally:
            ExecutorSafeguard.tracker.reset(token)
