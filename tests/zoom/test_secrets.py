"""Secrets (client secret, access tokens, refresh tokens) never reach logs, exceptions or reprs."""
from __future__ import annotations

import logging
from dataclasses import replace

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from zoom_sam.warehouse.engine import engine_for_url
from zoom_sam.warehouse.migrate import ensure_schema
from zoom_sam.warehouse.token_chain import WarehouseTokenChain
from zoom_sam.zoom.token_cache import clear_token_cache
from zoom_sam.zoom.client import ZoomClient
from zoom_sam.zoom.errors import ZoomError
from zoom_sam.zoom.refresh_chain import exchange_authorization_code
from zoom_sam.zoom.token_endpoint import TokenEndpoint

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

    # refresh-token grant with rotation, then a dead refresh token; the chain in a warehouse
    chain = WarehouseTokenChain(engine_for_url(f"sqlite:///{tmp_path / 'wh.db'}"), "zoom_rt", Fernet(Fernet.generate_key()))
    ensure_schema(chain.engine)
    rt_cfg = config_for(sb, {"grant_type": "refresh_token"})
    c = conn_of(sb)
    exchange_authorization_code(TokenEndpoint(sb.oauth_url, c["login"], c["password"]), chain, code=_authorize(sb),
                                redirect_uri=REDIRECT, mask=masked)
    rt_client = ZoomClient(rt_cfg, token_chain=chain, mask=masked)
    next(rt_client.list_users())
    sb.clock.advance(3700)
    next(rt_client.list_users())  # rotates
    rec = chain.read()
    secrets |= {rec.refresh_token, rec.access.value}
    texts += [repr(rec), repr(rt_client), repr(rt_client.auth), repr(chain)]
    with chain.engine.connect() as conn:
        texts.append(repr(conn.execute(sa.text("SELECT * FROM oauth_token_chain")).all()))
    clear_token_cache()
    sb.clock.advance(3700)
    with chain.locked() as txn:
        txn.write(replace(rec, refresh_token=rec.refresh_token + "x"))
    with pytest.raises(ZoomError) as ei:
        next(ZoomClient(rt_cfg, token_chain=chain, mask=masked).list_users())
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
