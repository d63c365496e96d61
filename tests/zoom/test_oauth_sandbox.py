"""Refresh-token chains against the sandbox, stored in the warehouse (SQLite and PostgreSQL).

The sandbox rotates like Zoom: every exchange returns a new refresh token and kills the old one,
so each test below would strand the chain if the client got the order, the lock or the lost
answer wrong.
"""
from __future__ import annotations

import time

import pytest
import requests
import sqlalchemy as sa
from cryptography.fernet import Fernet

from tests.support.token_chain import refresh_token_for
from zoom_sam.warehouse.token_chain import WarehouseTokenChain
from zoom_sam.zoom.token_cache import clear_token_cache
from zoom_sam.zoom.client import ZoomClient
from zoom_sam.zoom.errors import ZoomAuthError
from zoom_sam.zoom.redact import fingerprint
from zoom_sam.zoom.refresh_chain import exchange_authorization_code
from zoom_sam.zoom.token_endpoint import TokenEndpoint

from zoom_helpers import REDIRECT, _authorize, api_records, config_for, conn_of, token_records

CONN_ID = "zoom_test"


@pytest.fixture
def chain(warehouse):
    return WarehouseTokenChain(warehouse.engine, CONN_ID, Fernet(Fernet.generate_key()))


def _seed(sb, chain, **kw):
    c = conn_of(sb)
    return exchange_authorization_code(TokenEndpoint(sb.oauth_url, c["login"], c["password"]), chain,
                                       code=_authorize(sb), redirect_uri=REDIRECT, **kw)


def _client(sb, chain, *, clock=time.time, extra=None, **overrides) -> ZoomClient:
    config = config_for(sb, {"grant_type": "refresh_token", **(extra or {})}, **overrides)
    return ZoomClient(config, token_chain=chain, clock=clock)


def _expire(sb) -> None:
    """Every access token Zoom handed out expires (the client learns it from a 401)."""
    sb.clock.advance(3600 + 10)


def _exchange_elsewhere(sb, refresh_token: str) -> int:
    """Someone outside zoom-sam exchanges a refresh token (rotating it away if it worked)."""
    c = conn_of(sb)
    return requests.post(sb.oauth_url, data={"grant_type": "refresh_token", "refresh_token": refresh_token},
                         auth=(c["login"], c["password"]), timeout=5).status_code


def _stored_text(warehouse) -> str:
    with warehouse.engine.connect() as conn:
        return repr([tuple(r) for r in conn.execute(sa.text("SELECT * FROM oauth_token_chain"))])


def test_code_exchange_then_rotation_stored_encrypted_and_old_token_dead(sandbox, chain, warehouse):
    tok = _seed(sandbox, chain)
    first = chain.read()
    assert first.access.value == tok.value and first.rotations == 0
    client = _client(sandbox, chain)
    assert next(client.list_users())  # the chain's access token: no refresh yet
    assert client.stats()["token_requests"] == 0
    _expire(sandbox)
    assert list(client.list_users())  # 401 -> one refresh -> repeated
    assert client.stats()["token_requests"] == 1
    second = chain.read()
    assert second.refresh_token != first.refresh_token and second.access.value != first.access.value
    assert second.rotations == 1 and second.seed_fp is None
    assert _exchange_elsewhere(sandbox, first.refresh_token) == 400  # rotated: the old one is dead
    stored = _stored_text(warehouse)
    for secret in (first.refresh_token, second.refresh_token, first.access.value, second.access.value):
        assert secret not in stored
    # a new process (cold cache) continues the chain from the warehouse alone
    clear_token_cache()
    _expire(sandbox)
    assert next(_client(sandbox, chain).list_users())
    assert chain.read().rotations == 2


def test_new_access_token_never_used_if_the_rotated_chain_cannot_be_stored(sandbox, chain, monkeypatch):
    _seed(sandbox, chain)
    client = _client(sandbox, chain)
    next(client.list_users())
    _expire(sandbox)
    sandbox.log.clear()

    def disk_full(self, record):
        raise OSError("disk full")

    monkeypatch.setattr("zoom_sam.warehouse.token_chain._Transaction.write", disk_full)
    with pytest.raises(OSError, match="disk full"):
        list(client.list_users())
    log = list(sandbox.log)
    refresh_at = [i for i, r in enumerate(log) if r.path == "/oauth/token"]
    assert len(refresh_at) == 1 and log[refresh_at[0]].status == 200
    # after the refresh answer nothing reached the API: the unsaved token was never used
    assert [r for r in log[refresh_at[0] + 1:] if r.path.startswith("/v2")] == []


