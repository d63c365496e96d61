"""Notification suites: a profile naming a local webhook and a local SMTP server as its targets,
and an operator of the real base whose process each test writes (no scheduler involved)."""
from __future__ import annotations

import json
import sys
import types
from types import SimpleNamespace

import pendulum
import pytest
import sqlalchemy as sa

from tests.support.receivers import mailbox, webhook  # noqa: F401  (fixtures)
from zoom_sam.operators.base import ProfileOperator
from zoom_sam.warehouse.engine import engine_for_url
from zoom_sam.warehouse.schema import job_result

AS_OF = pendulum.datetime(2026, 11, 28, tz="UTC")
# The Zoom app's client secret: it must never reach a notification.
CLIENT_SECRET = "zs-client-SECRET-7f3a9c"
PROFILE = """\
alias: acme
display_name: Acme Corp
zoom_conn_id: zoom_acme
warehouse_conn_id: acme_warehouse
notifications:
  timeout_seconds: {timeout}
  webhooks:
    - conn_id: sam_webhook
  email:
    - conn_id: sam_smtp
      to: [sam-team@example.com, finance@example.com]
      events: {email_events}
"""


class ProbeOperator(ProfileOperator):
    process = "notify_probe:run"


class Pipeline:
    """One profile's task runs: ``run(task_id, process)`` executes a task of the real base."""

    def __init__(self, tmp_path, monkeypatch, db):
        self.tmp_path, self.monkeypatch, self.db = tmp_path, monkeypatch, db
        self.module = types.ModuleType("notify_probe")
        monkeypatch.setitem(sys.modules, "notify_probe", self.module)
        self.engine = engine_for_url(f"sqlite:///{db}")
        self.profile(timeout=5)

    def profile(self, *, timeout: int = 5, email_events: str = "[approval_waiting, reclaim_done, process_failed]"):
        (self.tmp_path / "acme.yaml").write_text(PROFILE.format(timeout=timeout, email_events=email_events))

    def task(self, task_id: str) -> ProbeOperator:
        return ProbeOperator(task_id=task_id, profile_path=str(self.tmp_path / "acme.yaml"), profile_alias="acme")

    def context(self, task, run_id: str = "scheduled__2026-11-28T00:00:00+00:00", **extra) -> dict:
        return {"data_interval_start": AS_OF.subtract(days=1), "data_interval_end": AS_OF, "run_id": run_id,
                "ti": SimpleNamespace(task_id=task.task_id, try_number=1, map_index=-1),
                "dag_run": SimpleNamespace(run_type="scheduled"), "task": task, **extra}

    def run(self, task_id: str, process, run_id: str = "scheduled__2026-11-28T00:00:00+00:00"):
        self.module.run = process
        task = self.task(task_id)
        return task.execute(self.context(task, run_id))

    def fail(self, task_id: str, process, run_id: str = "scheduled__2026-11-28T00:00:00+00:00") -> BaseException:
        """Run a task whose process raises, then do what Airflow's task runner does once the task
        failed for good: put the exception in the context and call the failure callbacks."""
        self.module.run = process
        task = self.task(task_id)
        context = self.context(task, run_id)
        with pytest.raises(BaseException) as raised:
            task.execute(context)
        context["exception"] = raised.value
        for callback in task.on_failure_callback:
            callback(context)
        return raised.value

    def job(self, task_id: str, run_id: str = "scheduled__2026-11-28T00:00:00+00:00") -> dict:
        with self.engine.connect() as conn:
            return dict(conn.execute(sa.select(job_result).where(
                job_result.c.task_id == task_id, job_result.c.run_id == run_id)).mappings().one())


@pytest.fixture
def pipeline(tmp_path, monkeypatch, webhook, mailbox):  # noqa: F811 - fixtures imported above
    db = tmp_path / "w.db"
    monkeypatch.setenv("AIRFLOW_CONN_ACME_WAREHOUSE", json.dumps({"conn_type": "sqlite", "host": str(db)}))
    monkeypatch.setenv("AIRFLOW_CONN_ZOOM_ACME", json.dumps({
        "conn_type": "zoom", "login": "client-id", "password": CLIENT_SECRET, "extra": {"account_id": "acc"}}))
    monkeypatch.setenv("AIRFLOW_CONN_SAM_WEBHOOK",
                       json.dumps({"conn_type": "http", "host": webhook.url + "/hooks/sam"}))
    monkeypatch.setenv("AIRFLOW_CONN_SAM_SMTP", json.dumps({
        "conn_type": "smtp", "host": mailbox.host, "port": mailbox.port,
        "extra": {"from_email": "zoom-sam@example.com", "disable_tls": True, "disable_ssl": True,
                  "timeout": 5, "retry_limit": 0}}))
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example.com/af")
    pipeline = Pipeline(tmp_path, monkeypatch, db)
    yield pipeline
    pipeline.engine.dispose()
