"""Reclaim writes: downgrades, add-on removal, disassociation, and Zoom's refusals."""
from __future__ import annotations

import pytest


def _licensed_with(sb, feature: str | None = None) -> dict:
    return next(
        u
        for u in sb.account().users("active")
        if u["type"] == 2 and sb.account().refusal(u["id"]) is None and (feature is None or u["settings"]["feature"][feature])
    )


def test_downgrade_to_basic_drops_the_seat_and_its_addons(client, sandbox):
    user = _licensed_with(sandbox, "webinar")
    r = client.patch(f"/users/{user['id']}", {"type": 1})
    assert r.status_code == 204
    assert r.content == b""
    listed = {u["email"]: u for u in client.pages("/users", "users", page_size=300)}
    assert listed[user["email"]]["type"] == 1
    feature = client.get(f"/users/{user['id']}/settings").json()["feature"]
    assert feature["webinar"] is False and "webinar_capacity" not in feature
    assert feature["meeting_capacity"] == 100
    assert client.get(f"/users/{user['id']}/webinars").json()["code"] == 200


def test_removing_an_addon_keeps_the_seat(client, sandbox):
    user = _licensed_with(sandbox, "large_meeting")
    r = client.patch(f"/users/{user['id']}/settings", {"feature": {"large_meeting": False}})
    assert r.status_code == 204
    feature = client.get(f"/users/{user['id']}/settings").json()["feature"]
    assert feature["large_meeting"] is False
    assert sandbox.account().user(user["id"])["type"] == 2


def test_removing_the_webinar_addon_closes_the_webinar_listing(client, sandbox):
    user = _licensed_with(sandbox, "webinar")
    assert client.get(f"/users/{user['id']}/webinars").status_code == 200
    assert client.patch(f"/users/{user['id']}/settings", {"feature": {"webinar": False}}).status_code == 204
    assert client.get(f"/users/{user['id']}/webinars").json()["code"] == 200


def test_other_settings_groups_are_stored(client, sandbox):
    user = _licensed_with(sandbox)
    assert client.patch(f"/users/{user['id']}/settings", {"recording": {"cloud_recording": False}}).status_code == 204
    assert client.get(f"/users/{user['id']}/settings").json()["recording"]["cloud_recording"] is False


@pytest.mark.parametrize(
    ("feature", "code"), [({"webinar": True}, 1122), ({"large_meeting": True}, 1108), ({"zoom_events": True}, 1206)]
)
def test_addons_need_a_licensed_user(client, sandbox, feature, code):
    basic = next(u for u in sandbox.account().users("active") if u["type"] == 1)
    r = client.patch(f"/users/{basic['id']}/settings", {"feature": feature})
    assert r.status_code == 400
    assert r.json()["code"] == code
    assert sandbox.account().user(basic["id"])["settings"]["feature"][next(iter(feature))] is False


def test_webinar_and_zoom_events_exclude_each_other(client, sandbox):
    user = _licensed_with(sandbox, "webinar")
    r = client.patch(f"/users/{user['id']}/settings", {"feature": {"zoom_events": True}})
    assert (r.status_code, r.json()["code"]) == (400, 1205)


@pytest.mark.parametrize("code", [1108, 1109, 2033, 3412, 200, 300])
def test_refusals_fail_every_write_and_change_nothing(client, sandbox, code):
    user = _licensed_with(sandbox, "webinar")
    sandbox.account().set_refusal(user["id"], code)
    for method, path, body in (
        ("PATCH", f"/users/{user['id']}", {"type": 1}),
        ("PATCH", f"/users/{user['id']}/settings", {"feature": {"webinar": False}}),
        ("DELETE", f"/users/{user['id']}", None),
    ):
        r = client.request(method, path, json=body)
        assert r.status_code == 400, (method, path)
        assert r.json()["code"] == code
        assert r.json()["message"]
    after = sandbox.account().user(user["id"])
    assert after["type"] == 2 and after["settings"]["feature"]["webinar"] is True
    sandbox.account().set_refusal(user["id"], None)
    assert client.patch(f"/users/{user['id']}", {"type": 1}).status_code == 204


def test_zoom_rooms_cannot_become_basic(client, sandbox):
    room = next(u for u in sandbox.account().users("active") if u["first_name"] == "Zoom Room")
    r = client.patch(f"/users/{room['id']}", {"type": 1})
    assert r.status_code == 400
    assert r.json() == {"code": 200, "message": f"A Zoom Room user cannot be updated to a free user type: {room['id']}"}


@pytest.mark.parametrize(
    "body", [{"type": 3}, {"type": "1"}, {"type": 1, "plan_united_type": "none"}, [1], "not json"]
)
def test_invalid_user_patches_are_validation_errors(client, sandbox, body):
    user = _licensed_with(sandbox)
    kw = {"data": body} if isinstance(body, str) else {"json": body}
    r = client.request("PATCH", f"/users/{user['id']}", **kw)
    assert r.status_code == 400
    assert r.json()["code"] == 300
    assert sandbox.account().user(user["id"])["type"] == 2


def test_pending_invitation_is_disassociated_by_email(client, sandbox):
    pending = next(u for u in sandbox.account().users("pending") if u["type"] == 2)
    refused = client.delete(f"/users/{pending['email']}", action="delete")
    assert (refused.status_code, refused.json()["code"]) == (400, 300)
    assert client.delete(f"/users/{pending['email']}", action="disassociate").status_code == 204
    listed = client.pages("/users", "users", status="pending", page_size=300)
    assert pending["email"] not in {u["email"] for u in listed}
    assert len(listed) == sandbox.account().total("pending")


def test_delete_defaults_to_disassociate_and_removes_the_user(client, sandbox):
    user = _licensed_with(sandbox)
    assert client.delete(f"/users/{user['id']}").status_code == 204
    assert client.get(f"/users/{user['id']}/settings").status_code == 404
    assert client.delete(f"/users/{user['id']}", action="bogus").status_code == 404


def test_unknown_delete_action_is_a_validation_error(client, sandbox):
    user = _licensed_with(sandbox)
    r = client.delete(f"/users/{user['id']}", action="bogus")
    assert (r.status_code, r.json()["code"]) == (400, 300)