def test_seed_from_the_extra_then_the_chain_wins(sandbox, chain):
    seed = refresh_token_for(sandbox)
    client = _client(sandbox, chain, extra={"refresh_token": seed})
    assert next(client.list_users())
    assert client.stats()["token_requests"] == 1
    rec = chain.read()
    assert rec.refresh_token != seed and rec.seed_fp == fingerprint(seed) and rec.rotations == 1
    assert _exchange_elsewhere(sandbox, seed) == 400
    # the connection still carries the (now dead) seed; the chain is used, never the seed again
    clear_token_cache()
    _expire(sandbox)
    sandbox.log.clear()
    assert next(_client(sandbox, chain, extra={"refresh_token": seed}).list_users())
    assert [r.status for r in token_records(sandbox)] == [200]
    assert chain.read().rotations == 2


def test_dead_chain_fails_at_once_saying_what_to_do(sandbox, chain):
    _seed(sandbox, chain)
    rec = chain.read()
    assert _exchange_elsewhere(sandbox, rec.refresh_token) == 200  # the chain's token is rotated away
    clear_token_cache()
    _expire(sandbox)
    sandbox.log.clear()
    with pytest.raises(ZoomAuthError) as ei:
        next(_client(sandbox, chain).list_users())
    err = ei.value
    assert err.reauthorize and not err.retryable and err.status == 400
    text = str(err)
    assert f"Zoom refused the refresh token from the stored chain of connection '{CONN_ID}'" in text
    assert "The chain is dead" in text
    assert f"put the new refresh token in the `refresh_token` extra of connection '{CONN_ID}'" in text
    assert f"ZoomHook('{CONN_ID}').seed_from_authorization_code(code, redirect_uri)" in text
    assert rec.refresh_token not in text
    assert [r.status for r in token_records(sandbox)] == [400]  # refused once, never asked again
    assert [r.status for r in api_records(sandbox)] == [401]  # only the expired token's call


def test_a_new_refresh_token_in_the_extra_replaces_a_dead_chain(sandbox, chain):
    _seed(sandbox, chain)
    assert _exchange_elsewhere(sandbox, chain.read().refresh_token) == 200
    clear_token_cache()
    _expire(sandbox)
    reauthorized = refresh_token_for(sandbox)
    sandbox.log.clear()
    client = _client(sandbox, chain, extra={"refresh_token": reauthorized})
    assert next(client.list_users())
    assert [r.status for r in token_records(sandbox)] == [400, 200]  # the dead chain, then the new token
    rec = chain.read()
    assert rec.seed_fp == fingerprint(reauthorized) and rec.rotations == 1


def test_a_wrong_client_secret_leaves_the_chain_alive(sandbox, chain):
    _seed(sandbox, chain)
    clear_token_cache()
    _expire(sandbox)
    with pytest.raises(ZoomAuthError) as ei:
        next(_client(sandbox, chain, client_secret="not-the-secret").list_users())
    err = ei.value
    assert err.status == 401 and not err.reauthorize and not err.retryable
    assert "correct the connection's login and password" in str(err) and "not-the-secret" not in str(err)
    clear_token_cache()
    assert next(_client(sandbox, chain).list_users())  # Zoom refused the client, not the chain
    assert chain.read().rotations == 1


def test_a_chain_issued_to_another_app_is_refused(sandbox, chain):
    _seed(sandbox, chain)
    clear_token_cache()
    sandbox.log.clear()
    with pytest.raises(ZoomAuthError) as ei:
        _client(sandbox, chain, client_id="another-app").token()
    text = str(ei.value)
    assert f"stored for Zoom connection '{CONN_ID}' was issued to client id 'sandbox-client'" in text
    assert "now names client id 'another-app'" in text and "`refresh_token` extra" in text
    assert not ei.value.retryable
    assert list(sandbox.log) == []  # neither the chain's access token nor its refresh token was used


def test_no_chain_and_nothing_to_start_one(sandbox, chain):
    with pytest.raises(ZoomAuthError, match=f"no refresh-token chain is stored for Zoom connection '{CONN_ID}'"):
        _client(sandbox, chain).token()
    assert list(sandbox.log) == [] and chain.read() is None


def test_a_lost_answer_is_sent_once_more_with_the_same_token(sandbox, chain):
    """The connection drops before Zoom acted: the resend with the same token continues the chain."""
    _seed(sandbox, chain)
    client = _client(sandbox, chain)
    next(client.list_users())
    _expire(sandbox)
    sandbox.log.clear()
    sandbox.faults.add("drop", path="^/oauth/token$", count=1)
    assert list(client.list_users())
    assert [r.status for r in token_records(sandbox)] == [None, 200]
    rec = chain.read()
    assert rec.rotations == 1 and rec.exchange_lost_at is None


