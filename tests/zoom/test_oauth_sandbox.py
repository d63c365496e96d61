"""Authorization-code and rotating refresh-token flows against the sandbox."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import requests

from zoom_sam.zoom.auth import (
    FileRefreshTokenStore,
    MemoryRefreshTokenStore,
    StoredTokens,
    clear_token_cache,
    exchange_authorization_code,
)
from zoom_sam.zoom.client import ZoomClient
from zoom_sam.zoom.errors import ZoomAuthError

from zoom_helpers import REDIRECT, _authorize, api_records, config_for, conn_of, token_records

PLUGINS = str(Path(__file__).resolve().parents[2] / "plugins")


def _exchange(sb, store, key):
    c = conn_of(sb)
    return exchange_authorization_code(code=_authorize(sb), redirect_uri=REDIRECT, client_id=c["login"],
                                       client_secret=c["password"], store=store, key=key,
                                       oauth_url=sb.oauth_url)


def _refresh_client(sb, store, **kw) -> ZoomClient:
    cfg = config_for(sb, {"grant_type": "refresh_token", **kw.pop("extra", {})}, **kw)
    return ZoomClient(cfg, token_store=store)


def _old_token_is_dead(sb, refresh_token: str) -> bool:
    c = conn_of(sb)
    resp = requests.post(sb.oauth_url, data={"grant_type": "refresh_token", "refresh_token": refresh_token},
                         auth=(c["login"], c["password"]), timeout=5)
    return resp.status_code == 400 and "Invalid Token" in resp.text


def test_code_exchange_then_rotation_persisted_and_old_token_dead(sandbox, tmp_path):
    store = FileRefreshTokenStore(tmp_path)
    cfg = config_for(sandbox, {"grant_type": "refresh_token"})
    tok = _exchange(sandbox, store, cfg.store_key)
    first = store.load(cfg.store_key)
    assert first.access_token == tok.value and first.refresh_token
    client = _refresh_client(sandbox, store)
    assert next(client.list_users())  # uses the stored access token: no refresh yet
    assert client.stats()["token_requests"] == 0
    sandbox.clock.advance(3600 + 10)  # the access token expires at Zoom
    assert len(list(client.list_users())) > 0  # 401 -> one refresh -> repeated
    assert client.stats()["token_requests"] == 1
    second = store.load(cfg.store_key)
    assert second.refresh_token != first.refresh_token  # rotated and persisted
    assert second.access_token != first.access_token
    assert _old_token_is_dead(sandbox, first.refresh_token)
    # a new process (cold cache) continues the chain from the store alone
    clear_token_cache()
    store.save(cfg.store_key, StoredTokens(second.refresh_token, None, 0, second.scope, seed_fp=second.seed_fp))
    again = _refresh_client(sandbox, store)
    assert next(again.list_users())
    assert store.load(cfg.store_key).refresh_token not in (first.refresh_token, second.refresh_token)


class _FailingStore(MemoryRefreshTokenStore):
    def save(self, key, tokens):
        if getattr(self, "armed", False):
            raise OSError("disk full")
        super().save(key, tokens)


def test_new_access_token_never_used_if_rotated_token_cannot_be_persisted(sandbox):
    store = _FailingStore()
    cfg = config_for(sandbox, {"grant_type": "refresh_token"})
    _exchange(sandbox, store, cfg.store_key)
    client = _refresh_client(sandbox, store)
    next(client.list_users())
    sandbox.clock.advance(3600 + 10)
    store.armed = True
    sandbox.log.clear()
    with pytest.raises(OSError, match="disk full"):
        list(client.list_users())
    refresh_at = [i for i, r in enumerate(sandbox.log) if r.path == "/oauth/token"]
    assert len(refresh_at) == 1 and [r.status for r in token_records(sandbox)] == [200]
    # after the refresh answer nothing reached the API: the unsaved token was never used
    assert [r for r in list(sandbox.log)[refresh_at[0] + 1:] if r.path.startswith("/v2")] == []


def test_seed_from_connection_extra_then_store_wins(sandbox, tmp_path):
    seed_store = MemoryRefreshTokenStore()
    _exchange(sandbox, seed_store, "seed")
    seed_rt = seed_store.load("seed").refresh_token
    store = FileRefreshTokenStore(tmp_path)
    clear_token_cache()
    client = _refresh_client(sandbox, store, extra={"refresh_token": seed_rt})
    assert next(client.list_users())
    assert client.stats()["token_requests"] == 1
    rec = store.load(client.config.store_key)
    assert rec.refresh_token != seed_rt and _old_token_is_dead(sandbox, seed_rt)
    # the connection still carries the (now dead) seed; the store's token is used, not the seed
    clear_token_cache()
    store.save(client.config.store_key, StoredTokens(rec.refresh_token, None, 0, rec.scope, seed_fp=rec.seed_fp))
    client2 = _refresh_client(sandbox, store, extra={"refresh_token": seed_rt})
    assert next(client2.list_users())


def test_dead_refresh_token_asks_for_reauthorization(sandbox, tmp_path):
    store = FileRefreshTokenStore(tmp_path)
    cfg = config_for(sandbox, {"grant_type": "refresh_token"})
    _exchange(sandbox, store, cfg.store_key)
    rec = store.load(cfg.store_key)
    # someone else refreshes with it and loses the answer: the stored token is rotated away
    assert not _old_token_is_dead(sandbox, rec.refresh_token)
    assert _old_token_is_dead(sandbox, rec.refresh_token)
    clear_token_cache()
    store.save(cfg.store_key, StoredTokens(rec.refresh_token, None, 0, rec.scope))
    client = _refresh_client(sandbox, store)
    with pytest.raises(ZoomAuthError) as ei:
        next(client.list_users())
    err = ei.value
    assert err.reauthorize and "reauthorize" in str(err).lower() and err.status == 400
    assert rec.refresh_token not in str(err)
    assert api_records(sandbox) == []


def test_no_refresh_token_anywhere(sandbox, tmp_path):
    client = _refresh_client(sandbox, FileRefreshTokenStore(tmp_path))
    with pytest.raises(ZoomAuthError, match="no refresh token"):
        client.token()


def test_refreshes_serialised_across_processes(sandbox, tmp_path):
    """Four processes start at once with an expired stored access token. Exactly one refreshes;
    the others wait on the store's lock and reuse its new access token. Without the lock the
    losers would present a rotated-away refresh token and fail."""
    store = FileRefreshTokenStore(tmp_path)
    cfg = config_for(sandbox, {"grant_type": "refresh_token"})
    _exchange(sandbox, store, cfg.store_key)
    rec = store.load(cfg.store_key)
    store.save(cfg.store_key, StoredTokens(rec.refresh_token, rec.access_token, 0, rec.scope))  # expired
    c = conn_of(sandbox)
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {PLUGINS!r})
        from zoom_sam.zoom.auth import FileRefreshTokenStore
        from zoom_sam.zoom.client import ZoomClient, ZoomConfig
        cfg = ZoomConfig(client_id={c["login"]!r}, client_secret={c["password"]!r},
                         account_id={c["extra"]["account_id"]!r}, base_url={c["host"]!r},
                         oauth_url={sandbox.oauth_url!r}, grant_type="refresh_token")
        client = ZoomClient(cfg, token_store=FileRefreshTokenStore({str(tmp_path)!r}))
        sys.stdin.readline()  # start together
        next(client.list_users())
        print(client.stats()["token_requests"])
    """)
    sandbox.log.clear()
    sandbox.faults.add("slow", path="^/oauth/token$", delay_s=0.5)  # a slow refresh: the processes overlap
    procs = [subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True) for _ in range(4)]
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], outs
    assert sorted(int(o.strip()) for o, _ in outs) == [0, 0, 0, 1]
    assert [r.status for r in token_records(sandbox)] == [200]
    assert store.load(cfg.store_key).refresh_token != rec.refresh_token
