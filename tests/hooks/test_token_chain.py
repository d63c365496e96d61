"""A Zoom connection's refresh-token chain through ZoomHook: one chain per connection, kept in the
warehouse (SQLite, then PostgreSQL), shared by the connection test and every worker process, and
rotated exactly once per need.
"""
from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
import requests
import sqlalchemy as sa
import yaml
from airflow.sdk import DAG
from airflow.sdk.exceptions import AirflowFailException

from tests.support.token_chain import (
    APP_ID,
    APP_SECRET,
    REDIRECT,
    code_for,
    refresh_connection,
    refresh_token_for,
    token_records,
)
from zoom_sam.hooks.zoom import ZoomHook
from zoom_sam.operators.download_subscriptions import DownloadSubscriptionsOperator
from zoom_sam.zoom.errors import ZoomAuthError
from zoom_sam.zoom.redact import fingerprint

CONN_A, CONN_B = "zoom_acct_a", "zoom_acct_b"
AS_OF = datetime(2026, 11, 28, tzinfo=timezone.utc)


def _connect(monkeypatch, sb, conn_id: str, account_id: str, **extra) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", refresh_connection(sb, account_id, **extra))


def _active_ids(sb, account_id: str) -> list[str]:
    return sorted(u["id"] for u in sb.account(account_id).users("active"))


def _listed(conn_id: str) -> list[str]:
    return sorted(u["id"] for u in ZoomHook(zoom_conn_id=conn_id).get_conn().list_users())


def _expire(sb) -> None:
    """Every access token Zoom handed out expires; clients learn it from a 401."""
    sb.clock.advance(3600 + 10)


def _chains(warehouse) -> dict[str, dict]:
    with warehouse.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM oauth_token_chain ORDER BY conn_id")).mappings().all()
    return {r["conn_id"]: dict(r) for r in rows}


def test_two_connections_of_one_app_each_list_their_own_account(shared_app, chain_warehouse, monkeypatch):
    """Both connections name the same app and no account id: only their ids tell them apart, and
    each reaches the account whose admin authorized it, before and after its chain rotated."""
    sb = shared_app
    _connect(monkeypatch, sb, CONN_A, "acct-a")
    _connect(monkeypatch, sb, CONN_B, "acct-b")
    ZoomHook(zoom_conn_id=CONN_A).seed_from_authorization_code(code_for(sb, "acct-a"), REDIRECT)
    ZoomHook(zoom_conn_id=CONN_B).seed_from_authorization_code(code_for(sb, "acct-b"), REDIRECT)
    expected = {CONN_A: _active_ids(sb, "acct-a"), CONN_B: _active_ids(sb, "acct-b")}
    assert expected[CONN_A] and not set(expected[CONN_A]) & set(expected[CONN_B])
    for _ in range(2):
        for conn_id in (CONN_A, CONN_B):
            assert _listed(conn_id) == expected[conn_id]
        _expire(sb)
    chains = _chains(chain_warehouse)
    assert sorted(chains) == [CONN_A, CONN_B]
    assert [(c["client_id"], c["rotations"]) for c in chains.values()] == [(APP_ID, 1), (APP_ID, 1)]
    # a third connection of the same app has no chain: it is never served another connection's
    _connect(monkeypatch, sb, "zoom_acct_c", "acct-a")
    sb.log.clear()
    with pytest.raises(ZoomAuthError, match="no refresh-token chain is stored for Zoom connection 'zoom_acct_c'"):
        _listed("zoom_acct_c")
    assert list(sb.log) == []


def test_a_connection_test_never_starts_a_chain_the_first_task_does(shared_app, chain_warehouse, monkeypatch):
    sb = shared_app
    seed = refresh_token_for(sb, "acct-a")
    _connect(monkeypatch, sb, CONN_A, "acct-a", refresh_token=seed)
    sb.log.clear()
    ok, message = ZoomHook(zoom_conn_id=CONN_A).test_connection()
    assert not ok and f"no refresh-token chain is stored for Zoom connection '{CONN_A}'" in message
    assert "a connection test never does" in message and seed not in message
    assert token_records(sb) == []  # the refresh token in the extra is still unused
    assert _listed(CONN_A) == _active_ids(sb, "acct-a")  # a task starts the chain from it
    chain = _chains(chain_warehouse)[CONN_A]
    assert chain["seed_fingerprint"] == fingerprint(seed) and chain["rotations"] == 1
    assert seed not in repr(chain) and chain["refresh_token"].startswith("gAAAA")  # a Fernet token
    ok, message = ZoomHook(zoom_conn_id=CONN_A).test_connection()
    assert ok, message


def test_connection_test_and_a_worker_process_share_one_chain(shared_app, chain_warehouse, monkeypatch, workers):
    """The Test path (in this process) and a worker (another process) each rotate the chain once,
    and each then carries on with the token the other obtained."""
    sb = shared_app
    _connect(monkeypatch, sb, CONN_A, "acct-a")
    ZoomHook(zoom_conn_id=CONN_A).seed_from_authorization_code(code_for(sb, "acct-a"), REDIRECT)
    expected = _active_ids(sb, "acct-a")
    worker = workers(CONN_A)
    assert worker.call() == {"ok": True, "users": expected, "token_requests": 0}
    sb.log.clear()
    _expire(sb)
    assert worker.call() == {"ok": True, "users": expected, "token_requests": 1}  # the worker rotates
    ok, message = ZoomHook(zoom_conn_id=CONN_A).test_connection()  # uses the worker's new token
    assert ok, message
    _expire(sb)
    ok, message = ZoomHook(zoom_conn_id=CONN_A).test_connection()  # the test rotates
    assert ok, message
    assert worker.call() == {"ok": True, "users": expected, "token_requests": 1}  # uses the test's token
    assert [r.status for r in token_records(sb)] == [200, 200]  # two rotations, nothing refused
    assert _chains(chain_warehouse)[CONN_A]["rotations"] == 2


