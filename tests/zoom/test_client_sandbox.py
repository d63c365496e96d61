"""ZoomClient against the sandbox: S2S tokens, paging, recovery from failures, errors surfaced."""
from __future__ import annotations

import math

import pytest

from zoom_sam.zoom.errors import (
    ZoomApiError,
    ZoomAuthError,
    ZoomMissingScopes,
    ZoomNotFound,
    ZoomTransientError,
    ZoomUncertainOutcome,
)
from zoom_sam.zoom.scopes import MINIMAL_SCOPES

from zoom_helpers import api_records, token_records


def _ids(users):
    return [u.get("id") or u["email"] for u in users]


def test_paging_many_pages_each_user_once_and_one_token(make_sandbox, client_for):
    sb = make_sandbox(users=1000)
    client = client_for(sb)
    expected = _ids(sb.account().users("active"))
    got = _ids(client.list_users("active"))
    assert got == expected and len(set(got)) == len(got)
    pages = [r for r in api_records(sb, "GET", r"^/v2/users$") if r.query["status"] == "active"]
    assert len(pages) == math.ceil(len(expected) / 300)
    assert all(r.query.get("page_size") == "300" for r in pages)
    # pending users carry no id: keyed by email, all listed
    pending = list(client.list_users("pending"))
    assert [u["email"] for u in pending] == [u["email"] for u in sb.account().users("pending")]
    # one S2S token for the whole account, shared by a second client of the same connection
    client2 = client_for(sb)
    next(client2.list_users("inactive"))
    assert len(token_records(sb)) == 1
    assert client.stats()["token_requests"] == 1 and client2.stats()["token_requests"] == 0
    assert client.stats()["calls"] == {"Light": 0, "Medium": len(pages) + math.ceil(len(pending) / 300),
                                       "Heavy": 0}
    assert client2.stats()["calls"]["Medium"] == 1
    assert client.granted_scopes == MINIMAL_SCOPES


def test_token_revoked_mid_listing_recovered_with_one_reauth(make_sandbox, client_for):
    sb = make_sandbox(users=900)
    client = client_for(sb)
    it = client.list_users("active")
    first = [next(it) for _ in range(300)]  # page 1 consumed
    sb.faults.add("expire_tokens", count=1)  # every live token dies before the next request
    rest = list(it)
    got = _ids(first + rest)
    assert got == _ids(sb.account().users("active"))
    assert client.stats()["token_requests"] == 2  # exactly one re-auth
    statuses = [r.status for r in api_records(sb, "GET", r"^/v2/users$")]
    assert statuses.count(401) == 1


def test_token_expiry_by_clock_mid_listing(make_sandbox, client_for):
    """An hour passes between two pages: the token (1 h) and the page token (15 min) both expire.
    One re-auth, one restart, and every user exactly once."""
    sb = make_sandbox(users=700)
    client = client_for(sb)
    it = client.list_users("active")
    first = [next(it) for _ in range(301)]  # pages 1 and 2 fetched
    sb.clock.advance(3600 + 5)
    got = _ids(first + list(it))
    assert got == _ids(sb.account().users("active")) and len(set(got)) == len(got)
    assert client.stats()["token_requests"] == 2
    codes = [(r.status, r.zoom_code) for r in api_records(sb, "GET", r"^/v2/users$")]
    assert (401, 124) in codes and (400, 300) in codes


def test_expired_page_token_restarts_without_duplicates_or_losses(make_sandbox, client_for):
    sb = make_sandbox(users=1000)
    client = client_for(sb)
    it = client.list_users("active")
    first = [next(it) for _ in range(450)]  # mid page 2
    sb.clock.advance(16 * 60)  # page tokens live 15 minutes; the access token still lives
    # the account changes meanwhile: a user listed already is deleted, a new one is added
    sb.account().delete_user(first[10]["id"])
    rest = list(it)
    got = _ids(first + rest)
    assert len(got) == len(set(got))
    now = set(_ids(sb.account().users("active")))
    assert now - set(got) == set()  # nobody lost
    recs = api_records(sb, "GET", r"^/v2/users$")
    assert [r.status for r in recs].count(400) == 1
    restart = [i for i, r in enumerate(recs) if r.status == 400][0]
    assert "next_page_token" not in recs[restart + 1].query  # restarted from page 1
    assert client.stats()["token_requests"] == 1 and client.stats()["errors"] == 0


