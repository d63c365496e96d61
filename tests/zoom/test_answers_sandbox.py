"""ZoomClient against the sandbox's answer faults: 200s that are wrong never become empty results.

A repeated page token and a listing that stops early (GET /users), and malformed bodies on every
read endpoint and on the token endpoint.
"""
from __future__ import annotations

import logging
import math
from datetime import date

import pytest

from zoom_sam.zoom.errors import ZoomAuthError, ZoomIncompleteListing, ZoomMalformedResponse, ZoomPagingLoop
from zoom_sam.zoom.scopes import MINIMAL_SCOPES

from zoom_helpers import api_records, token_records

ALL_SCOPES = tuple(MINIMAL_SCOPES | {"user:read:user:admin", "report:read:list_users:admin"})


def _ids(users):
    return [u.get("id") or u["email"] for u in users]


def test_a_repeated_page_token_stops_the_listing_at_once(make_sandbox, client_for):
    sb = make_sandbox(users=1000)
    client = client_for(sb)
    sb.faults.add("repeat_page_token", path=r"^/v2/users$")  # every page hands back its own token
    got = []
    with pytest.raises(ZoomPagingLoop, match=r"^GET /users\?status=active: page loop") as caught:
        got.extend(client.list_users("active"))
    assert len(api_records(sb, "GET", r"^/v2/users$")) == 2  # page 1, page 2 answering "page 2 again"
    assert len(got) == 600 == caught.value.items
    assert client.stats()["errors"] == 1


def test_a_listing_that_stops_early_once_is_listed_again_and_complete(make_sandbox, client_for, caplog):
    sb = make_sandbox(users=1000)
    client = client_for(sb)
    expected = _ids(sb.account().users("active"))
    sb.faults.add("stop_listing", path=r"^/v2/users$", count=1)  # page 1 says it is the last
    with caplog.at_level(logging.WARNING, logger="zoom_sam.zoom.paging"):
        got = _ids(client.list_users("active"))
    assert sorted(got) == sorted(expected) and len(got) == len(set(got))
    pages = api_records(sb, "GET", r"^/v2/users$")
    assert len(pages) == 1 + math.ceil(len(expected) / 300)
    assert "next_page_token" not in pages[1].query  # the re-list starts from the first page
    assert f"ended after 300 distinct users but Zoom reported total_records={len(expected)}" in caplog.text


def test_a_listing_that_stays_short_is_an_error_naming_status_and_counts(make_sandbox, client_for):
    sb = make_sandbox(users=1000)
    client = client_for(sb)
    pending = sb.account().total("pending")
    assert 0 < pending < 300
    sb.faults.add("stop_listing", path=r"^/v2/users$")
    with pytest.raises(ZoomIncompleteListing) as caught:
        list(client.list_users("active"))
    active = sb.account().total("active")
    assert caught.value.listed == (300, 300) and caught.value.reported == (active, active)
    assert "GET /users?status=active: incomplete listing" in str(caught.value)
    assert f"(300 of {active}; 300 of {active})" in str(caught.value)
    assert len(api_records(sb, "GET", r"^/v2/users$")) == 2  # one page per pass, then it stops
    # a listing that fits one page has nothing to cut off
    assert len(list(client.list_users("pending"))) == pending


LISTINGS = {
    "list_users": (r"^/v2/users$", lambda c, uid: list(c.list_users("active"))),
    "get_user": (r"^/v2/users/[^/]+$", lambda c, uid: c.get_user(uid)),
    "get_user_settings": (r"/settings$", lambda c, uid: c.get_user_settings(uid)),
    "list_meetings": (r"/meetings$", lambda c, uid: list(c.list_meetings(uid))),
    "list_webinars": (r"/webinars$", lambda c, uid: list(c.list_webinars(uid))),
    "report_users": (r"^/v2/report/users$", lambda c, uid: list(c.report_users(
        "active", from_=date(2026, 11, 1), to=date(2026, 11, 27)))),
}


