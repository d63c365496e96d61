"""Secrets (client secret, access tokens, refresh tokens) never reach logs, exceptions or reprs."""
from __future__ import annotations

import logging

import pytest

from zoom_sam.zoom.auth import MemoryRefreshTokenStore, clear_token_cache, exchange_authorization_code
from zoom_sam.zoom.client import ZoomClient
from zoom_sam.zoom.errors import ZoomError

from zoom_helpers import REDIRECT, _authorize, config_for, conn_of


def test_no_secret_in_logs_exceptions_or_reprs(make_sandbox, caplog, capsys, tmp_path):
    caplog.set_level(logging.DEBUG)  # urllib3 and requests included
    sb = make_sandbox(users=400, rate_limits={"Medium": 5})
    secrets: set[str] = {conn_of(sb)["password"]}
    texts: list[str] = []
    masked = secrets.add  # every runtime token the client obtains is announced here (Airflow's masker)

    # Server-to-Server: paging, 401 renewal, 429s, 5xx, an uncertain write, API errors
    s2s = ZoomClient(config_for(sb, {"rate_limits": {"Medium": 100}}, max_429_retries=50, timeout=0.5),
                     mask=masked)
    uids = [u["id"] for u in s2s.list_users()][:12]
    sb.faults.add("expire_tokens", count=1)
    sb.faults.add("status", path="/settings$", status=500, count=1)
    for _, r in s2s.map_concurrent(s2s.get_user_settings, uids, max_in_flight=4):
        assert not isinstance(r, Exception)
    sb.faults.add("drop", method="PATCH", count=1)
    for call in (lambda: s2s.update_user(uids[0], {"type": 1}), lambda: s2s.get_user_settings("nobody"),
                 lambda: s2s.get_user(uids[0])):
        with pytest.raises(ZoomError) as ei:
            call()
        texts += [str(ei.value), repr(ei.value)]
    texts += [repr(s2s), repr(s2s.auth), repr(s2s.token()), repr(s2s.config), str(s2s.stats())]
    assert s2s.stats()["throttled_429"] > 0 and s2s.stats()["token_requests"] == 2

    # refresh-token grant with rotation, then a dead refresh token
    store = MemoryRefreshTokenStore()
    rt_cfg = config_for(sb, {"grant_type": "refresh_token"})
    c = conn_of(sb)
    exchange_authorization_code(code=_authorize(sb), redirect_uri=REDIRECT, client_id=c["login"],
                                client_secret=c["password"], store=store, key=rt_cfg.store_key,
                                oauth_url=sb.oauth_url, mask=masked)
    rt_client = ZoomClient(rt_cfg, token_store=store, mask=masked)
    next(rt_client.list_users())
    sb.clock.advance(3700)
    next(rt_client.list_users())  # rotates
    rec = store.load(rt_cfg.store_key)
    secrets |= {rec.refresh_token, rec.access_token}
    texts += [repr(rec), repr(rt_client), repr(rt_client.auth), repr(store)]
    clear_token_cache()
    sb.clock.advance(3700)
    store.save(rt_cfg.store_key, type(rec)(rec.refresh_token + "x", None, 0))
    with pytest.raises(ZoomError) as ei:
        next(ZoomClient(rt_cfg, token_store=store, mask=masked).list_users())
    texts += [str(ei.value), repr(ei.value)]

    # a wrong client secret
    bad = ZoomClient(config_for(sb, client_secret="definitely-wrong-secret"), mask=masked)
    with pytest.raises(ZoomError) as ei:
        bad.token()
    texts += [str(ei.value), repr(ei.value)]
    secrets.add("definitely-wrong-secret")

    secrets = {s for s in secrets if s}
    assert len(secrets) >= 6  # client secret, >= 3 access tokens, >= 2 refresh tokens
    out, err = capsys.readouterr()
    haystacks = {"log": caplog.text, "stdout": out, "stderr": err, "texts": "\n".join(texts)}
    assert caplog.records, "the client logs (retries, 429 pauses, token requests)"
    for name, hay in haystacks.items():
        leaked = [s[:6] + "..." for s in secrets if s in hay]
        assert not leaked, f"secret(s) {leaked} in {name}"