def test_page_token_restarts_are_bounded(make_sandbox, client_for):
    sb = make_sandbox(users=700)
    client = client_for(sb, max_page_restarts=1)
    it = client.list_users("active")
    [next(it) for _ in range(300)]
    sb.clock.advance(16 * 60)
    [next(it) for _ in range(300)]  # restart 1 re-reads page 1 silently, then page 2 comes
    sb.clock.advance(16 * 60)
    with pytest.raises(ZoomApiError) as ei:
        list(it)
    assert ei.value.code == 300 and ei.value.status == 400


def test_5xx_drops_and_timeouts_recovered_for_reads(make_sandbox, client_for):
    sb = make_sandbox(users=700)
    client = client_for(sb, timeout=0.5)
    sb.faults.add("status", path=r"^/v2/users$", method="GET", status=500, count=1)
    sb.faults.add("drop", path=r"^/v2/users$", method="GET", every=2, count=2)
    sb.faults.add("status", path=r"/settings$", method="GET", status=503, count=1)  # an HTML body
    sb.faults.add("slow", path=r"/meetings$", method="GET", delay_s=1.5, count=1)  # read timeout
    assert _ids(client.list_users()) == _ids(sb.account().users("active"))
    uid = next(sb.account().users("active"))["id"]
    assert "feature" in client.get_user_settings(uid)
    list(client.list_meetings(uid))
    st = client.stats()
    assert st["retries"] == 5 and st["errors"] == 0
    statuses = [r.status for r in api_records(sb, "GET", r"^/v2/users$")]
    assert statuses.count(500) == 1 and statuses.count(None) == 2 and statuses.count(200) == 3
    assert [r.status for r in api_records(sb, "GET", "/settings$")] == [503, 200]
    assert len(api_records(sb, "GET", "/meetings$")) == 2


def test_persistent_5xx_surfaces_as_transient_error(sandbox, client_for):
    client = client_for(sandbox, max_retries=2)
    sandbox.faults.add("status", path=r"^/v2/users$", status=502)
    with pytest.raises(ZoomTransientError, match="502"):
        list(client.list_users())
    assert len(api_records(sandbox, "GET", r"^/v2/users$")) == 3
    assert client.stats()["errors"] == 1


@pytest.mark.parametrize("fault", [{"kind": "drop"}, {"kind": "status", "status": 500},
                                   {"kind": "slow", "delay_s": 1.5}])
def test_write_with_unknown_outcome_is_not_retried(sandbox, client_for, fault):
    client = client_for(sandbox, timeout=0.5)
    uid = next(sandbox.account().users("active"))["id"]
    kind = fault.pop("kind")
    sandbox.faults.add(kind, path=rf"^/v2/users/{uid}$", method="PATCH", count=1, **fault)
    with pytest.raises(ZoomUncertainOutcome) as ei:
        client.update_user(uid, {"type": 1})
    assert ei.value.method == "PATCH" and uid in ei.value.path
    assert "Re-read" in str(ei.value)
    assert len(api_records(sandbox, "PATCH")) == 1  # sent once, never repeated


def test_write_throttled_by_429_is_retried(sandbox, client_for):
    client = client_for(sandbox)
    users = [u for u in sandbox.account().users("active") if u["type"] == 2]
    uid = users[0]["id"]
    sandbox.faults.add("burst_429", path=rf"^/v2/users/{uid}$", method="PATCH", count=1)
    client.update_user(uid, {"type": 1})
    assert [r.status for r in api_records(sandbox, "PATCH")] == [429, 204]
    assert sandbox.account().user(uid)["type"] == 1
    assert client.stats()["throttled_429"] == 1


def test_writes_succeed_and_change_state(sandbox, client_for):
    client = client_for(sandbox)
    acct = sandbox.account()
    licensed = [u for u in acct.users("active") if u["type"] == 2][0]["id"]
    acct.set_feature(licensed, "webinar", True)
    client.update_user_settings(licensed, {"feature": {"webinar": False}})
    assert client.get_user_settings(licensed)["feature"]["webinar"] is False
    assert client.update_user(licensed, {"type": 1}) is None
    assert acct.user(licensed)["type"] == 1
    pending = next(acct.users("pending"))["email"]
    client.delete_user(pending)
    assert acct.user(pending) is None
    assert api_records(sandbox, "DELETE")[0].query == {"action": "disassociate"}


