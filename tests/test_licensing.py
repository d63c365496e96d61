"""Licensing semantics on plain Zoom payloads: what is held, what it is called, what is excluded."""
from __future__ import annotations

import pytest

from zoom_sam.licensing import (
    Held,
    can_hold_addons,
    describe_model,
    held_subscriptions,
    identifier_exclusion,
    model_for,
    user_exclusion,
    user_key,
)
from zoom_sam.profiles import UserExclusion

LICENSED = {"id": "u1", "email": "Ann@Example.com", "type": 2, "status": "active", "dept": "Sales",
            "role_id": "2", "group_ids": ["g1", "g2"]}


@pytest.mark.parametrize("user", [
    {"type": 1, "status": "active"},
    {"type": 2, "status": "inactive"},
    {"type": 4, "status": "active"},
    {"type": 99, "status": "pending"},
])
def test_basic_deactivated_and_unlicensed_users_hold_nothing(user):
    assert held_subscriptions(user, {"feature": {"webinar": True, "webinar_capacity": 500}}) == []


def test_a_pending_invitation_with_type_2_holds_the_seat_and_is_keyed_by_email():
    pending = {"email": "New@Example.com", "type": 2, "status": "pending"}
    assert held_subscriptions(pending) == [Held("user_type:2")]
    assert user_key(pending) == "new@example.com"
    assert not can_hold_addons(pending)


def test_addons_come_from_settings_with_their_capacity():
    settings = {"feature": {"webinar": True, "webinar_capacity": 1000, "large_meeting": True,
                            "large_meeting_capacity": 500, "zoom_phone": True, "zoom_events": False,
                            "zoom_whiteboard": True, "meeting_capacity": 300}}
    assert can_hold_addons(LICENSED)
    assert held_subscriptions(LICENSED, settings) == [
        Held("user_type:2"), Held("webinar:1000", 1000), Held("large_meeting:500", 500), Held("zoom_phone")]


def test_an_addon_without_capacity_keeps_a_plain_identifier():
    assert held_subscriptions(LICENSED, {"feature": {"webinar": True}})[1] == Held("webinar")
    assert model_for("webinar", {}) is None


def test_builtin_models_and_profile_mappings():
    assert model_for("user_type:2", {}).key == "zoom_meetings_licensed"
    webinar = model_for("webinar:500", {})
    assert (webinar.key, webinar.capacity, webinar.product, webinar.source) == (
        "zoom_webinar_500", 500, "Zoom Webinars", "builtin")
    assert model_for("large_meeting:1000", {}).key == "zoom_large_meeting_1000"
    assert model_for("zoom_phone", {}) is None
    phone = model_for("zoom_phone", {"zoom_phone": "zoom_phone_pro"})
    assert (phone.key, phone.source, phone.publisher) == ("zoom_phone_pro", "profile", "Zoom")
    assert model_for("zoom_events:500", {"zoom_events:500": "zoom_events_500"}).capacity == 500


def test_entitled_model_keys_are_described_like_found_ones():
    assert describe_model("zoom_webinar_3000", "entitlement").capacity == 3000
    assert describe_model("zoom_meetings_licensed", "entitlement").product == "Zoom Meetings"


@pytest.mark.parametrize("rule, expected", [
    (UserExclusion(email="ann@*"), "email=ann@*"),
    (UserExclusion(user_id="u1"), "user_id=u1"),
    (UserExclusion(dept="Sal*"), "dept=Sal*"),
    (UserExclusion(group_id="g2"), "group_id=g2"),
    (UserExclusion(role_id="2"), "role_id=2"),
    (UserExclusion(email="svc-*@example.com"), None),
    (UserExclusion(group_id="g3"), None),
])
def test_user_exclusion_rules(rule, expected):
    assert user_exclusion(LICENSED, [rule]) == expected


def test_identifier_exclusion_is_an_fnmatch_pattern():
    assert identifier_exclusion("webinar:500", ["large_meeting:*", "webinar:*"]) == "identifier=webinar:*"
    assert identifier_exclusion("user_type:2", ["webinar:*"]) is None


