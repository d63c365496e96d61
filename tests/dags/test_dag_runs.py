"""End to end: the profile DAG parsed from dags/ and run with dag.test() against the sandbox, on
SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest
from airflow.sdk import DagRunState, TaskInstanceState

from tests.support.sandbox import ANCHOR, expected_seats

pytestmark = pytest.mark.airflow_db


def states(dag_run) -> dict[str, str]:
    return {ti.task_id: ti.state for ti in dag_run.get_task_instances()}


def test_daily_run_lands_the_snapshot_as_of_the_interval_end(profile_dag, sandbox, warehouse):
    dag_run = profile_dag.run()
    assert dag_run.state == DagRunState.SUCCESS, states(dag_run)
    assert (dag_run.data_interval_start, dag_run.data_interval_end) == (ANCHOR - timedelta(days=1), ANCHOR)

    seats = [r for r in warehouse.rows("software_subscription", "user_id")
             if r["software_model"] == "zoom_meetings_licensed" and r["active"]]
    assert {r["user_id"] for r in seats} == expected_seats(sandbox)
    assert {str(r["last_seen_at"])[:19] for r in seats} == {"2026-11-28 00:00:00"}

    jobs = {r["task_id"]: r for r in warehouse.rows("job_result", "started_at")}
    assert {"validate_profile", "download_subscriptions", "reconcile"} <= set(jobs)
    # Without activity history the first reconcile judges only what its coverage allows.
    assert {t: r["status"] for t, r in jobs.items()} == {
        "validate_profile": "success", "download_subscriptions": "success", "sweep_activity[0]": "success",
        "pull_activity": "success", "reconcile": "insufficient_history"}
    assert {r["run_id"] for r in jobs.values()} == {dag_run.run_id}
    assert {str(r["as_of"])[:19] for r in jobs.values()} == {"2026-11-28 00:00:00"}

    (profile_row,) = warehouse.rows("integration_profile", "profile_alias")
    assert str(profile_row["first_as_of"])[:10] == "2026-11-28"
    assert str(profile_row["activity_start"])[:10] == "2026-10-29"  # as-of - max_lookback_days

    ti = next(t for t in dag_run.get_task_instances() if t.task_id == "download_subscriptions")
    summary = ti.xcom_pull(task_ids="download_subscriptions")
    assert summary["users"] == sum(1 for _ in sandbox.account().users())
    assert set(summary) == {"users", "subscriptions_active", "new", "gone", "unrecognized_identifiers"}


def test_two_runs_of_the_same_interval_leave_identical_tables(profile_dag, warehouse):
    tables = {"zoom_user": "user_id", "software_subscription": "user_id, identifier",
              "software_model": "software_model", "subscription_identifier": "identifier",
              "unrecognized_subscription_identifier": "identifier", "entitlement": "software_model",
              "reclamation_rule": "rule_index", "exclusion_rule": "rule_index"}

    def snapshot():
        return {t: warehouse.rows(t, order, exclude=("updated_at",)) for t, order in tables.items()}

    assert profile_dag.run().state == DagRunState.SUCCESS
    first = snapshot()
    assert profile_dag.run().state == DagRunState.SUCCESS
    assert snapshot() == first


def test_user_downgraded_in_zoom_between_runs_ends_the_subscription(profile_dag, sandbox, warehouse):
    assert profile_dag.run().state == DagRunState.SUCCESS
    user = next(u for u in sandbox.account().users("active") if u["type"] == 2)
    sandbox.account().set_user_type(user["id"], 1)
    assert profile_dag.run(ANCHOR + timedelta(days=1)).state == DagRunState.SUCCESS
    rows = [r for r in warehouse.rows("software_subscription", "identifier") if r["user_id"] == user["id"]]
    assert rows and all(not r["active"] and str(r["ended_at"])[:10] == "2026-11-29" for r in rows)


def test_zoom_phone_is_unrecognized_until_the_profile_maps_it(profile_dag, profiles, warehouse):
    assert profile_dag.run().state == DagRunState.SUCCESS
    counts = {r["identifier"]: r["subscription_count"]
              for r in warehouse.rows("unrecognized_subscription_identifier", "identifier")}
    assert counts["zoom_phone"] > 0
    with (profiles / "acme.yaml").open("a") as f:
        f.write("identifier_models:\n  zoom_phone: zoom_phone\n")
    assert profile_dag.run(ANCHOR + timedelta(days=1)).state == DagRunState.SUCCESS
    phones = [r for r in warehouse.rows("software_subscription", "user_id") if r["identifier"] == "zoom_phone"]
    assert len(phones) == counts["zoom_phone"] and {r["software_model"] for r in phones} == {"zoom_phone"}


def test_excluded_users_are_marked_not_dropped(profile_dag, sandbox, warehouse):
    sandbox.account().add_user("svc-rooms@example.com", type=2, status="active")
    assert profile_dag.run().state == DagRunState.SUCCESS
    rows = warehouse.rows("software_subscription", "user_id")
    svc = [r for r in rows if r["email"] == "svc-rooms@example.com"]
    assert [(r["identifier"], r["excluded"], r["exclusion_rule"]) for r in svc] == [
        ("user_type:2", True, "email=svc-*@example.com")]
    assert not any(r["excluded"] for r in rows if not r["email"].startswith("svc-"))


def test_analyze_activity_from_out_of_range_fails_the_run_not_the_parse(profile_dag, profiles, warehouse):
    with (profiles / "acme.yaml").open("a") as f:
        f.write("analyze_activity_from: 2026-09-01\n")  # 88 days before the first as-of; at most 30
    dag = profile_dag.dag()  # parses without an import error (checked in the runner)
    dag_run = dag.test(logical_date=ANCHOR)
    assert dag_run.state == DagRunState.FAILED
    after = states(dag_run)
    assert after.pop("validate_profile") == TaskInstanceState.FAILED
    assert set(after.values()) == {TaskInstanceState.UPSTREAM_FAILED} and "download_subscriptions" in after
    (job,) = warehouse.rows("job_result", "started_at")
    assert job["status"] == "failed" and "analyze_activity_from" in job["message"]
    assert "2026-10-29" in job["message"]  # the earliest valid date is named
    assert warehouse.rows("software_subscription", "user_id") == []
