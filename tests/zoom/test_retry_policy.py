"""One retry policy decides every resend to Zoom; a missing scope is never sent again nor retried."""
from __future__ import annotations

import json
import pickle

import pytest
import requests

from zoom_sam.errors import ZoomSamError
from zoom_sam.zoom.errors import ZoomAuthError, ZoomMissingScopes, ZoomRateLimited, ZoomTransientError
from zoom_sam.zoom.retry import RetryPolicy
from zoom_sam.zoom.scopes import MINIMAL_SCOPES

from zoom_helpers import api_records, token_records

MEETINGS = "meeting:read:list_meetings:admin"


def test_a_missing_scope_is_sent_once_and_fails_without_retries(make_sandbox, client_for):
    sb = make_sandbox(scopes=tuple(MINIMAL_SCOPES - {MEETINGS}))
    client = client_for(sb)
    uid = next(sb.account().users("active"))["id"]
    with pytest.raises(ZoomMissingScopes) as ei:
        list(client.list_meetings(uid))
    assert len(api_records(sb, "GET", "/meetings$")) == 1 and client.stats()["retries"] == 0
    assert isinstance(ei.value, ZoomSamError) and ei.value.retryable is False
    assert pickle.loads(pickle.dumps(ei.value)).retryable is False


def test_a_missing_scope_answered_with_401_is_not_taken_for_an_expired_token(sandbox, client_for, monkeypatch):
    client = client_for(sandbox)
    client.token()
    sent = []

    class Refusing:
        def request(self, method, url, **kw):
            sent.append((method, url))
            resp = requests.Response()
            resp.status_code = 401
            resp.headers["Content-Type"] = "application/json"
            resp._content = json.dumps({"code": 4711, "message": "Invalid access token, does not contain "
                                        f"scopes:[{MEETINGS}]."}).encode()
            return resp

    monkeypatch.setattr(client._transport, "_session", Refusing)
    with pytest.raises(ZoomMissingScopes) as ei:
        list(client.list_meetings("u1"))
    assert ei.value.missing == (MEETINGS,) and not ei.value.retryable
    assert len(sent) == 1 and len(token_records(sandbox)) == 1  # neither renewed nor sent again


def test_a_missing_scope_found_before_any_request():
    err = ZoomMissingScopes(missing=("user:update:user:admin",),
                            message="reclaim of demo cannot write to Zoom (nothing was changed)")
    assert not err.retryable and err.status is None and err.processes == {"reclaim": ("user:update:user:admin",)}
    assert str(err) == ("reclaim of demo cannot write to Zoom (nothing was changed) [missing scopes: "
                        "user:update:user:admin; blocks: reclaim needs user:update:user:admin]")


def test_one_retry_policy_governs_every_send_path(make_sandbox, client_for):
    sb = make_sandbox(users=700)
    slept: list[float] = []
    policy = RetryPolicy(max_retries=1, max_429_retries=0, backoff_base=0.01, backoff_max=0.01, sleep=slept.append)
    client = client_for(sb, retry=policy)
    assert client.retry is policy
    client.auth.endpoint.retry = policy
    sb.faults.add("status", path=r"^/oauth/token$", status=503)
    with pytest.raises(ZoomAuthError, match="failed after 2 attempt"):  # the token endpoint
        client.token()
    sb.faults.clear()
    users = [u["id"] for u in sb.account().users("active")]

    sb.faults.add("status", path=r"/settings$", method="GET", status=503)
    with pytest.raises(ZoomTransientError):  # a read
        client.get_user_settings(users[0])
    assert len(api_records(sb, "GET", "/settings$")) == 2

    out = list(client.map_concurrent(client.get_user_settings, users[1:4]))  # the thread pool
    assert all(isinstance(r, ZoomTransientError) for _, r in out)
    assert len(api_records(sb, "GET", "/settings$")) == 2 + 3 * 2

    sb.faults.add("status", path=r"^/v2/users$", method="GET", status=502)
    with pytest.raises(ZoomTransientError):  # a listing's pages
        list(client.list_users())
    assert len(api_records(sb, "GET", r"^/v2/users$")) == 2

    sb.faults.add("burst_429", path=rf"^/v2/users/{users[0]}$", method="PATCH", count=1)
    with pytest.raises(ZoomRateLimited):  # a write: max_429_retries=0 allows no resend
        client.update_user(users[0], {"type": 1})
    assert len(api_records(sb, "PATCH")) == 1
    assert len(slept) == 1 + 1 + 3 + 1  # one backoff per resend, each slept by the policy