def test_unrecoverable_errors_carry_zoom_code_without_retry(sandbox, client_for):
    client = client_for(sandbox)
    with pytest.raises(ZoomNotFound) as ei:
        client.get_user_settings("no-such-user")
    assert (ei.value.status, ei.value.code) == (404, 1001) and "no-such-user" in str(ei.value)
    uid = [u for u in sandbox.account().users("active") if u["type"] == 2][0]["id"]
    sandbox.account().set_refusal(uid, 1109)
    with pytest.raises(ZoomApiError) as ei:
        client.update_user(uid, {"type": 1})
    assert ei.value.code == 1109 and ei.value.status == 400 and "1109" in str(ei.value)
    assert len(api_records(sandbox, "GET", "/settings$")) == 1
    assert len(api_records(sandbox, "PATCH")) == 1
    assert client.stats()["errors"] == 2 and client.stats()["retries"] == 0


def test_webinar_plan_missing_raises(sandbox, client_for):
    client = client_for(sandbox)
    acct = sandbox.account()
    plain = [u for u in acct.users("active") if not u["settings"]["feature"].get("webinar")][0]["id"]
    with pytest.raises(ZoomApiError) as ei:
        list(client.list_webinars(plain))  # Zoom's answer by default
    assert (ei.value.status, ei.value.code) == (400, 200)
    assert client.stats()["errors"] == 1


def test_meetings_window_and_webinars(sandbox, client_for):
    from datetime import date

    client = client_for(sandbox)
    acct = sandbox.account()
    host = [u for u in acct.users("active") if u["type"] == 2][0]["id"]
    got = list(client.list_meetings(host, from_=date(2026, 10, 1), to=date(2026, 11, 27)))
    rec = api_records(sandbox, "GET", "/meetings$")[-1]
    assert rec.query["from"] == "2026-10-01" and rec.query["to"] == "2026-11-27"
    assert rec.query["type"] == "previous_meetings"
    assert len({m["uuid"] for m in got}) == len(got)


def test_missing_scope_names_scope_and_process(make_sandbox, client_for):
    sb = make_sandbox(scopes=tuple(MINIMAL_SCOPES - {"meeting:read:list_meetings:admin"}))
    client = client_for(sb)
    uid = next(sb.account().users("active"))["id"]
    with pytest.raises(ZoomMissingScopes) as ei:
        list(client.list_meetings(uid))
    err = ei.value
    assert err.code == 4711 and err.missing == ("meeting:read:list_meetings:admin",)
    assert err.processes == {"pull_activity": ("meeting:read:list_meetings:admin",)}
    assert "pull_activity" in str(err)
    # optional endpoint without its optional scope: the client says so before anyone calls it
    assert client.has_scope("user:read:user:admin") is False
    with pytest.raises(ZoomMissingScopes) as ei:
        client.get_user(uid)
    assert ei.value.missing == ("user:read:user:admin",) and ei.value.processes == {}


def test_optional_endpoints_when_granted(make_sandbox, client_for):
    from datetime import date

    sb = make_sandbox(scopes=tuple(MINIMAL_SCOPES | {"user:read:user:admin", "report:read:list_users:admin"}))
    client = client_for(sb)
    uid = next(sb.account().users("active"))["id"]
    assert client.has_scope("user:read:user:admin")
    assert client.get_user(uid)["id"] == uid
    rows = list(client.report_users("active", from_=date(2026, 11, 1), to=date(2026, 11, 27)))
    assert len({r["id"] for r in rows}) == len(rows)
    assert client.stats()["calls"]["Heavy"] >= 1 and client.stats()["calls"]["Light"] == 1


def test_bad_client_secret_is_an_auth_error(sandbox, client_for):
    client = client_for(sandbox, client_secret="wrong-secret-123")
    with pytest.raises(ZoomAuthError) as ei:
        list(client.list_users())
    assert ei.value.status == 401 and "invalid_client" in str(ei.value)
    assert "wrong-secret-123" not in str(ei.value)
    assert api_records(sandbox) == []


