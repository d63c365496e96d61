"""The single use of "Connect Zoom account" states in the warehouse (oauth_connect_state)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from zoom_sam.warehouse.connect_state import KEEP_EXPIRED, claim, record_issued
from zoom_sam.zoom.connect_state import STATE_TTL_S, StateSigner

NOW = 1_800_000_000.0


def _issued(warehouse, now: float = NOW, conn_id: str = "zoom_acme"):
    state, _ = StateSigner("k").issue(conn_id=conn_id, alias="acme", user="airflow:admin",
                                      redirect_uri="https://a.example.com/cb", now=now)
    record_issued(warehouse.engine, state, now=now)
    return state


def test_a_state_is_claimed_once_and_only_while_it_is_good(warehouse):
    state = _issued(warehouse)
    assert claim(warehouse.engine, state, outcome="exchanged", now=NOW + 1)
    assert not claim(warehouse.engine, state, outcome="exchanged", now=NOW + 2)
    late = _issued(warehouse)
    assert not claim(warehouse.engine, late, outcome="exchanged", now=NOW + STATE_TTL_S)
    never_issued, _ = StateSigner("k").issue(conn_id="zoom_acme", alias="acme", user="airflow:admin",
                                             redirect_uri="https://a.example.com/cb", now=NOW)
    assert not claim(warehouse.engine, never_issued, outcome="exchanged", now=NOW + 1)
    [used] = [r for r in warehouse.rows("oauth_connect_state", "issued_at") if r["nonce"] == state.nonce]
    assert used["outcome"] == "exchanged" and used["used_at"] is not None


def test_two_callbacks_racing_on_one_state_claim_it_once(warehouse):
    for _ in range(5):
        state = _issued(warehouse)
        with ThreadPoolExecutor(4) as pool:
            won = list(pool.map(lambda _: claim(warehouse.engine, state, outcome="exchanged", now=NOW + 1), range(4)))
        assert won.count(True) == 1


def test_expired_states_are_forgotten_a_day_later_when_the_next_is_issued(warehouse):
    old = _issued(warehouse)
    _issued(warehouse, now=NOW + STATE_TTL_S + KEEP_EXPIRED.total_seconds())
    assert old.nonce in {r["nonce"] for r in warehouse.rows("oauth_connect_state", "issued_at")}
    _issued(warehouse, now=NOW + STATE_TTL_S + KEEP_EXPIRED.total_seconds() + 1)
    assert old.nonce not in {r["nonce"] for r in warehouse.rows("oauth_connect_state", "issued_at")}
