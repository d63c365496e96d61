"""Hosting activity: meetings and webinars listings, and the host report that must agree with them."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from zoom_sandbox import AccountConfig

from tests.zoom_sandbox.sandbox_client import ALL_SCOPES, ANCHOR, UNLIMITED, Client, config

WINDOW = ("2026-10-29", "2026-11-27")  # the 30 days before the anchor, both ends inclusive


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _licensed(sb, webinar: bool | None = None):
    for u in sb.account().users("active"):
        if u["type"] == 2 and (webinar is None or u["settings"]["feature"]["webinar"] == webinar):
            yield u


def test_previous_meetings_are_the_hosted_instances_started_in_the_window(open_client, open_sandbox):
    acct = open_sandbox.account()
    checked = 0
    for u in list(_licensed(open_sandbox))[:40]:
        listed = open_client.pages(
            f"/users/{u['id']}/meetings", "meetings", type="previous_meetings", **{"from": WINDOW[0], "to": WINDOW[1]}
        )
        expected = acct.hosted_uuids(u["id"], _utc(WINDOW[0] + "T00:00:00Z"), _utc(WINDOW[1] + "T00:00:00Z") + timedelta(days=1), kind="meetings")
        assert {m["uuid"] for m in listed} == expected
        assert len(listed) == len(expected)  # no instance listed twice
        assert all(WINDOW[0] <= m["start_time"][:10] <= WINDOW[1] and m["host_id"] == u["id"] for m in listed)
        checked += bool(listed)
    assert checked > 10


def test_window_dates_are_inclusive_utc_days(open_client, open_sandbox):
    uid = next(_licensed(open_sandbox))["id"]
    added = open_sandbox.account().add_meeting(uid, datetime(2026, 11, 10, 23, 59, tzinfo=timezone.utc))

    def listed(first, last):
        r = open_client.get(f"/users/{uid}/meetings", type="previous_meetings", page_size=300, **{"from": first, "to": last})
        return added["uuid"] in {m["uuid"] for m in r.json()["meetings"]}

    assert listed("2026-11-10", "2026-11-10")
    assert listed("2026-11-01", "2026-11-10")
    assert not listed("2026-11-11", "2026-11-20")
    assert not listed("2026-11-01", "2026-11-09")


def test_upcoming_and_previous_split_at_the_sandbox_now(open_sandbox):
    uid = next(_licensed(open_sandbox))["id"]
    added = open_sandbox.account().add_meeting(uid, ANCHOR + timedelta(hours=2), duration=30)

    def uuids(kind):  # a new token each time: the clock jumps past the old one's expiry
        return {m["uuid"] for m in Client(open_sandbox).pages(f"/users/{uid}/meetings", "meetings", type=kind)}

    assert added["uuid"] in uuids("upcoming") and added["uuid"] in uuids("scheduled")
    assert added["uuid"] not in uuids("previous_meetings")
    open_sandbox.clock.advance(2 * 3600 + 60)
    assert added["uuid"] in uuids("live")
    open_sandbox.clock.advance(30 * 60)
    assert added["uuid"] in uuids("previous_meetings")
    assert added["uuid"] not in uuids("upcoming")


def test_meetings_listing_pages(open_client, open_sandbox):
    acct = open_sandbox.account()
    busy = max(_licensed(open_sandbox), key=lambda u: len(acct.instances(u["id"], kind="meetings")))
    everything = open_client.pages(f"/users/{busy['id']}/meetings", "meetings", type="scheduled", page_size=7)
    assert len(everything) > 30
    assert [m["uuid"] for m in everything] == [i["uuid"] for i in acct.instances(busy["id"], kind="meetings")]
    first = open_client.get(f"/users/{busy['id']}/meetings", type="scheduled", page_size=7).json()
    assert first["total_records"] == len(everything) and first["page_count"] == -(-len(everything) // 7)


def test_invalid_meeting_listing_parameters(open_client, open_sandbox):
    uid = next(_licensed(open_sandbox))["id"]
    for params in ({"type": "past"}, {"type": "previous_meetings", "from": "28/11/2026"}):
        r = open_client.get(f"/users/{uid}/meetings", **params)
        assert r.status_code == 400 and r.json()["code"] == 300


def test_webinars_need_the_webinar_addon(open_client, open_sandbox):
    uid = next(_licensed(open_sandbox, webinar=False))["id"]
    r = open_client.get(f"/users/{uid}/webinars")
    assert r.status_code == 400
    assert r.json()["code"] == 200
    assert r.json()["message"].startswith("Webinar plan is missing")


def test_webinar_listing_includes_past_webinars_of_holders(open_client, open_sandbox):
    acct = open_sandbox.account()
    holder = next(u for u in _licensed(open_sandbox, webinar=True) if acct.last_hosted(u["id"], kind="webinars"))
    webinars = open_client.pages(f"/users/{holder['id']}/webinars", "webinars", page_size=300)
    assert webinars and all(w["type"] in (5, 6, 9) for w in webinars)
    assert [w["uuid"] for w in webinars] == [i["uuid"] for i in acct.instances(holder["id"], kind="webinars")]
    upcoming = open_client.pages(f"/users/{holder['id']}/webinars", "webinars", type="upcoming")
    assert all(w["start_time"] > ANCHOR.strftime("%Y-%m-%dT%H:%M:%SZ") for w in upcoming)


def test_ignore_window_fault_returns_meetings_outside_the_window(open_client, open_sandbox):
    acct = open_sandbox.account()
    uid = next(u["id"] for u in _licensed(open_sandbox) if len(acct.instances(u["id"], kind="meetings")) > 20)
    params = {"type": "previous_meetings", "from": "2026-11-20", "to": "2026-11-21", "page_size": 300}
    honest = open_client.get(f"/users/{uid}/meetings", **params).json()["meetings"]
    open_sandbox.faults.add("ignore_window", count=1)
    sloppy = open_client.get(f"/users/{uid}/meetings", **params).json()["meetings"]
    assert len(sloppy) > len(honest)
    assert any(not "2026-11-20" <= m["start_time"][:10] <= "2026-11-21" for m in sloppy)


@pytest.fixture
def report_sandbox(make_sandbox):
    return make_sandbox(config([AccountConfig(users=200, scopes=ALL_SCOPES, rate_limits=UNLIMITED)]))


def test_host_report_agrees_with_the_listings(report_sandbox):
    client = Client(report_sandbox)
    window = {"from": WINDOW[0], "to": WINDOW[1]}
    active = client.pages("/report/users", "users", type="active", page_size=50, **window)
    inactive = client.pages("/report/users", "users", type="inactive", page_size=50, **window)
    assert active and inactive
    assert {u["id"] for u in active}.isdisjoint(u["id"] for u in inactive)
    for row in active + inactive:
        meetings = client.pages(f"/users/{row['id']}/meetings", "meetings", type="previous_meetings", **window)
        r = client.get(f"/users/{row['id']}/webinars", page_size=300)
        webinars = [w for w in r.json().get("webinars", []) if WINDOW[0] <= w["start_time"][:10] <= WINDOW[1]]
        assert row["meetings"] == len(meetings) + len(webinars), row
        assert row["meeting_minutes"] == sum(m["duration"] for m in meetings + webinars), row
    assert all(row["meetings"] > 0 for row in active)
    everyone_active = {u["id"] for u in report_sandbox.account().users("active")}
    assert {u["id"] for u in inactive} == everyone_active - {u["id"] for u in active}


def test_host_report_totals_and_fields(report_sandbox):
    body = Client(report_sandbox).get("/report/users", type="active", page_size=300, **{"from": WINDOW[0], "to": WINDOW[1]}).json()
    assert (body["from"], body["to"]) == WINDOW
    assert body["total_meetings"] == sum(u["meetings"] for u in body["users"])
    assert body["total_meeting_minutes"] == sum(u["meeting_minutes"] for u in body["users"])
    assert set(body["users"][0]) == {"id", "email", "user_name", "dept", "type", "meetings", "meeting_minutes", "participants"}


def test_host_report_follows_writes(report_sandbox):
    client = Client(report_sandbox)
    window = {"from": WINDOW[0], "to": WINDOW[1]}
    idle = client.get("/report/users", type="inactive", page_size=300, **window).json()["users"][0]
    report_sandbox.account().add_meeting(idle["id"], datetime(2026, 11, 15, 10, tzinfo=timezone.utc), duration=45)
    active = {u["id"]: u for u in client.pages("/report/users", "users", type="active", page_size=300, **window)}
    assert active[idle["id"]]["meetings"] == 1
    assert active[idle["id"]]["meeting_minutes"] == 45


def test_host_report_counts_a_meeting_once_it_is_over(report_sandbox):
    window = {"from": WINDOW[0], "to": WINDOW[1]}
    idle = Client(report_sandbox).get("/report/users", type="inactive", page_size=300, **window).json()["users"][0]
    report_sandbox.account().add_meeting(idle["id"], ANCHOR - timedelta(minutes=10), duration=30)  # running now

    def hosts():  # a new token each time: the clock moves
        return {u["id"] for u in Client(report_sandbox).pages("/report/users", "users", type="active", page_size=300, **window)}

    assert idle["id"] not in hosts()
    report_sandbox.clock.advance(21 * 60)
    assert idle["id"] in hosts()


@pytest.mark.parametrize(
    "window",
    [
        {"from": "2026-10-01", "to": "2026-11-27"},  # longer than a month
        {"from": "2026-04-01", "to": "2026-04-30"},  # older than six months
        {"from": "2026-11-20", "to": "2026-11-10"},  # backwards
        {"to": "2026-11-27"},  # from is required
    ],
)
def test_host_report_window_rules(report_sandbox, window):
    r = Client(report_sandbox).get("/report/users", type="active", **window)
    assert r.status_code == 400
    assert r.json()["code"] == 300
