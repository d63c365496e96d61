"""The reclaim step inside the profile DAG, run with dag.test() on the sandbox, on SQLite and PostgreSQL."""
from __future__ import annotations

import json

import pytest
from airflow.sdk import DagRunState

pytestmark = pytest.mark.airflow_db

RECLAIM = """\
download_activity: false
reclaim_subscriptions: true
reclaim:
  mode: {mode}
  max_per_run: 10000
  max_fraction: 1.0
rules:
  - software_model: "*"
    last_activity_threshold_days: 30
    disassociate_pending_invitations: true
"""
WRITES = ("PATCH", "DELETE")


def budgets(warehouse) -> dict[str, dict]:
    """task id -> job_result.counts.api_budget of the run."""
    rows = warehouse.rows("job_result", "started_at")
    return {r["task_id"]: (json.loads(r["counts"]) if isinstance(r["counts"], str) else r["counts"])["api_budget"]
            for r in rows}


def _run(profile_dag, profiles, mode):
    path = profiles / "acme.yaml"
    path.write_text(path.read_text() + RECLAIM.format(mode=mode))
    dag_run = profile_dag.run()
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert dag_run.state == DagRunState.SUCCESS, states
    assert states["reclaim"] == "success" and "approve" not in states
    return dag_run


def test_dry_run_in_the_dag_sends_nothing_and_plans_every_candidate(profile_dag, profiles, sandbox, warehouse):
    sandbox.log.clear()
    _run(profile_dag, profiles, "dry_run")
    assert [r for r in sandbox.log if r.method in WRITES] == []
    open_ids = {r["candidate_id"] for r in warehouse.rows("removal_candidate", "candidate_id") if r["state"] == "ready"}
    planned = {r["candidate_id"] for r in warehouse.rows("reclaim_action", "action_id") if r["dry_run"]}
    assert open_ids and planned <= open_ids
    (job,) = [r for r in warehouse.rows("job_result", "started_at") if r["task_id"] == "reclaim"]
    assert job["status"] == "dry_run"
    budget = budgets(warehouse)
    assert budget["reclaim"] == {"calls": 0, "minimal": 0, "ratio": 1.0, "categories": {}}  # no re-check read
    download = budget["download_subscriptions"]
    assert download["calls"] == download["minimal"] > 0 and set(download["categories"]) == {"Medium"}
    assert budget["reconcile"]["calls"] == budget["validate_profile"]["calls"] == 0


def test_automatic_in_the_dag_closes_every_candidate_of_the_run(profile_dag, profiles, sandbox, warehouse):
    _run(profile_dag, profiles, "automatic")
    candidates = warehouse.rows("removal_candidate", "candidate_id")
    assert {r["state"] for r in candidates} <= {"closed_complete", "closed_skipped", "closed_canceled"}
    reclaimed = [r for r in candidates if r["state"] == "closed_complete"]
    assert reclaimed
    account = sandbox.account()
    for r in reclaimed:  # a downgraded seat is Basic now; a disassociated invitation is gone
        assert account.user(r["email"]) is None or account.user(r["email"])["type"] == 1
    writes = [r for r in sandbox.log if r.method in WRITES]
    actions = [a for a in warehouse.rows("reclaim_action", "action_id") if not a["dry_run"]]
    assert len(writes) == len(actions) and {a["status"] for a in actions} == {"succeeded"}
    reclaim = budgets(warehouse)["reclaim"]  # re-checks that stopped early read less than acting needs
    assert 0 < reclaim["calls"] <= reclaim["minimal"] and reclaim["ratio"] <= 1
