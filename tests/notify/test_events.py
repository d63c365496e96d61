"""Each event end to end: a task of the real operators' base, the real HTTP and SMTP notifiers,
and what a local webhook and a local SMTP server received."""
from __future__ import annotations

from urllib.parse import quote

from airflow.sdk.exceptions import AirflowFailException

from tests.notify.conftest import CLIENT_SECRET
from zoom_sam.errors import RetryableError
from zoom_sam.process import Summary
from zoom_sam.reclaim.guards import GuardExceeded

RUN_ID = "scheduled__2026-11-28T00:00:00+00:00"
BASE = "https://airflow.example.com/af"


def test_approval_waiting_links_to_the_required_actions_page_and_the_candidates(pipeline, webhook, mailbox):
    report = {"candidates": 3, "saving": 449.7, "models": {"zoom_meetings_licensed": 3},
              "subject": "Reclaim 3 unused Zoom subscription(s) of Acme Corp (acme), saving 449.70 USD per year?",
              "body": "..."}
    pipeline.run("approve", lambda ctx, zoom: Summary(report=report, counts={"candidates": 3}))

    got = webhook.next()
    assert got["path"] == "/hooks/sam" and got["content_type"] == "application/json"
    body = got["json"]
    assert body["event"] == "approval_waiting" and body["profile"] == "acme"
    actions = f"{BASE}/dags/zoom_sam__acme/runs/{quote(RUN_ID, safe='')}/tasks/approve/required_actions?map_index=-1"
    assert body["links"]["Approve or reject"] == actions
    assert body["links"]["Candidates and their evidence"].startswith(f"{BASE}/zoom-sam/profiles/acme/candidates?as_of=")
    assert "saving 449.70 USD per year" in body["text"] and "- zoom_meetings_licensed: 3" in body["text"]
    assert actions in body["text"]

    sender, to, mail = mailbox.next()
    assert (sender, to) == ("zoom-sam@example.com", ["sam-team@example.com", "finance@example.com"])
    assert mail["Subject"].startswith("[zoom-sam acme] Approval waiting: Reclaim 3 unused")
    assert actions.replace("&", "&amp;") in mail.get_body(("html",)).get_content()
    assert pipeline.job("approve")["counts"]["notifications"] == {"sent": 2, "failed": 0}


def test_approval_asking_nobody_tells_nobody(pipeline, webhook, mailbox):
    pipeline.run("approve", lambda ctx, zoom: Summary(report={"not_asked": True, "reason": "dry_run"}))
    pipeline.run("approve", lambda ctx, zoom: Summary(report={"candidates": 0, "saving": 0.0, "models": {}}),
                 run_id="manual__2")
    assert webhook.empty() and mailbox.empty()
    assert "notifications" not in pipeline.job("approve")["counts"]


def test_the_answer_to_an_approval_tells_nobody_that_it_waits(pipeline, webhook, mailbox):
    """The approve task resumes with the answer through the same base: that run is no request."""
    from zoom_sam.reclaim.approval import APPROVAL_ANSWER

    report = {"candidates": 3, "saving": 449.7, "models": {"zoom_meetings_licensed": 3}, "decision": "approved"}
    pipeline.module.run = lambda ctx, zoom: Summary(report=report)
    task = pipeline.task("approve")
    task.run_process(pipeline.context(task), "notify_probe:run", **{APPROVAL_ANSWER: {"chosen_options": ["Approve"]}})
    assert webhook.empty() and mailbox.empty()


def test_reclaim_done_gives_the_outcome_and_the_realised_savings(pipeline, webhook, mailbox):
    report = {"profile_alias": "acme", "as_of": "2026-11-28T00:00:00+00:00", "mode": "automatic", "dry_run": False,
              "selected": 5, "excluded_now": 1, "closed_complete": 3, "closed_skipped": 0, "closed_canceled": 1,
              "attention_required": 0, "open": 0, "writes": 4, "errors": 0, "guard_exceeded": False,
              "savings": {"zoom_meetings_licensed": {"subscriptions": 2, "saving": 299.8, "currency": "USD"},
                          "zoom_webinar_500": {"subscriptions": 1, "saving": 690.0, "currency": "USD"}}}
    pipeline.run("reclaim", lambda ctx, zoom: Summary(report=report))

    body = webhook.next()["json"]
    assert body["event"] == "reclaim_done"
    assert body["title"] == "Reclaim done: 3 subscription(s) reclaimed, saving 989.80 USD per year"
    assert "reclaimed 3 of 5 selected subscription(s)." in body["text"]
    assert "Activity seen, kept: 1" in body["text"] and "excluded now: 1" in body["text"]
    assert "- zoom_webinar_500: 1 subscription(s), 690.00 USD" in body["text"]
    assert body["facts"]["savings"] == report["savings"]
    assert "Realised savings per year: 989.80 USD." in mailbox.next()[2].get_body(("html",)).get_content()


def test_a_dry_run_says_nothing_was_realised_and_an_empty_reclaim_says_nothing(pipeline, webhook):
    report = {"mode": "dry_run", "dry_run": True, "selected": 2, "closed_complete": 2,
              "savings": {"zoom_meetings_licensed": {"subscriptions": 2, "saving": 299.8, "currency": "USD"}}}
    pipeline.run("reclaim", lambda ctx, zoom: Summary(report=report, status="dry_run"))
    text = webhook.next()["json"]["text"]
    assert "DRY RUN, nothing was sent to Zoom" in text
    assert "Realised savings: none (dry run). Per year if reclaimed: 299.80 USD." in text

    pipeline.run("reclaim", lambda ctx, zoom: Summary(report={**report, "selected": 0, "closed_complete": 0,
                                                               "savings": {}}), run_id="manual__2")
    pipeline.run("reclaim", lambda ctx, zoom: Summary(status="disabled", message="reclaim is off"), run_id="manual__3")
    assert webhook.empty()


