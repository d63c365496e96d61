"""The run parameters of a profile's DAG in real runs (dag.test on the sandbox): each only makes a
run do less, a forged conf runs nothing, and a run without them is the scheduled run it always was."""
from __future__ import annotations

from datetime import timedelta

import pytest
from airflow.sdk import DagRunState

from tests.support.sandbox import ANCHOR
from zoom_sam.dag_factory import PIPELINE

pytestmark = pytest.mark.airflow_db

AUTOMATIC = """\
reclaim_subscriptions: true
reclaim:
  mode: automatic
  max_per_run: 10000
  max_fraction: 1.0
rules:
  - software_model: "*"
    last_activity_threshold_days: 1
"""
WRITES = ("PATCH", "DELETE", "POST", "PUT")


def _writes(sandbox) -> list:
    return [r for r in sandbox.log if r.method in WRITES and r.path.startswith("/v2/")]


@pytest.fixture
def automatic(profile_dag, profiles):
    path = profiles / "acme.yaml"
    path.write_text(path.read_text() + AUTOMATIC)
    return profile_dag


def _states(dag_run) -> dict[str, str]:
    return {ti.task_id: ti.state for ti in dag_run.get_task_instances()}


def _jobs(warehouse, run_id) -> dict[str, dict]:
    return {r["task_id"]: r for r in warehouse.rows("job_result", "started_at") if r["run_id"] == run_id}


def test_the_dag_offers_three_boolean_parameters_that_default_to_the_profile(automatic):
    dag = automatic.dag()
    assert {name: (p.value, p.schema["type"]) for name, p in dag.params.items()} == {
        "dry_run_only": (False, "boolean"), "reconcile_latest_snapshot_only": (False, "boolean"),
        "skip_activity": (False, "boolean")}
    assert list(dag.task_ids) == [s.task_id for s in PIPELINE if s.task_id != "approve"]  # the shape is unchanged


def test_dry_run_only_plans_an_automatic_profile_without_writing(automatic, sandbox, warehouse):
    sandbox.log.clear()
    dag_run = automatic.run(run_conf={"dry_run_only": True})
    assert dag_run.state == DagRunState.SUCCESS, _states(dag_run)
    assert _writes(sandbox) == []
    jobs = _jobs(warehouse, dag_run.run_id)
    assert jobs["reclaim"]["status"] == "dry_run"
    assert {r["state"] for r in warehouse.rows("removal_candidate", "candidate_id")} == {"ready"}


def test_reconcile_on_demand_calls_zoom_not_at_all_and_reconciles_the_latest_snapshot(automatic, sandbox, warehouse):
    assert automatic.run(run_conf={"dry_run_only": True}).state == DagRunState.SUCCESS
    before = warehouse.rows("removal_candidate", "candidate_id", exclude=("updated_at",))
    sandbox.log.clear()

    dag_run = automatic.run(ANCHOR + timedelta(days=3), run_conf={"reconcile_latest_snapshot_only": True})

    assert dag_run.state == DagRunState.SUCCESS, _states(dag_run)
    assert list(sandbox.log) == []  # no download, no activity, no re-check: not one request
    jobs = _jobs(warehouse, dag_run.run_id)
    for task in ("download_subscriptions", "sweep_activity[0]", "pull_activity"):
        assert jobs[task]["status"] == "skipped"
        assert jobs[task]["message"].startswith("skipped by the run parameter reconcile_latest_snapshot_only")
    assert jobs["reconcile"]["status"] in ("success", "insufficient_history")
    assert jobs["reclaim"]["status"] == "dry_run"
    reconciled = dag_run.get_task_instance("reconcile").xcom_pull(task_ids="reconcile")
    assert reconciled["as_of"] == ANCHOR.isoformat()  # the snapshot's as-of, not the run's
    assert warehouse.rows("removal_candidate", "candidate_id", exclude=("updated_at",)) == before


def test_skip_activity_leaves_the_candidates_alone_when_the_activity_does_not_reach_the_as_of(
        automatic, sandbox, warehouse):
    assert automatic.run(run_conf={"dry_run_only": True}).state == DagRunState.SUCCESS
    before = warehouse.rows("removal_candidate", "candidate_id", exclude=("updated_at",))
    sandbox.log.clear()

    dag_run = automatic.run(ANCHOR + timedelta(days=1), run_conf={"skip_activity": True})

    assert dag_run.state == DagRunState.SUCCESS, _states(dag_run)
    jobs = _jobs(warehouse, dag_run.run_id)
    assert jobs["pull_activity"]["status"] == jobs["reconcile"]["status"] == "skipped"
    assert "before the as-of 2026-11-29 00:00Z" in jobs["reconcile"]["message"]
    assert jobs["reclaim"]["status"] == "dry_run"
    assert _writes(sandbox) == []
    assert not any("/meetings" in r.path or "/webinars" in r.path for r in sandbox.log)
    assert warehouse.rows("removal_candidate", "candidate_id", exclude=("updated_at",)) == before


@pytest.mark.parametrize("conf", [{"dry_run_only": True, "max_per_run": 100000}, {"reclaim_mode": "automatic"}],
                         ids=["an extra key", "an unknown key alone"])
def test_a_forged_conf_runs_nothing(automatic, sandbox, warehouse, conf):
    sandbox.log.clear()
    dag_run = automatic.run(run_conf=conf)
    states = _states(dag_run)
    assert dag_run.state == DagRunState.FAILED and states["validate_profile"] == "failed", states
    assert {states[t] for t in ("download_subscriptions", "reconcile", "reclaim")} == {"upstream_failed"}
    assert list(sandbox.log) == []
    assert "unknown run parameter" in _jobs(warehouse, dag_run.run_id)["validate_profile"]["message"]


def test_a_parameter_of_the_wrong_type_is_refused_before_the_run_starts(automatic, sandbox):
    from airflow.sdk.exceptions import ParamValidationError

    sandbox.log.clear()
    with pytest.raises(ParamValidationError, match="dry_run_only"):
        automatic.run(run_conf={"dry_run_only": "no"})
    assert list(sandbox.log) == []
