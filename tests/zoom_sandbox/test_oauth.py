"""OAuth as Zoom does it: S2S tokens, the authorization-code flow, rotating refresh tokens."""
from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from zoom_sandbox import DEFAULT_SCOPES, AccountConfig

from tests.support.sandbox import consent
from tests.zoom_sandbox.sandbox_client import config, token

REDIRECT = "https://airflow.example.com/zoom/callback?profile=acme"


def _users(sb, access_token):
    return requests.get(f"{sb.base_url}/users", headers={"Authorization": f"Bearer {access_token}"}, timeout=10)


def test_s2s_token_carries_granted_scopes_and_no_refresh_token(sandbox):
    r = requests.post(
        sandbox.oauth_url,
        params={"grant_type": "account_credentials", "account_id": "sandbox-account"},
        auth=("sandbox-client", "sandbox-secret"),
        timeout=10,
    )
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["scope"].split() == list(DEFAULT_SCOPES)
    assert body["api_url"] == sandbox.base_url.removesuffix("/v2")
    assert "refresh_token" not in body
    assert _users(sandbox, body["access_token"]).status_code == 200


def test_access_token_expires_by_the_sandbox_clock(sandbox):
    access = token(sandbox)
    sandbox.clock.advance(3599)
    assert _users(sandbox, access).status_code == 200
    sandbox.clock.advance(2)
    r = _users(sandbox, access)
    assert r.status_code == 401
    assert r.json() == {"code": 124, "message": "Invalid access token."}
    assert _users(sandbox, token(sandbox)).status_code == 200


def test_configured_token_lifetime(make_sandbox):
    sb = make_sandbox(config(token_ttl_s=60))
    access = token(sb)
    sb.clock.advance(61)
    assert _users(sb, access).status_code == 401


def test_missing_or_unknown_bearer_token_is_124(sandbox):
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}):
        r = requests.get(f"{sandbox.base_url}/users", headers=headers, timeout=10)
        assert r.status_code == 401
        assert r.json()["code"] == 124


def test_bad_client_credentials_are_refused(sandbox):
    for auth in (("sandbox-client", "wrong"), ("nobody", "sandbox-secret")):
        r = requests.post(
            sandbox.oauth_url, data={"grant_type": "account_credentials", "account_id": "sandbox-account"}, auth=auth, timeout=10
        )
        assert r.status_code == 401
        assert r.json() == {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}


def test_s2s_token_for_another_account_is_refused(sandbox):
    r = requests.post(
        sandbox.oauth_url,
        data={"grant_type": "account_credentials", "account_id": "someone-else"},
        auth=("sandbox-client", "sandbox-secret"),
        timeout=10,
    )
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request"


def test_unsupported_grant_type(sandbox):
    r = requests.post(sandbox.oauth_url, data={"grant_type": "password"}, auth=("sandbox-client", "sandbox-secret"), timeout=10)
    assert r.status_code == 400
    assert r.json()["error"] == "unsupported_grant_type"


def _authorize(sb, state="xyz", decision="allow", **extra):
    params = {"response_type": "code", "client_id": "sandbox-client", "redirect_uri": REDIRECT, "state": state, **extra}
    location = urlsplit(consent(f"{sb.authorize_url}?{urlencode(params)}", decision))
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT.split("?")[0]
    query = parse_qs(location.query)
    assert query["profile"] == ["acme"]  # the redirect URI's own parameters survive
    assert query["state"] == [state]
    return query["code"][0] if decision == "allow" else query


def _exchange(sb, code, redirect=REDIRECT):
    return requests.post(
        sb.oauth_url,
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect},
        auth=("sandbox-client", "sandbox-secret"),
        timeout=10,
    )


def _refresh(sb, refresh_token):
    return requests.post(
        sb.oauth_url,
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=("sandbox-client", "sandbox-secret"),
        timeout=10,
    )


def test_authorization_code_flow_and_refresh_rotation(sandbox):
    first = _exchange(sandbox, _authorize(sandbox)).json()
    assert {"access_token", "refresh_token", "expires_in", "scope"} <= set(first)
    assert _users(sandbox, first["access_token"]).status_code == 200

    second = _refresh(sandbox, first["refresh_token"])
    assert second.status_code == 200
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]

    reused = _refresh(sandbox, first["refresh_token"])  # rotation: the old one is dead
    assert reused.status_code == 400
    assert reused.json() == {"reason": "Invalid Token!", "error": "invalid_request"}

    third = _refresh(sandbox, second["refresh_token"])
    assert third.status_code == 200
    assert _users(sandbox, third.json()["access_token"]).status_code == 200
    # Refreshing does not revoke access tokens already handed out.
    assert _users(sandbox, second["access_token"]).status_code == 200


