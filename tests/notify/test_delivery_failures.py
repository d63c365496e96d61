"""A receiver that is down, answers 500 or hangs never fails the task nor holds it for long: the
task's job_result says how the sends went and the task log has a warning without secrets."""
from __future__ import annotations

import json
import logging
import socket
import time

from zoom_sam.process import Summary

REPORT = {"candidates": 2, "saving": 299.8, "models": {"zoom_meetings_licensed": 2}, "subject": "Reclaim 2?"}


def _approve(pipeline):
    return pipeline.run("approve", lambda ctx, zoom: Summary(report=REPORT))


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_webhook_that_is_down_fails_no_task(pipeline, monkeypatch, mailbox, caplog):
    secret_path = "/services/T0000/B0000/XXXXsecretXXXX"
    monkeypatch.setenv("AIRFLOW_CONN_SAM_WEBHOOK", json.dumps(
        {"conn_type": "http", "host": f"http://127.0.0.1:{_closed_port()}{secret_path}"}))
    with caplog.at_level(logging.WARNING, logger="zoom_sam.notify"):
        assert _approve(pipeline) == REPORT

    mailbox.next()  # the other target still got its message
    assert pipeline.job("approve")["counts"]["notifications"] == {"sent": 1, "failed": 1}
    warnings = [r.getMessage() for r in caplog.records if r.name.startswith("zoom_sam.notify")]
    assert len(warnings) == 1 and "webhook sam_webhook (approval_waiting): ConnectionError" in warnings[0]
    assert "XXXXsecretXXXX" not in warnings[0]


def test_a_webhook_answering_500_fails_no_task(pipeline, webhook, mailbox):
    webhook.answer = 500
    assert _approve(pipeline) == REPORT
    assert webhook.next()["json"]["event"] == "approval_waiting"
    mailbox.next()
    assert pipeline.job("approve")["counts"]["notifications"] == {"sent": 1, "failed": 1}


def test_a_hanging_webhook_holds_the_task_no_longer_than_the_timeout(pipeline, webhook, mailbox, caplog):
    pipeline.profile(timeout=1)
    webhook.hang = True
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="zoom_sam.notify"):
        assert _approve(pipeline) == REPORT
    assert time.monotonic() - started < 5
    mailbox.next()
    assert pipeline.job("approve")["counts"]["notifications"] == {"sent": 1, "failed": 1}
    assert any("webhook sam_webhook" in r.getMessage() for r in caplog.records)


def test_a_mail_server_that_is_down_fails_no_task_and_a_missing_connection_neither(pipeline, monkeypatch, webhook):
    monkeypatch.setenv("AIRFLOW_CONN_SAM_SMTP", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": _closed_port(),
        "extra": {"from_email": "zoom-sam@example.com", "disable_tls": True, "disable_ssl": True, "retry_limit": 0}}))
    assert _approve(pipeline) == REPORT
    webhook.next()
    assert pipeline.job("approve")["counts"]["notifications"] == {"sent": 1, "failed": 1}

    monkeypatch.delenv("AIRFLOW_CONN_SAM_SMTP")
    monkeypatch.delenv("AIRFLOW_CONN_SAM_WEBHOOK")
    assert _approve(pipeline) == REPORT
    assert pipeline.job("approve")["counts"]["notifications"] == {"sent": 0, "failed": 2}


def test_a_failure_notification_that_cannot_be_sent_leaves_the_task_error_as_it_was(pipeline, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_SAM_SMTP")
    monkeypatch.setenv("AIRFLOW_CONN_SAM_WEBHOOK", json.dumps(
        {"conn_type": "http", "host": f"http://127.0.0.1:{_closed_port()}"}))

    def run(ctx, zoom):
        raise ValueError("the real error")

    raised = pipeline.fail("reconcile", run)
    assert isinstance(raised, ValueError) and str(raised) == "the real error"
    job = pipeline.job("reconcile")
    assert job["status"] == "failed" and job["message"] == "ValueError: the real error"
    assert job["counts"]["notifications"] == {"sent": 0, "failed": 2}
