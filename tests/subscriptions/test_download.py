"""download_subscriptions against the sandbox, on SQLite and PostgreSQL: what lands, and what a
failure or a retry leaves behind."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from zoom_sam.process import GivenZoom, context_for
from tests.support.sandbox import ANCHOR, expected_seats
from zoom_sam.subscriptions import merge as merge_module
from zoom_sam.subscriptions import process as download_process
from zoom_sam.subscriptions.staging import StageWriter
from zoom_sam.zoom.errors import ZoomError

DAY2 = ANCHOR + timedelta(days=1)
STATE_TABLES = {  # table -> stable order; the tables a reader sees (staging and job_result apart)
    "zoom_user": "user_id",
    "software_model": "software_model",
    "subscription_identifier": "identifier",
    "software_subscription": "user_id, identifier",
    "unrecognized_subscription_identifier": "identifier",
    "entitlement": "software_model",
    "reclamation_rule": "rule_index",
    "exclusion_rule": "rule_index",
}


def run(client, warehouse, profile, run_id="r1", as_of=ANCHOR, batch_size=40):
    ctx = context_for(warehouse.engine, profile, as_of, run_id=run_id)
    summary = download_process.run(ctx, GivenZoom(client), batch_size=batch_size)
    return summary.report, ctx.job


def state(warehouse) -> dict:
    return {t: warehouse.rows(t, order, exclude=("updated_at",)) for t, order in STATE_TABLES.items()}


def staged(warehouse) -> int:
    return sum(len(warehouse.rows(t, "user_id")) for t in ("stage_zoom_user", "stage_subscription"))


def subs(warehouse, **where) -> list[dict]:
    return [r for r in warehouse.rows("software_subscription", "user_id, identifier")
            if all(r[k] == v for k, v in where.items())]


def test_snapshot_lands_every_status_models_addons_and_exclusions(sandbox, client, warehouse, profile):
    sandbox.account().add_user("svc-recorder@example.com", type=2, status="active")
    summary, job = run(client, warehouse, profile)
    users = list(sandbox.account().users())
    assert summary["users"] == len(users)
    assert Counter(r["status"] for r in warehouse.rows("zoom_user", "user_id")) == Counter(u["status"] for u in users)

    seats = subs(warehouse, software_model="zoom_meetings_licensed")
    assert {r["user_id"] for r in seats} == expected_seats(sandbox)
    assert any(r["user_status"] == "pending" and "@" in r["user_id"] for r in seats)

    webinars = Counter(u["settings"]["feature"]["webinar_capacity"] for u in users
                       if u["status"] == "active" and u["type"] == 2 and u["settings"]["feature"].get("webinar"))
    landed = Counter(r["capacity"] for r in warehouse.rows("software_subscription", "user_id")
                     if r["identifier"].startswith("webinar:"))
    assert landed == webinars and webinars

    phones = sum(1 for u in users if u["status"] == "active" and u["type"] == 2
                 and u["settings"]["feature"].get("zoom_phone"))
    unrecognized = {r["identifier"]: r["subscription_count"]
                    for r in warehouse.rows("unrecognized_subscription_identifier", "identifier")}
    assert unrecognized["zoom_phone"] == phones > 0
    assert not [r for r in warehouse.rows("software_subscription", "user_id") if r["identifier"] == "zoom_phone"]

    for row in warehouse.rows("software_subscription", "user_id"):
        if row["email"].startswith("svc-"):
            assert row["excluded"] and row["exclusion_rule"] == "email=svc-*@example.com"
        elif row["identifier"] == "large_meeting:1000":
            assert row["excluded"] and row["exclusion_rule"] == "identifier=large_meeting:1000"
        else:
            assert not row["excluded"] and row["exclusion_rule"] is None
    assert any(r["email"].startswith("svc-") for r in seats)

    rules = {r["software_model_pattern"]: (r["last_activity_threshold_days"], r["source"])
             for r in warehouse.rows("reclamation_rule", "rule_index")}
    assert rules["zoom_webinar_*"] == (90, "profile")
    assert rules["zoom_meetings_licensed"] == (60, "default")
    assert [r["software_model"] for r in warehouse.rows("entitlement", "software_model")] == ["zoom_meetings_licensed"]
    assert job.counts["subscriptions_new"] == len(subs(warehouse)) == summary["subscriptions_active"]
    assert job.counts["users_by_status"] == dict(Counter(u["status"] for u in users))
    assert job.api["calls"]["Medium"] > 0 and job.api["token_requests"] == 1
    assert staged(warehouse) == 0


def test_downgrade_deletion_and_new_seat_between_runs(sandbox, client, warehouse, profile):
    run(client, warehouse, profile)
    account = sandbox.account()
    downgraded = next(u for u in account.users("active")
                      if u["type"] == 2 and u["settings"]["feature"].get("webinar") and not u["email"].startswith("svc-"))
    deleted = next(u for u in account.users("active") if u["type"] == 2 and u["id"] != downgraded["id"])
    account.set_user_type(downgraded["id"], 1)
    account.delete_user(deleted["id"])
    account.add_user("newcomer@example.com", type=2, status="active")

    summary, job = run(client, warehouse, profile, run_id="r2", as_of=DAY2)

    ended = subs(warehouse, user_id=downgraded["id"])
    assert {r["identifier"].split(":")[0] for r in ended} == {"user_type", "webinar"}
    assert all(not r["active"] and str(r["ended_at"]).startswith("2026-11-29") for r in ended)
    assert all(not r["active"] for r in subs(warehouse, user_id=deleted["id"]))
    gone_user = [u for u in warehouse.rows("zoom_user", "user_id") if u["user_id"] == deleted["id"]]
    assert [u["present"] for u in gone_user] == [False]
    (new,) = [r for r in subs(warehouse, email="newcomer@example.com")]
    assert new["active"] and str(new["first_seen_at"]).startswith("2026-11-29")
    assert summary["gone"] == len(ended) + len(subs(warehouse, user_id=deleted["id"]))
    assert summary["new"] == 1 == job.counts["subscriptions_new"]
    assert {r["user_id"] for r in subs(warehouse, software_model="zoom_meetings_licensed", active=True)} == \
        expected_seats(sandbox)


def test_rerun_of_the_same_interval_changes_nothing(client, warehouse, profile):
    run(client, warehouse, profile)
    first = state(warehouse)
    summary, _ = run(client, warehouse, profile, run_id="r1-again")
    assert state(warehouse) == first
    assert (summary["new"], summary["gone"]) == (0, 0)


def test_unrecognized_identifier_is_modelled_once_the_profile_maps_it(client, warehouse, profile):
    run(client, warehouse, profile)
    phones = {r["identifier"]: r["subscription_count"]
              for r in warehouse.rows("unrecognized_subscription_identifier", "identifier")}["zoom_phone"]
    mapped = profile.model_copy(update={"identifier_models": {"zoom_phone": "zoom_phone"}})
    run(client, warehouse, mapped, run_id="r2", as_of=DAY2)
    modelled = subs(warehouse, identifier="zoom_phone", active=True)
    assert len(modelled) == phones and {r["software_model"] for r in modelled} == {"zoom_phone"}
    counts = {r["identifier"]: r["subscription_count"]
              for r in warehouse.rows("unrecognized_subscription_identifier", "identifier")}
    assert counts["zoom_phone"] == 0
    model = [m for m in warehouse.rows("software_model", "software_model") if m["software_model"] == "zoom_phone"]
    assert [(m["product"], m["source"]) for m in model] == [("Zoom Phone", "profile")]
    rules = {r["software_model_pattern"]: r["source"] for r in warehouse.rows("reclamation_rule", "rule_index")}
    assert rules["zoom_phone"] == "default"


def test_a_try_killed_after_some_batches_leaves_the_snapshot_and_its_retry_duplicates_nothing(
        sandbox, client, warehouse, profile, monkeypatch):
    run(client, warehouse, profile)
    before = state(warehouse)
    downgraded = next(u["id"] for u in sandbox.account().users("active") if u["type"] == 2)
    sandbox.account().set_user_type(downgraded, 1)
    flushes = {"n": 0}
    original = StageWriter._flush_subscriptions

    def dies_on_the_third_batch(self):
        flushes["n"] += 1
        if flushes["n"] == 3:
            raise KeyboardInterrupt("worker killed")
        original(self)

    monkeypatch.setattr(StageWriter, "_flush_subscriptions", dies_on_the_third_batch)
    with pytest.raises(KeyboardInterrupt):
        run(client, warehouse, profile, run_id="r2", as_of=DAY2, batch_size=20)
    assert staged(warehouse) > 0  # the killed try left staging behind ...
    assert state(warehouse) == before  # ... and nothing a reader sees changed

    monkeypatch.setattr(StageWriter, "_flush_subscriptions", original)
    run(client, warehouse, profile, run_id="r2", as_of=DAY2, batch_size=20)  # the retry: same run
    assert staged(warehouse) == 0
    after = state(warehouse)
    keys = [(r["user_id"], r["identifier"]) for r in after["software_subscription"]]
    assert len(keys) == len(set(keys)) == len(before["software_subscription"])
    assert [r["user_id"] for r in after["zoom_user"]] == [r["user_id"] for r in before["zoom_user"]]
    assert not any(r["active"] for r in subs(warehouse, user_id=downgraded))
    assert {r["user_id"] for r in subs(warehouse, software_model="zoom_meetings_licensed", active=True)} == \
        expected_seats(sandbox)


def test_a_failure_inside_the_merge_rolls_the_whole_snapshot_back(sandbox, client, warehouse, profile, monkeypatch):
    run(client, warehouse, profile)
    before = state(warehouse)
    sandbox.account().set_user_type(next(u["id"] for u in sandbox.account().users("active") if u["type"] == 2), 1)

    def broken(*args, **kwargs):
        raise RuntimeError("connection lost in the middle of the merge")

    monkeypatch.setattr(merge_module, "replace_profile_tables", broken)  # runs after users and subscriptions
    with pytest.raises(RuntimeError):
        run(client, warehouse, profile, run_id="r2", as_of=DAY2)
    assert state(warehouse) == before


def test_zoom_failing_mid_listing_fails_before_anything_is_merged(sandbox, client, warehouse, profile):
    run(client, warehouse, profile)
    before = state(warehouse)
    sandbox.faults.add("status", path=r"/settings$", status=503)
    ctx = context_for(warehouse.engine, profile, DAY2, run_id="r2")
    with pytest.raises(ZoomError):
        download_process.run(ctx, GivenZoom(client))
    job = ctx.job
    assert state(warehouse) == before
    assert job.api["errors"] >= 1 and job.counts["users_by_status"]["active"] > 0


def test_profiles_sharing_a_warehouse_never_touch_each_others_rows(sandbox, client, warehouse, profile):
    other = profile.model_copy(update={"alias": "globex", "exclusions": profile.exclusions.model_copy(
        update={"users": []})})
    run(client, warehouse, profile)
    run(client, warehouse, other, run_id="g1")

    def rows_of(alias):
        return {t: [r for r in rows if r["profile_alias"] == alias] for t, rows in state(warehouse).items()}

    globex = rows_of("globex")
    user = next(u["id"] for u in sandbox.account().users("active") if u["type"] == 2)
    sandbox.account().set_user_type(user, 1)
    run(client, warehouse, profile, run_id="r2", as_of=DAY2)
    assert rows_of("globex") == globex  # acme's run ended acme's subscription only
    assert not any(r["active"] for r in subs(warehouse, user_id=user, profile_alias="acme"))
    assert all(r["active"] for r in subs(warehouse, user_id=user, profile_alias="globex"))
    assert [r["kind"] for r in rows_of("globex")["exclusion_rule"]] == ["identifier"]
    assert [r["kind"] for r in rows_of("acme")["exclusion_rule"]] == ["user", "identifier"]
