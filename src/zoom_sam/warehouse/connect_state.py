"""The single use of "Connect Zoom account" states, recorded in the warehouse (``oauth_connect_state``).

A signed state proves who issued it and until when (:mod:`zoom_sam.zoom.connect_state`); only a
record kept where every API server worker and the headless command look can prove it was not used
already. The record lives in the warehouse that holds the connection's refresh-token chain, and
is claimed compare-and-set before the authorization code is exchanged, so a replayed callback, a
double click or two workers racing on the same state exchange at most one code.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy.engine import Engine

from zoom_sam.warehouse.schema import oauth_connect_state
from zoom_sam.warehouse.sql import run_sql
from zoom_sam.zoom.connect_state import ConnectState

# Expired states are forgotten a day after, when the next one is issued: enough to tell an
# operator reading the table what happened today, and the table never grows.
KEEP_EXPIRED = timedelta(days=1)


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=timezone.utc)


def record_issued(engine: Engine, state: ConnectState, *, now: float) -> None:
    with engine.begin() as conn:
        run_sql(conn, "connect/forget_states", {"before": _at(now) - KEEP_EXPIRED})
        conn.execute(oauth_connect_state.insert().values(
            nonce=state.nonce, conn_id=state.conn_id, profile_alias=state.alias, issued_to=state.user,
            issued_at=_at(now), expires_at=_at(state.expires_at)))


def claim(engine: Engine, state: ConnectState, *, outcome: str, now: float) -> bool:
    """Use ``state`` once: True for the first caller, False when it was used, expired or never issued."""
    with engine.begin() as conn:
        claimed = run_sql(conn, "connect/claim_state", {"nonce": state.nonce, "conn_id": state.conn_id,
                                                        "outcome": outcome, "now": _at(now)})
        return claimed.rowcount == 1