@pytest.mark.parametrize(("endpoint", "shape", "field", "problem"), [
    ("list_users", "null", None, "the body is null"),
    ("list_users", "empty", None, "the body is empty"),
    ("list_users", "list", None, "the body is a list"),
    ("list_users", "html", None, "the body is not JSON (text/html)"),
    ("list_users", "strings", "users", "users[0] is a string, not an object"),
    ("list_users", "missing", "total_records", "it has no total_records"),
    ("get_user", "null", None, "the body is null"),
    ("get_user_settings", "null", None, "the body is null"),
    ("get_user_settings", "empty", None, "the body is empty"),
    ("get_user_settings", "missing", "feature", "it has no 'feature' object, so the user's add-ons are unknown"),
    ("list_meetings", "list", None, "the body is a list"),
    ("list_meetings", "missing", "meetings", "it has no 'meetings' list"),
    ("list_webinars", "null", None, "the body is null"),
    ("report_users", "strings", "users", "users[0] is a string"),
])
def test_a_malformed_answer_is_retried_then_an_error_naming_endpoint_and_problem(
        make_sandbox, client_for, endpoint, shape, field, problem):
    sb = make_sandbox(users=200, scopes=ALL_SCOPES)
    client = client_for(sb, max_retries=2)
    path, call = LISTINGS[endpoint]
    uid = next(u["id"] for u in sb.account().users("active") if u["settings"]["feature"].get("webinar"))
    spec = {"shape": shape, **({"field": field} if field else {})}
    sb.faults.add("malformed", path=path, **spec)
    with pytest.raises(ZoomMalformedResponse) as caught:
        call(client, uid)
    assert caught.value.problem.startswith(problem)
    assert "malformed answer from Zoom (HTTP 200)" in str(caught.value) and "after 2 retries" in str(caught.value)
    assert caught.value.path.startswith("/users" if endpoint != "report_users" else "/report/users")
    if endpoint == "list_users":  # a listing is named with its status: which of the three failed
        assert str(caught.value).startswith("GET /users?status=active: malformed answer")
    assert len(api_records(sb, "GET", path)) == 3  # the answer and two retries
    assert client.stats()["errors"] == 1 and client.stats()["retries"] == 2


@pytest.mark.parametrize("endpoint", sorted(LISTINGS))
def test_one_garbled_answer_is_absorbed_by_a_retry(make_sandbox, client_for, endpoint):
    sb = make_sandbox(users=200, scopes=ALL_SCOPES)
    client = client_for(sb, max_retries=2)
    path, call = LISTINGS[endpoint]
    uid = next(u["id"] for u in sb.account().users("active") if u["settings"]["feature"].get("webinar"))
    clean = call(client, uid)
    sb.faults.add("malformed", path=path, shape="null", count=1)
    assert call(client, uid) == clean
    assert client.stats()["retries"] == 1 and client.stats()["errors"] == 0


def test_settings_without_feature_never_read_as_no_addons(make_sandbox, client_for):
    sb = make_sandbox(users=200)
    client = client_for(sb, max_retries=0)
    holder = next(u for u in sb.account().users("active") if u["settings"]["feature"].get("webinar"))
    sb.faults.add("malformed", path=r"/settings$", shape="missing", field="feature", count=1)
    with pytest.raises(ZoomMalformedResponse, match="add-ons are unknown"):
        client.get_user_settings(holder["id"])
    assert client.get_user_settings(holder["id"])["feature"]["webinar"] is True


def test_a_garbled_token_answer_is_asked_again_for_account_credentials(sandbox, client_for):
    client = client_for(sandbox)
    sandbox.faults.add("malformed", path="^/oauth/token$", shape="missing", field="access_token", count=1)
    assert next(client.list_users())
    assert [r.status for r in token_records(sandbox)] == [200, 200]


def test_a_token_endpoint_that_keeps_garbling_is_a_malformed_answer_naming_it(sandbox, client_for):
    client = client_for(sandbox)
    sandbox.faults.add("malformed", path="^/oauth/token$", shape="html")
    with pytest.raises(ZoomAuthError) as caught:
        list(client.list_users())
    assert str(caught.value).startswith(f"Zoom token endpoint {sandbox.oauth_url} failed after 4 attempt(s): "
                                        "malformed answer (HTTP 200): the body is not JSON")
    assert caught.value.retryable and len(token_records(sandbox)) == 4 and api_records(sandbox) == []
