"""download_subscriptions when Zoom's answers cannot be trusted, on SQLite and PostgreSQL.

A listing that stops short of total_records, a repeated page token and malformed bodies fail the
download before the merge: subscriptions, users' presence and open removal candidates stay as the
last complete snapshot left them, and nothing staged by the failed try reaches a later merge. A
listing that comes up short once and agrees when listed again is merged whole.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest

from test_download import DAY2, STATE_TABLES, run, staged, subs
from tests.support.sandbox import expected_seats
from zoom_sam.warehouse.schema import removal_candidate
from zoom_sam.zoom.errors import ZoomIncompleteListing, ZoomMalformedResponse, ZoomPagingLoop
from zoom_sam.zoom.shapes import problem

DAY3 = DAY2 + timedelta(days=1)
USERS_PATH = r"^/v2/users$"


def state(warehouse) -> dict:
    """What readers see, open removal candidates included."""
    tables = {**STATE_TABLES, "removal_candidate": "candidate_id"}
    return {t: warehouse.rows(t, order, exclude=("updated_at",)) for t, order in tables.items()}


def open_candidates_for_the_last_seats(sandbox, warehouse, n: int = 3) -> list[str]:
    """Ready candidates for the seats of the last active Licensed users: the ones a listing that
    stops after its first page would miss, and whose candidates reconcile would close."""
    seats = [u["id"] for u in sandbox.account().users("active") if u["type"] == 2][-n:]
    now = datetime(2026, 11, 28, tzinfo=timezone.utc)
    with warehouse.engine.begin() as conn:
        conn.execute(removal_candidate.insert(), [
            {"profile_alias": "acme", "user_id": uid, "identifier": "user_type:2", "email": f"{uid}@example.com",
             "software_model": "zoom_meetings_licensed", "state": "ready", "reason": "inactive", "evidence": {},
             "threshold_days": 60, "opened_as_of": now, "evaluated_as_of": now, "created_at": now,
             "updated_at": now} for uid in seats])
    return seats


@pytest.fixture
def merged_once(sandbox, client, warehouse, profile):
    """A first complete snapshot with open candidates, then a real change in Zoom that a merge
    would pick up (so "unchanged" below cannot be a snapshot that merely had nothing to change)."""
    run(client, warehouse, profile)
    seats = open_candidates_for_the_last_seats(sandbox, warehouse)
    sandbox.account().set_user_type(seats[0], 1)
    return state(warehouse)


def test_a_listing_that_stays_short_of_total_records_merges_nothing(
        sandbox, client, warehouse, profile, merged_once, caplog):
    active = sandbox.account().total("active")
    sandbox.faults.add("stop_listing", path=USERS_PATH)  # every pass ends after its first page
    with caplog.at_level(logging.INFO), pytest.raises(ZoomIncompleteListing) as caught:
        run(client, warehouse, profile, run_id="r2", as_of=DAY2)
    message = str(caught.value)
    assert message.startswith("GET /users?status=active: incomplete listing")
    assert f"(50 of {active}; 50 of {active})" in message and "Retry later" in message
    assert state(warehouse) == merged_once
    assert [r["state"] for r in warehouse.rows("removal_candidate", "candidate_id")] == ["ready"] * 3
    assert staged(warehouse) == 0
    assert "listing it again from the first page" in caplog.text
    assert "nothing was merged, the warehouse still holds the last complete snapshot" in caplog.text


def test_a_repeated_page_token_merges_nothing(sandbox, client, warehouse, profile, merged_once):
    sandbox.faults.add("repeat_page_token", path=USERS_PATH)
    before = len(sandbox.log)
    with pytest.raises(ZoomPagingLoop, match=r"^GET /users\?status=active: page loop"):
        run(client, warehouse, profile, run_id="r2", as_of=DAY2)
    pages = [r for r in list(sandbox.log)[before:] if r.path == "/v2/users"]
    assert len(pages) == 2  # page 1, then page 2 handing back its own token: not followed again
    assert state(warehouse) == merged_once
    assert staged(warehouse) == 0


@pytest.mark.parametrize(("path", "shape", "problem"), [
    (USERS_PATH, "null", "the body is null"),
    (USERS_PATH, "empty", "the body is empty"),
    (USERS_PATH, "list", "the body is a list"),
    (USERS_PATH, "strings", "users[0] is a string, not an object"),
    (r"/settings$", "missing", "it has no 'feature' object, so the user's add-ons are unknown"),
    (r"/settings$", "null", "the body is null"),
])
def test_a_malformed_answer_merges_nothing(sandbox, client, warehouse, profile, merged_once, path, shape, problem):
    sandbox.faults.add("malformed", path=path, shape=shape)
    with pytest.raises(ZoomMalformedResponse) as caught:
        run(client, warehouse, profile, run_id="r2", as_of=DAY2)
    assert problem in str(caught.value)
    assert state(warehouse) == merged_once
    assert staged(warehouse) == 0


def test_a_short_listing_while_a_user_is_added_is_listed_again_and_merged_whole(
        sandbox, client, warehouse, profile, merged_once, monkeypatch):
    sandbox.faults.add("stop_listing", path=USERS_PATH, count=1)  # the first pass ends after page 1
    listed = client.list_users

    def adding_a_user_mid_listing(status, **params):
        for n, user in enumerate(listed(status, **params)):
            if status == "active" and n == 10:
                sandbox.account().add_user("newcomer@example.com", type=2, status="active")
            yield user

    monkeypatch.setattr(client, "list_users", adding_a_user_mid_listing)
    summary, job = run(client, warehouse, profile, run_id="r2", as_of=DAY2)

    account = sandbox.account()
    assert job.counts["users_by_status"]["active"] == account.total("active")
    assert all(u["present"] for u in warehouse.rows("zoom_user", "user_id"))
    (new,) = subs(warehouse, email="newcomer@example.com")
    assert new["active"] and str(new["first_seen_at"]).startswith("2026-11-29")
    assert {r["user_id"] for r in subs(warehouse, software_model="zoom_meetings_licensed", active=True)} == \
        expected_seats(sandbox)
    assert summary["gone"] == 1  # the one seat downgraded in Zoom, nothing the short pass missed
    assert state(warehouse)["removal_candidate"] == merged_once["removal_candidate"]


def test_what_a_failed_try_staged_never_reaches_a_later_merge(sandbox, client, warehouse, profile, merged_once):
    account = sandbox.account()
    ghost = account.add_user("ghost@example.com", type=2, status="active")
    # the whole active listing is staged, ghost included, before its settings come back garbled
    sandbox.faults.add("malformed", path=rf"/users/{ghost['id']}/settings$", shape="missing")
    with pytest.raises(ZoomMalformedResponse):
        run(client, warehouse, profile, run_id="r2", as_of=DAY2)
    assert staged(warehouse) == 0
    account.delete_user(ghost["id"])
    sandbox.faults.clear()
    run(client, warehouse, profile, run_id="r3", as_of=DAY3)
    assert not [u for u in warehouse.rows("zoom_user", "user_id") if u["email"] == "ghost@example.com"]
    assert not subs(warehouse, email="ghost@example.com")
    assert {r["user_id"] for r in subs(warehouse, software_model="zoom_meetings_licensed", active=True)} == \
        expected_seats(sandbox)


@pytest.mark.parametrize("field", ["created_at", "last_login_time"])
@pytest.mark.parametrize("value", ["yesterday", "2026-11-20T10:00:00"])
def test_a_user_timestamp_that_cannot_be_read_is_a_malformed_listing(field, value):
    """The warehouse keeps these timestamps: an unreadable or zoneless one refuses the page, never
    lands as an unknown time or a guessed zone."""
    body = {"users": [{"id": "u1", "type": 2, "created_at": "2026-11-20T10:00:00Z", field: value}],
            "total_records": 1}
    assert problem("list_users", body) == f"users[0] has {field} as a string that is not a timestamp with a zone"
    assert problem("list_users", {**body, "users": [{"id": "u1", "type": 2, field: "2026-11-20T10:00:00Z"}]}) is None
