"""What a long-running account needs from the sandbox: users changing status, meeting dates read
in the user's timezone as Zoom reads them, and the request log keeping what each write sent."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from zoom_sandbox import AccountConfig

from tests.zoom_sandbox.sandbox_client import ALL_SCOPES, ANCHOR, UNLIMITED, Client, config


@pytest.fixture
def empty(make_sandbox):
    """An account with no generated users, every scope, no practical rate limit."""
    return make_sandbox(config([AccountConfig(users=0, scopes=ALL_SCOPES, rate_limits=UNLIMITED)]))


def _listed(sb, status: str) -> dict[str, dict]:
    return {u["email"]: u for u in Client(sb).pages("/users", "users", status=status, page_size=300)}


def test_an_accepted_invitation_becomes_an_active_user_with_an_id(empty):
    account = empty.account()
    account.add_user("early@example.com", status="active")
    account.add_user("invited@example.com", type=2, status="pending")
    account.add_user("late@example.com", status="active")
    assert "id" not in _listed(empty, "pending")["invited@example.com"]

    account.set_status("invited@example.com", "active")

    active = _listed(empty, "active")
    assert list(active) == ["early@example.com", "invited@example.com", "late@example.com"]
    user = active["invited@example.com"]
    assert user["type"] == 2 and user["status"] == "active"
    assert _listed(empty, "pending") == {}
    assert Client(empty).get(f"/users/{user['id']}").json()["email"] == "invited@example.com"


def test_deactivation_removes_every_licence_and_reactivation_gives_none_back(empty):
    account = empty.account()
    uid = account.add_user("leaver@example.com", features={"webinar": True, "large_meeting": True})["id"]

    account.set_status(uid, "inactive")
    user = _listed(empty, "inactive")["leaver@example.com"]
    assert user["type"] == 1
    feature = account.user(uid)["settings"]["feature"]
    assert not feature["webinar"] and not feature["large_meeting"]
    assert "leaver@example.com" not in _listed(empty, "active")

    account.set_status(uid, "active")
    assert _listed(empty, "active")["leaver@example.com"]["type"] == 1
    with pytest.raises(ValueError):
        account.set_status(uid, "pending")


def test_the_request_log_keeps_the_body_of_api_writes_only(empty):
    uid = empty.account().add_user("holder@example.com", features={"webinar": True})["id"]
    client = Client(empty)
    client.get(f"/users/{uid}/settings")
    client.patch(f"/users/{uid}/settings", {"feature": {"webinar": False}})
    client.patch(f"/users/{uid}", {"type": 1})
    bodies = [(r.method, r.path, r.body) for r in empty.log if r.path.startswith("/v2/")]
    assert [(m, p, json.loads(b) if b else None) for m, p, b in bodies] == [
        ("GET", f"/v2/users/{uid}/settings", None),
        ("PATCH", f"/v2/users/{uid}/settings", {"feature": {"webinar": False}}),
        ("PATCH", f"/v2/users/{uid}", {"type": 1}),
    ]
    assert all(r.body == b"" for r in empty.log if r.path == "/oauth/token")


@pytest.mark.parametrize("zoned", [False, True])
def test_meeting_dates_are_read_in_the_users_timezone_when_the_account_says_so(make_sandbox, zoned):
    sb = make_sandbox(config([AccountConfig(users=0, scopes=ALL_SCOPES, rate_limits=UNLIMITED,
                                            dates_in_user_timezone=zoned)]))
    account = sb.account()
    uid = account.add_user("west@example.com", timezone="Pacific/Honolulu")["id"]
    # 00:30 UTC on the anchor day is 14:30 the day before in Honolulu (UTC-10).
    meeting = account.add_meeting(uid, ANCHOR + timedelta(minutes=30), duration=20)
    sb.clock.advance(3600)

    def listed(**params) -> bool:
        found = Client(sb).pages(f"/users/{uid}/meetings", "meetings", type="previous_meetings", **params)
        return meeting["uuid"] in {m["uuid"] for m in found}

    anchor_day, day_before = ANCHOR.date().isoformat(), (ANCHOR - timedelta(days=1)).date().isoformat()
    assert listed(**{"from": anchor_day}) is not zoned
    assert listed(**{"from": day_before, "to": day_before}) is zoned
    assert listed(**{"from": anchor_day, "timezone": "UTC"}) is True
    if zoned:
        assert Client(sb).get(f"/users/{uid}/meetings", type="previous_meetings",
                              **{"from": anchor_day, "timezone": "Mars/Olympus"}).json()["code"] == 300