def test_concurrent_refreshers_in_two_processes_rotate_once_per_need(shared_app, chain_warehouse, monkeypatch,
                                                                     workers):
    """Two worker processes need a new token at the same moment, three times over. Without the
    lock both would exchange the same refresh token and the second would be refused (a stranded
    chain); with it one rotates and the other, having waited, uses the token it obtained."""
    sb = shared_app
    _connect(monkeypatch, sb, CONN_A, "acct-a")
    ZoomHook(zoom_conn_id=CONN_A).seed_from_authorization_code(code_for(sb, "acct-a"), REDIRECT)
    expected = _active_ids(sb, "acct-a")
    pair = [workers(CONN_A), workers(CONN_A)]
    for w in pair:
        assert w.call()["ok"]
    sb.log.clear()
    sb.faults.add("slow", path="^/oauth/token$", delay_s=0.3)  # the lock is held while the other arrives
    rounds = 3
    for _ in range(rounds):
        _expire(sb)
        for w in pair:
            w.send()
        outs = [w.receive() for w in pair]
        assert [(o["ok"], o["users"]) for o in outs] == [(True, expected)] * 2, outs
    assert sum(o["token_requests"] for o in outs) == rounds
    assert [r.status for r in token_records(sb)] == [200] * rounds
    assert _chains(chain_warehouse)[CONN_A]["rotations"] == rounds


def _download_task(tmp_path) -> DownloadSubscriptionsOperator:
    path = tmp_path / "acme.yaml"
    path.write_text(yaml.safe_dump({"alias": "acme", "zoom_conn_id": CONN_A, "warehouse_conn_id": "zoom_sam_warehouse"}))
    with DAG("zoom_sam__acme", schedule=None, start_date=AS_OF):
        return DownloadSubscriptionsOperator(task_id="download_subscriptions", profile_path=str(path),
                                             profile_alias="acme")


def _context() -> dict:
    return {"data_interval_end": AS_OF, "run_id": "scheduled__2026-11-28",
            "ti": SimpleNamespace(map_index=-1, try_number=1)}


def test_a_dead_chain_fails_the_task_at_once(shared_app, chain_warehouse, monkeypatch, tmp_path):
    sb = shared_app
    seed = refresh_token_for(sb, "acct-a")
    used = requests.post(sb.oauth_url, data={"grant_type": "refresh_token", "refresh_token": seed},
                         auth=(APP_ID, APP_SECRET), timeout=5)
    assert used.status_code == 200  # exchanged outside zoom-sam: the token in the extra is dead
    _connect(monkeypatch, sb, CONN_A, "acct-a", refresh_token=seed)
    sb.log.clear()
    with pytest.raises(AirflowFailException) as ei:
        _download_task(tmp_path).execute(_context())
    text = str(ei.value)
    assert f"Zoom refused the refresh token from the `refresh_token` extra of connection '{CONN_A}'" in text
    assert "The chain is dead. To reauthorize" in text and seed not in text
    assert [r.status for r in token_records(sb)] == [400]
    with chain_warehouse.engine.connect() as conn:
        status, message = conn.execute(sa.text("SELECT status, message FROM job_result")).one()
    assert status == "failed" and "To reauthorize" in message


def test_lost_answers_leave_the_task_to_airflow_retries(shared_app, chain_warehouse, monkeypatch, tmp_path):
    sb = shared_app
    _connect(monkeypatch, sb, CONN_A, "acct-a")
    ZoomHook(zoom_conn_id=CONN_A).seed_from_authorization_code(code_for(sb, "acct-a"), REDIRECT)
    _expire(sb)
    sb.faults.add("drop", path="^/oauth/token$", count=2)
    with pytest.raises(ZoomAuthError) as ei:
        _download_task(tmp_path).execute(_context())
    assert ei.value.retryable and ei.value.answer_lost
    assert _chains(chain_warehouse)[CONN_A]["exchange_lost_at"] is not None


def test_no_fernet_key_no_chain(shared_app, warehouse, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_ZOOM_SAM_WAREHOUSE", warehouse.connection_json())
    monkeypatch.setenv("AIRFLOW__CORE__FERNET_KEY", "")
    from airflow.sdk.crypto import get_fernet

    get_fernet.cache_clear()
    _connect(monkeypatch, shared_app, CONN_A, "acct-a")
    try:
        with pytest.raises(ZoomAuthError, match=r"set \[core\] fernet_key"):
            ZoomHook(zoom_conn_id=CONN_A).get_conn()
    finally:
        get_fernet.cache_clear()


def test_token_store_conn_id_names_the_warehouse(shared_app, warehouse, fernet_key, monkeypatch):
    sb = shared_app
    monkeypatch.setenv("AIRFLOW_CONN_CHAINS", warehouse.connection_json())
    _connect(monkeypatch, sb, CONN_A, "acct-a", token_store_conn_id="chains")
    ZoomHook(zoom_conn_id=CONN_A).seed_from_authorization_code(code_for(sb, "acct-a"), REDIRECT)
    assert _listed(CONN_A) == _active_ids(sb, "acct-a")
    assert list(_chains(warehouse)) == [CONN_A]
    _connect(monkeypatch, sb, CONN_B, "acct-b", token_store_conn_id="no_such_connection")
    with pytest.raises(ZoomAuthError, match="names the warehouse connection 'no_such_connection', which does not exist"):
        ZoomHook(zoom_conn_id=CONN_B).get_conn()