def test_authorization_code_is_single_use(sandbox):
    code = _authorize(sandbox)
    assert _exchange(sandbox, code).status_code == 200
    again = _exchange(sandbox, code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_request"


def test_authorization_code_expires_after_five_minutes(sandbox):
    code = _authorize(sandbox)
    sandbox.clock.advance(301)
    assert _exchange(sandbox, code).status_code == 400


def test_authorization_code_needs_the_same_redirect_uri(sandbox):
    r = _exchange(sandbox, _authorize(sandbox), redirect="https://elsewhere.example.com/cb")
    assert r.status_code == 400
    assert r.json()["reason"] == "Redirect URI mismatch."


def test_refresh_token_of_another_client_is_refused(make_sandbox):
    sb = make_sandbox(config([AccountConfig(users=10), AccountConfig(account_id="b", client_id="cb", client_secret="sb", users=10)]))
    refresh_token = _exchange(sb, _authorize(sb)).json()["refresh_token"]
    r = requests.post(
        sb.oauth_url, data={"grant_type": "refresh_token", "refresh_token": refresh_token}, auth=("cb", "sb"), timeout=10
    )
    assert r.status_code == 400
    assert _refresh(sb, refresh_token).status_code == 200  # refused attempts by others do not burn it


def test_authorize_rejects_unknown_client(sandbox):
    r = requests.get(
        sandbox.authorize_url,
        params={"response_type": "code", "client_id": "nobody", "redirect_uri": REDIRECT},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 400


def _shared_app_sandbox(make_sandbox):
    """One admin-managed app ("shared-app") installed by two accounts with different users."""
    return make_sandbox(config([
        AccountConfig(account_id="acct-a", client_id="shared-app", client_secret="s", users=12, seed=1),
        AccountConfig(account_id="acct-b", client_id="shared-app", client_secret="s", users=15, seed=2),
    ]))


def _authorize_as(sb, account_id):
    params = {"response_type": "code", "client_id": "shared-app", "redirect_uri": REDIRECT}
    if account_id:
        params["account_id"] = account_id
    return requests.get(sb.authorize_url, params=params, allow_redirects=False, timeout=10)


def _code_as(sb, account_id):
    params = {"response_type": "code", "client_id": "shared-app", "redirect_uri": REDIRECT, "account_id": account_id}
    return parse_qs(urlsplit(consent(f"{sb.authorize_url}?{urlencode(params)}")).query)["code"][0]


def _user_ids(sb, access_token):
    r = _users(sb, access_token)
    assert r.status_code == 200, r.text
    return {u["id"] for u in r.json()["users"]}


def test_one_app_in_two_accounts_reaches_each_authorizing_account_only(make_sandbox):
    sb = _shared_app_sandbox(make_sandbox)
    expected = {a: {u["id"] for u in sb.account(a).users("active")} for a in ("acct-a", "acct-b")}
    assert expected["acct-a"].isdisjoint(expected["acct-b"])
    for account_id in ("acct-a", "acct-b"):
        code = _code_as(sb, account_id)
        tokens = requests.post(sb.oauth_url, data={"grant_type": "authorization_code", "code": code,
                                                   "redirect_uri": REDIRECT}, auth=("shared-app", "s"), timeout=10).json()
        assert _user_ids(sb, tokens["access_token"]) == expected[account_id]
        rotated = requests.post(sb.oauth_url, data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                                auth=("shared-app", "s"), timeout=10).json()
        assert _user_ids(sb, rotated["access_token"]) == expected[account_id]
        s2s = requests.post(sb.oauth_url, data={"grant_type": "account_credentials", "account_id": account_id},
                            auth=("shared-app", "s"), timeout=10).json()
        assert _user_ids(sb, s2s["access_token"]) == expected[account_id]
    assert {r.account_id for r in sb.log if r.path == "/oauth/token"} == {"acct-a", "acct-b"}


def test_authorizing_a_shared_app_names_the_account(make_sandbox):
    sb = _shared_app_sandbox(make_sandbox)
    for account_id in (None, "acct-unknown"):
        r = _authorize_as(sb, account_id)
        assert r.status_code == 400 and "account_id" in r.json()["reason"]


def test_accounts_sharing_a_client_id_share_its_secret():
    with pytest.raises(ValueError, match="same client_secret"):
        config([AccountConfig(account_id="a", client_id="app", client_secret="x"),
                AccountConfig(account_id="b", client_id="app", client_secret="y")])


def test_consent_page_lists_the_scopes_and_denying_sends_access_denied_with_the_state(sandbox):
    params = {"response_type": "code", "client_id": "sandbox-client", "redirect_uri": REDIRECT, "state": "s-1"}
    page = requests.get(sandbox.authorize_url, params=params, timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert all(scope in page.text for scope in DEFAULT_SCOPES)
    query = _authorize(sandbox, state="s-1", decision="deny")
    assert query == {"profile": ["acme"], "error": ["access_denied"], "state": ["s-1"]}


def test_pkce_code_is_exchanged_only_with_its_verifier(sandbox):
    verifier = "v" * 43
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    code = _authorize(sandbox, code_challenge=challenge, code_challenge_method="S256")
    assert _exchange(sandbox, code).json() == {"reason": "Invalid code_verifier", "error": "invalid_request"}
    code = _authorize(sandbox, code_challenge=challenge, code_challenge_method="S256")
    wrong = requests.post(sandbox.oauth_url, auth=("sandbox-client", "sandbox-secret"), timeout=10, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": "w" * 43})
    assert wrong.status_code == 400
    code = _authorize(sandbox, code_challenge=challenge, code_challenge_method="S256")
    right = requests.post(sandbox.oauth_url, auth=("sandbox-client", "sandbox-secret"), timeout=10, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier})
    assert right.status_code == 200 and "refresh_token" in right.json()