def test_token_endpoint_outage_retried(sandbox, client_for):
    client = client_for(sandbox)
    sandbox.faults.add("status", path=r"^/oauth/token$", status=503, count=2)
    assert next(client.list_users())
    assert [r.status for r in token_records(sandbox)] == [503, 503, 200]


def test_account_credentials_answer_lost_is_asked_again(sandbox, client_for):
    """Minting a Server-to-Server token uses nothing up, so a request whose answer was lost
    (Zoom issued the token, the client had given up) is simply sent again."""
    client = client_for(sandbox, timeout=0.3)
    sandbox.faults.add("slow", path=r"^/oauth/token$", delay_s=1.0, count=2)
    assert next(client.list_users())
    assert [r.status for r in token_records(sandbox)] == [200, 200, 200]
    assert client.stats()["token_requests"] == 3


def test_token_renewed_60s_before_expiry_without_a_401(sandbox):
    from zoom_sam.zoom.client import ZoomClient

    from zoom_helpers import config_for

    now = {"t": 1_000_000.0}
    client = ZoomClient(config_for(sandbox), clock=lambda: now["t"])
    first = client.token()
    assert first.expires_at == now["t"] + 3600
    now["t"] += 3600 - 61
    assert client.token() is first  # still more than 60 s left
    now["t"] += 2
    assert client.token().value != first.value  # renewed ahead of expiry
    next(client.list_users())
    assert 401 not in [r.status for r in api_records(sandbox)]
    assert client.stats()["token_requests"] == 2


def test_one_token_request_for_many_threads(sandbox, client_for):
    """24 threads start at once against a slow token endpoint, then all tokens are revoked
    mid-run: one token request each time, not one per thread."""
    client = client_for(sandbox)
    sandbox.faults.add("slow", path="^/oauth/token$", delay_s=0.3)
    uids = [u["id"] for u in sandbox.account().users("active")][:60]
    sandbox.faults.add("expire_tokens", path="/settings$", every=30, count=1)
    out = list(client.map_concurrent(client.get_user_settings, uids, max_in_flight=24))
    assert all(not isinstance(r, Exception) for _, r in out)
    assert client.stats()["token_requests"] == 2
    assert len(token_records(sandbox)) == 2


def test_legacy_prefixed_extra_keys_accepted(sandbox):
    from zoom_sam.zoom.client import ZoomConfig

    from zoom_helpers import conn_of

    c = conn_of(sandbox)
    extra = {f"extra__zoom__{k}": v for k, v in c["extra"].items()}
    cfg = ZoomConfig.from_connection_fields(host=c["host"], login=c["login"], password=c["password"], extra=extra)
    assert (cfg.account_id, cfg.oauth_url) == (c["extra"]["account_id"], sandbox.oauth_url)


def test_map_concurrent_logs_progress(sandbox, client_for, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="zoom_sam.zoom.concurrency")
    client = client_for(sandbox)
    uids = [u["id"] for u in sandbox.account().users("active")][:20] + ["nobody"]
    out = list(client.map_concurrent(client.get_user_settings, uids, progress_every=10, label="users"))
    assert len(out) == 21 and sum(isinstance(r, ZoomNotFound) for _, r in out) == 1
    msgs = [r.getMessage() for r in caplog.records]
    assert any("10 users done" in m for m in msgs) and any("finished 21 users (1 failed)" in m for m in msgs)


def test_users_by_page_number_list_what_the_cursor_lists_with_numbered_pages(make_sandbox, client_for):
    sb = make_sandbox(users=1000)
    client = client_for(sb)
    by_number = _ids(user for _, user in client.list_users_by_page_number("active"))
    pages = [r for r in api_records(sb, "GET", r"^/v2/users$") if r.query["status"] == "active"]
    assert sorted(by_number) == sorted(_ids(sb.account().users("active"))) and len(set(by_number)) == len(by_number)
    assert sorted(int(r.query["page_number"]) for r in pages) == list(range(1, math.ceil(len(by_number) / 300) + 1))
    assert not any("next_page_token" in r.query for r in pages)
