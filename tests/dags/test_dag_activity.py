"""pull_activity in the profile DAG (parsed from dags/, run with dag.test against the sandbox):
mapped shards, coverage after all of them, daily and backfill runs, a failed shard."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from airflow.sdk import DagRunState, TaskInstanceState

from tests.activity.harness import ActivityAccount
from tests.support.airflow import airflow_db  # noqa: F401  (fixture)
from tests.support.sandbox import ANCHOR, sandbox  # noqa: F401  (fixture)

pytestmark = pytest.mark.airflow_db
DAY = timedelta(days=1)
START = ANCHOR - 30 * DAY  # the default: first as-of - max_lookback_days


def shards(profiles, n: int) -> None:
    with (profiles / "acme.yaml").open("a") as f:
        f.write(f"activity_shards: {n}\n")


def instances(dag_run, task_id: str) -> dict[int, tuple[str, str | None]]:
    return {ti.map_index: (ti.state, ti.rendered_map_index) for ti in dag_run.get_task_instances()
            if ti.task_id == task_id}


def test_daily_and_backfill_runs_with_two_shards(profile_dag, profiles, sandbox, warehouse):
    shards(profiles, 2)
    acct = ActivityAccount(sandbox, None, warehouse.engine)

    dag_run = profile_dag.run(ANCHOR)
    assert dag_run.state == DagRunState.SUCCESS
    assert instances(dag_run, "sweep_activity") == {0: (TaskInstanceState.SUCCESS, "shard 1 of 2"),
                                                    1: (TaskInstanceState.SUCCESS, "shard 2 of 2")}
    assert {(t, i) for t, i, _, _ in acct.events()} == acct.truth(START, ANCHOR)
    cov = acct.coverage()
    assert (cov.covered_from, cov.covered_to) == (START, ANCHOR)
    job = next(r for r in warehouse.rows("job_result", "started_at") if r["task_id"] == "pull_activity")
    counts, api = (json.loads(v) if isinstance(v, str) else v for v in (job["counts"], job["api"]))
    assert job["status"] == "success"
    assert counts["holders"] == len(acct.holders()) and counts["covered_to"] == ANCHOR.isoformat()
    assert api["calls"]["Medium"] >= len(acct.holders())

    assert profile_dag.run(ANCHOR + DAY).state == DagRunState.SUCCESS  # the next daily run
    daily = acct.events()
    assert {(t, i) for t, i, _, _ in daily} == acct.truth(START, ANCHOR + DAY)

    for day in (ANCHOR - 2 * DAY, ANCHOR - DAY):  # the runs a backfill over covered days creates
        assert profile_dag.run(day).state == DagRunState.SUCCESS
    assert acct.events() == daily
    assert acct.event_count() == len(daily)
    assert acct.coverage().covered_to == ANCHOR + DAY


@pytest.mark.parametrize("warehouse", ["sqlite"], indirect=True)
def test_a_failed_shard_leaves_the_coverage_and_its_retry_completes(profile_dag, profiles, sandbox, warehouse):
    shards(profiles, 2)
    acct = ActivityAccount(sandbox, None, warehouse.engine)
    sandbox.faults.add("status", path=r"/webinars$", status=503)  # every webinar listing fails

    dag_run = profile_dag.run(ANCHOR)
    assert dag_run.state == DagRunState.FAILED
    assert TaskInstanceState.FAILED in {state for state, _ in instances(dag_run, "sweep_activity").values()}
    assert instances(dag_run, "pull_activity") == {-1: (TaskInstanceState.UPSTREAM_FAILED, None)}
    assert acct.coverage() is None

    sandbox.faults.clear()
    assert profile_dag.run(ANCHOR).state == DagRunState.SUCCESS
    events = acct.events()
    assert {(t, i) for t, i, _, _ in events} == acct.truth(START, ANCHOR)
    assert acct.event_count() == len(events)
    assert acct.coverage().covered_to == ANCHOR