def _download(unrecognized: dict[str, int]):
    def run(ctx, zoom):
        ctx.job.counts["unrecognized"] = unrecognized
        return Summary(report={"unrecognized_identifiers": len(unrecognized)})
    return run


def test_unrecognized_identifiers_are_told_when_they_appear_with_their_counts(pipeline, webhook):
    pipeline.run("download_subscriptions", _download({"zoom_phone": 4}), run_id="scheduled__1")
    first = webhook.next()["json"]
    assert first["event"] == "unrecognized_identifiers" and first["facts"]["new"] == {"zoom_phone": 4}
    assert "(the profile's first snapshot)" in first["text"] and "- zoom_phone: 4 subscription(s)" in first["text"]
    assert first["links"] == {"Profile and its unrecognized identifiers": f"{BASE}/zoom-sam/profiles/acme"}

    pipeline.run("download_subscriptions", _download({"zoom_phone": 5}), run_id="scheduled__2")
    assert webhook.empty()  # nothing new: the same identifier, more holders
    assert "notifications" not in pipeline.job("download_subscriptions", "scheduled__2")["counts"]

    pipeline.run("download_subscriptions", _download({"zoom_phone": 5, "zoom_events:500": 2, "zoom_clips_plus": 1}),
                 run_id="scheduled__3")
    third = webhook.next()["json"]
    assert third["facts"]["new"] == {"zoom_clips_plus": 1, "zoom_events:500": 2}
    assert "since the previous snapshot" in third["text"] and "zoom_phone" not in third["text"]
    assert third["title"] == "2 unrecognized Zoom subscription identifier(s) appeared"


def test_a_failed_task_tells_its_class_and_message_once_it_failed_for_good(pipeline, webhook, mailbox):
    def run(ctx, zoom):
        raise RetryableError("Zoom answered 503 to GET /users after the retries allowed")

    pipeline.fail("download_subscriptions", run)
    body = webhook.next()["json"]
    assert body["event"] == "process_failed"
    assert body["title"] == "download_subscriptions failed: RetryableError"
    assert body["facts"]["error"] == "Zoom answered 503 to GET /users after the retries allowed"
    run = quote(RUN_ID, safe="")
    assert body["links"]["Task log"] == f"{BASE}/dags/zoom_sam__acme/runs/{run}/tasks/download_subscriptions"
    assert "download_subscriptions failed: RetryableError" in mailbox.next()[2]["Subject"]
    assert pipeline.job("download_subscriptions")["counts"]["notifications"] == {"sent": 2, "failed": 0}


def test_a_guard_stop_is_told_as_such_with_the_fix_also_to_targets_of_failures(pipeline, webhook, mailbox):
    message = ("This run would reclaim 30 subscription(s) of 30 user(s) (zoom_meetings_licensed: 30 of 40 assigned "
               "(75%)). That is more than reclaim.max_per_run = 25 users. Nothing was reclaimed and every candidate "
               "stays open. If this is intended, raise reclaim.max_per_run to at least 30")

    def run(ctx, zoom):
        raise GuardExceeded(message)

    raised = pipeline.fail("reclaim", run)
    assert isinstance(raised, AirflowFailException)  # what Airflow sees; the guard is behind it
    body = webhook.next()["json"]
    assert body["event"] == "guard_stopped" and body["facts"]["error_class"] == "GuardExceeded"
    assert body["title"] == "A guard stopped a mass reclaim: nothing was reclaimed"
    assert message in body["text"]
    # the e-mail target takes process_failed but not guard_stopped: it hears of the stop all the same
    assert mailbox.next()[2]["Subject"] == "[zoom-sam acme] A guard stopped a mass reclaim: nothing was reclaimed"


def test_a_secret_planted_in_an_error_never_leaves(pipeline, webhook, mailbox):
    def run(ctx, zoom):
        raise RuntimeError(f"token request refused: client_id=client-id client_secret={CLIENT_SECRET}; retried "
                           f"with the secret {CLIENT_SECRET} against postgresql://sam:pg-pass-123@db:5432/w "
                           "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig")

    pipeline.fail("validate_profile", run)
    raw = str(webhook.next()["json"])
    mail = mailbox.next()[2].as_string()
    for sent in (raw, mail):
        assert CLIENT_SECRET not in sent and "pg-pass-123" not in sent and "eyJhbGciOiJIUzI1NiJ9" not in sent
    assert "client_secret=***" in raw and "postgresql://sam:***@db:5432/w" in raw and "RuntimeError" in raw


def test_each_target_gets_only_the_events_it_names(pipeline, webhook, mailbox):
    pipeline.profile(email_events="[guard_stopped]")
    pipeline.run("download_subscriptions", _download({"zoom_phone": 1}))
    assert webhook.next()["json"]["event"] == "unrecognized_identifiers"
    assert mailbox.empty()
    assert pipeline.job("download_subscriptions")["counts"]["notifications"] == {"sent": 1, "failed": 0}


def test_without_a_base_url_the_links_are_paths_and_the_message_says_so(pipeline, monkeypatch, webhook):
    monkeypatch.delenv("AIRFLOW__API__BASE_URL")
    pipeline.run("approve", lambda ctx, zoom: Summary(report={"candidates": 1, "saving": 149.9, "models": {}}))
    body = webhook.next()["json"]
    assert body["links"]["Approve or reject"].startswith("/dags/zoom_sam__acme/runs/")
    assert "set [api] base_url in the Airflow configuration for full addresses" in body["text"]
