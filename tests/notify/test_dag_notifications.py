"""Notifications from a real DAG run: the profile DAG parsed from dags/ and run with dag.test()
against the sandbox, so the download's own counts and Airflow's own failure callback (with the
exception Airflow hands it) are what the messages are built from."""
from __future__ import annotations

import json
import os
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from airflow.sdk import DagRunState

from tests.support.airflow import airflow_db  # noqa: F401  (fixture)
from tests.support.sandbox import ANCHOR, connection_json, sandbox  # noqa: F401  (fixture)
from zoom_sam.warehouse.schema import job_result

pytestmark = pytest.mark.airflow_db

PROFILE = """\
alias: acme
zoom_conn_id: zoom_test
warehouse_conn_id: wh_test
download_activity: false
notifications:
  webhooks:
    - conn_id: sam_webhook
      events: [unrecognized_identifiers, process_failed]
"""


@pytest.fixture
def run_dag(airflow_db, sandbox, webhook, tmp_path, monkeypatch):  # noqa: F811 - fixtures imported above
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "acme.yaml").write_text(PROFILE)
    monkeypatch.setenv("ZOOM_SAM_PROFILES_DIR", str(folder))
    monkeypatch.setenv("ZOOM_SAM_TASK_RETRIES", "0")
    monkeypatch.setenv("AIRFLOW_CONN_ZOOM_TEST", connection_json(sandbox))
    monkeypatch.setenv("AIRFLOW_CONN_WH_TEST", json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "w.db")}))
    monkeypatch.setenv("AIRFLOW_CONN_SAM_WEBHOOK", json.dumps({"conn_type": "http", "host": webhook.url}))
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example.com")

    def run(extra: str = ""):
        from airflow.dag_processing.dagbag import DagBag

        (folder / "acme.yaml").write_text(PROFILE + extra)
        bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
        assert not bag.import_errors, bag.import_errors
        return bag.dags["zoom_sam__acme"].test(logical_date=ANCHOR)

    run.warehouse = tmp_path / "w.db"
    return run


def test_a_real_run_tells_of_the_unrecognized_identifiers_its_download_found(run_dag, webhook):
    assert run_dag().state == DagRunState.SUCCESS
    body = webhook.next()["json"]
    assert body["event"] == "unrecognized_identifiers" and "(the profile's first snapshot)" in body["text"]
    assert body["facts"]["new"]["zoom_phone"] > 0
    assert webhook.empty()


def test_a_real_failure_reaches_the_webhook_through_airflows_callback(run_dag, webhook):
    dag_run = run_dag("analyze_activity_from: 2026-09-01\n")  # out of range: validate_profile fails at once
    assert dag_run.state == DagRunState.FAILED
    body = webhook.next()["json"]
    assert body["event"] == "process_failed"
    assert body["facts"]["error_class"] == "ActivityStartError"  # not Airflow's wrapper
    assert "analyze_activity_from" in body["facts"]["error"]
    assert body["links"]["Task log"] == (f"https://airflow.example.com/dags/zoom_sam__acme/runs/"
                                         f"{quote(dag_run.run_id, safe='')}/tasks/validate_profile")
    assert webhook.empty()
    engine = sa.create_engine(f"sqlite:///{run_dag.warehouse}")
    with engine.connect() as conn:
        status, counts = conn.execute(sa.select(job_result.c.status, job_result.c.counts)
                                      .where(job_result.c.task_id == "validate_profile")).one()
    engine.dispose()
    assert status == "failed" and counts["notifications"] == {"sent": 1, "failed": 0}