def test_a_garbled_refresh_answer_counts_as_lost(sandbox, chain):
    """A 200 without a usable token (a proxy garbled it) after Zoom rotated: the one resend of the
    old token is refused, and that is the rotation lost, never a chain quietly kept."""
    _seed(sandbox, chain)
    client = _client(sandbox, chain)
    next(client.list_users())
    _expire(sandbox)
    sandbox.log.clear()
    sandbox.faults.add("malformed", path="^/oauth/token$", shape="null", count=1)
    with pytest.raises(ZoomAuthError) as ei:
        list(client.list_users())
    assert [r.status for r in token_records(sandbox)] == [200, 400]
    assert ei.value.reauthorize and not ei.value.retryable and "(rotation lost)" in str(ei.value)


def test_rotation_lost_when_zoom_rotated_but_the_answer_never_came(sandbox, chain):
    """Zoom rotates, its answer comes after the client gave up: the resend of the old token is
    refused, and that is reported as the rotation lost, with what to do."""
    _seed(sandbox, chain)
    client = _client(sandbox, chain, timeout=0.5)
    next(client.list_users())
    _expire(sandbox)
    sandbox.log.clear()
    sandbox.faults.add("slow", path="^/oauth/token$", delay_s=2.0, count=1)
    with pytest.raises(ZoomAuthError) as ei:
        list(client.list_users())
    assert [r.status for r in token_records(sandbox)] == [200, 400]
    err = ei.value
    assert err.reauthorize and not err.retryable and "(rotation lost)" in str(err)
    assert "`refresh_token` extra of connection" in str(err)


@pytest.mark.parametrize("fault,zoom_acted", [("drop", False), ("slow", True)])
def test_two_lost_answers_keep_the_token_and_the_next_attempt_tells(sandbox, chain, fault, zoom_acted):
    _seed(sandbox, chain)
    client = _client(sandbox, chain, timeout=0.5)
    next(client.list_users())
    before = chain.read()
    _expire(sandbox)
    sandbox.faults.add(fault, path="^/oauth/token$", count=2, **({"delay_s": 1.5} if fault == "slow" else {}))
    with pytest.raises(ZoomAuthError) as ei:
        list(client.list_users())
    err = ei.value
    assert err.retryable and err.answer_lost and not err.reauthorize  # Airflow's retry may try again
    assert "the token is kept" in str(err)
    marked = chain.read()
    assert marked.refresh_token == before.refresh_token and marked.exchange_lost_at is not None
    if zoom_acted:  # Zoom rotated on the first request: the next attempt says the rotation was lost
        with pytest.raises(ZoomAuthError, match=r"lost its answer, so Zoom rotated it then .*\(rotation lost\)"):
            list(client.list_users())
    else:  # Zoom never saw them: the next attempt continues the chain
        assert list(client.list_users())
        after = chain.read()
        assert after.rotations == 1 and after.exchange_lost_at is None


def _many_calls_with_short_tokens(sb, client) -> int:
    """190 calls half a second apart (95 s of sandbox time); returns the tokens Zoom handed out."""
    uid = next(u["id"] for u in sb.account().users("active"))
    for _ in range(190):
        client.get_user_settings(uid)
        sb.clock.advance(0.5)
    assert client.stats()["calls"]["Medium"] == 190
    assert 401 not in {r.status for r in api_records(sb)}  # no call went out with an expired token
    return len(token_records(sb))


# Tokens that live 20 s are renewed 2 s before they expire (a tenth of their life), so one serves
# 36 calls and six serve all 190. A fixed 60 s margin asked for a token before every call.

def test_short_lived_tokens_serve_many_calls(make_sandbox):
    sb = make_sandbox(token_ttl_s=20)
    client = ZoomClient(config_for(sb), clock=sb.clock.time)
    assert _many_calls_with_short_tokens(sb, client) == 6


def test_short_lived_tokens_of_a_chain_serve_many_calls(make_sandbox, warehouse):
    sb = make_sandbox(token_ttl_s=20)
    chain = WarehouseTokenChain(warehouse.engine, CONN_ID, Fernet(Fernet.generate_key()))
    _seed(sb, chain, clock=sb.clock.time)  # the first of the six tokens
    client = _client(sb, chain, clock=sb.clock.time)
    assert _many_calls_with_short_tokens(sb, client) == 6
    assert chain.read().rotations == 5
