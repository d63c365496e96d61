"""What counts as a usable answer of each read endpoint, and how a bad one is described."""
from __future__ import annotations

import pickle

import pytest

from zoom_sam.zoom.errors import (
    ZoomError,
    ZoomIncompleteListing,
    ZoomMalformedResponse,
    ZoomPagingLoop,
    ZoomUnusableAnswer,
)
from zoom_sam.zoom.shapes import problem, token_problem

USER = {"id": "u1", "email": "a@example.com", "type": 2, "status": "active"}
PAGE = {"users": [USER], "total_records": 1, "next_page_token": "", "page_size": 300}


@pytest.mark.parametrize(
    ("endpoint", "body", "params"),
    [
        ("list_users", PAGE, None),
        ("list_users", {**PAGE, "users": [{"email": "p@example.com", "type": 2}]}, None),  # pending: no id
        ("list_users", {"users": [], "total_records": 0}, None),  # no next_page_token: the end
        ("get_user", USER, None),
        ("get_user_settings", {"feature": {}}, None),  # no add-ons, said explicitly
        ("get_user_settings", {"authentication_options": {}}, {"option": "meeting_authentication"}),
        ("list_meetings", {"meetings": [{"uuid": "m==", "id": 5}], "next_page_token": ""}, None),
        ("list_webinars", {"webinars": [], "total_records": 0}, None),
        ("report_users", {"users": [{"id": "u1", "meetings": 3}], "total_records": 1}, None),
        ("unknown", None, None),  # nothing promised, nothing checked
    ],
)
def test_usable_answers(endpoint, body, params):
    assert problem(endpoint, body, params) is None


@pytest.mark.parametrize(
    ("endpoint", "body", "expected"),
    [
        ("list_users", None, "the body is null, not a JSON object"),
        ("list_users", [PAGE], "the body is a list, not a JSON object"),
        ("list_users", "users", "the body is a string, not a JSON object"),
        ("list_users", {"total_records": 1}, "it has no 'users' list"),
        ("list_users", {**PAGE, "users": {"u1": USER}}, "'users' is an object, not a list"),
        ("list_users", {**PAGE, "users": ["a@example.com"]}, "users[0] is a string, not an object"),
        ("list_users", {**PAGE, "users": [USER, {"type": 2}]}, "users[1] has no id and no email"),
        ("list_users", {**PAGE, "users": [{"id": ["u1"], "type": 2}]}, "users[0] has no id and no email"),
        ("list_users", {**PAGE, "users": [{"id": "u1"}]}, "users[0] has type null, not a user type number"),
        ("list_users", {**PAGE, "users": [{"id": "u1", "type": "2"}]}, "users[0] has type a string"),
        ("list_users", {"users": [USER]}, "it has no total_records, so the listing cannot be checked"),
        ("list_users", {**PAGE, "total_records": -1}, "total_records is a number, not a count"),
        ("list_users", {**PAGE, "total_records": True}, "total_records is a boolean, not a count"),
        ("list_users", {**PAGE, "next_page_token": 7}, "next_page_token is a number, not a string"),
        ("get_user", {}, "the user has no id and no email"),
        ("get_user_settings", None, "the body is null"),
        ("get_user_settings", {}, "it has no 'feature' object, so the user's add-ons are unknown"),
        ("get_user_settings", {"recording": {}}, "it has no 'feature' object"),
        ("get_user_settings", {"feature": None}, "it has no 'feature' object"),
        ("get_user_settings", {"feature": []}, "it has 'feature' as a list"),
        ("list_meetings", {"meetings": [{"topic": "x"}]}, "meetings[0] has no uuid and no id"),
        ("list_webinars", {"webinars": None}, "it has no 'webinars' list"),
        ("report_users", {"users": [1]}, "users[0] is a number, not an object"),
    ],
)
def test_malformed_answers_say_what_is_wrong(endpoint, body, expected):
    assert expected in problem(endpoint, body)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"access_token": "t", "expires_in": 3600, "scope": "a b", "token_type": "bearer"}, None),
        ({"access_token": "t"}, None),
        (None, "the body is null"),
        ([], "the body is a list"),
        ({}, "it carries no access_token"),
        ({"access_token": ""}, "it carries no access_token"),
        ({"access_token": 12}, "it carries no access_token"),
        ({"access_token": "t", "expires_in": "3600"}, "expires_in is a string, not a positive number"),
        ({"access_token": "t", "expires_in": 0}, "expires_in is a number, not a positive number"),
        ({"access_token": "t", "scope": ["a"]}, "scope is a list, not a string"),
        ({"access_token": "t", "refresh_token": {}}, "refresh_token is an object, not a string"),
    ],
)
def test_token_answers(body, expected):
    found = token_problem(body)
    assert found == expected if expected is None else expected in found


def test_a_described_problem_never_quotes_the_content():
    secretish = {"access_token": "t", "scope": {"s3cr3t-value": 1}}
    assert "s3cr3t" not in token_problem(secretish)
    assert "s3cr3t" not in problem("list_users", {**PAGE, "users": ["s3cr3t@example.com"]})


@pytest.mark.parametrize("error", [
    ZoomMalformedResponse("GET", "/users/u1/settings", "it has no 'feature' object", retries=1),
    ZoomPagingLoop("GET", "/users?status=active", "page 2 handed back a token", pages=2, items=600),
    ZoomIncompleteListing("GET", "/users?status=inactive", listed=(3, 4), reported=(5, 5)),
])
def test_unusable_answers_are_zoom_errors_that_name_the_endpoint_and_pickle(error):
    assert isinstance(error, ZoomUnusableAnswer) and isinstance(error, ZoomError)
    assert str(error).startswith(f"GET {error.path}: ")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error) and str(again) == str(error) and again.path == error.path
