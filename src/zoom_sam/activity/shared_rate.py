"""The shards of one sweep share the account's rate limit: each sends at the limit divided by the
shards sending now.

Zoom's limits are per account, and the shards run in separate processes (on any worker) whose
limiters cannot see each other. A fixed ``1/n`` share wastes the limit whenever fewer than ``n``
shards are sending: one that finished early (hash shards are never exactly equal, so each ends at
its own time), one that has not started yet, or all but one when a pool or an executor runs them
one after another (the sweep would then take ``n`` times longer). Instead each shard holds a
lease row in the warehouse (``sweep_lease``), renewed every :data:`RENEW_S`, and sets its
limiters to the account's limits divided by the live leases of its sweep:

* joining, a shard writes its lease and counts the live ones in one serialised transaction. The
  first shard of a sweep finds only its own and starts at once; a later one starts as soon as
  every other live lease says its holder sends at the new share (``share_divisor``, written at
  each renewal after re-rating: a slower limiter voids the calls it had scheduled, which queue
  again), so together they never exceed the limit. Meanwhile the others keep sending at their
  old share: the limit is used in full while they take note, instead of lying three-quarters
  idle through a fixed wait (about 0.8 s of a four-shard sweep). A lease that does not say so
  within :data:`JOIN_WAIT_S` (its renewals failing, and its holder then at the safe ``1/n``) does
  not hold the joiner longer;
* leaving, the lease is dated back so that it counts for :data:`LEAVE_S` more, and the others
  take up its share at their first renewal after that: its calls of the last second still count
  in Zoom's window, and sped up at once the others would add theirs to them (measured: 21 calls
  in the second a shard left, against a limit of 20). No shard's share lies idle much longer
  than a second while another still has holders left, and the last one runs at the full limit;
* a shard killed outright stops renewing; its lease counts for :data:`STALE_S`, then the others
  take its share. When its own renewals fail, a shard falls back to the fixed ``1/n`` share,
  which is safe whatever the others do.

Leases are judged by the workers' clocks, which must agree within a second or two (NTP).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy.engine import Engine

from zoom_sam.warehouse.schema import sweep_lease
from zoom_sam.warehouse.sql import run_sql
from zoom_sam.warehouse.upsert import upsert

log = logging.getLogger(__name__)

RENEW_S = 0.5
# The longest a joining shard waits for the others to send at its share: one renewal of every other
# shard, plus the calls already on their way, plus a margin.
JOIN_WAIT_S = 1.5
# How often a joining shard looks again whether the others send at its share.
JOIN_POLL_S = 0.05
STALE_S = 5.0
# How long a departed shard's share stays reserved: Zoom's 1-second window still holds its last calls.
LEAVE_S = 1.0
FORGOTTEN_AFTER = timedelta(hours=1)  # leases of killed shards of earlier runs are purged


class SharedRate:
    """``with SharedRate(engine, limiters, limits, ...):`` runs the enclosed sweep at its live share.

    ``limiters`` and ``limits`` map each rate-limit category to the client's limiter and the
    account's requests per second.
    """

    def __init__(self, engine: Engine, limiters: Mapping[str, Any], limits: Mapping[str, float], *,
                 alias: str, run_id: str, shard: int, shards: int) -> None:
        self.engine = engine
        self.limiters = limiters
        self.limits = dict(limits)
        self.key = {"profile_alias": alias, "run_id": run_id, "shard": shard}
        self.shards = shards
        self.live: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew_until_stopped, name=f"sweep-lease-{shard}", daemon=True)

    def __enter__(self) -> SharedRate:
        self._apply(self.shards)  # the safe share until the leases say otherwise
        with self.engine.begin() as conn:
            run_sql(conn, "activity/purge_leases", {"alias": self.key["profile_alias"],
                                                    "before": _now() - FORGOTTEN_AFTER})
        self._join()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        t = sweep_lease
        counted_until = _now() - timedelta(seconds=STALE_S - LEAVE_S)
        with self.engine.begin() as conn:
            conn.execute(t.update().where(*(t.c[k] == v for k, v in self.key.items()))
                         .values(heartbeat_at=counted_until))
        self._apply(1)  # the client's limiters are the process's: leave them at the account's limits

    def _renew_until_stopped(self) -> None:
        while not self._stop.wait(RENEW_S):
            try:
                self._renew()
            except Exception as exc:  # noqa: BLE001 - a warehouse hiccup must not stop the sweep
                log.warning("sweep lease not renewed (%s: %s): falling back to 1/%d of the limits",
                            type(exc).__name__, exc, self.shards)
                self._apply(self.shards)

    def _join(self) -> None:
        """Return once the shards already sending send at this one's share (or after JOIN_WAIT_S)."""
        waited = 0.0
        while self._renew() and waited < JOIN_WAIT_S:
            self._stop.wait(JOIN_POLL_S)
            waited += JOIN_POLL_S

    def _renew(self) -> int:
        """Renew this shard's lease at the share the live ones leave it, and say so in the lease;
        returns how many other live shards still send at a larger share."""
        now = _now()
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                run_sql(conn, "activity/lock_leases", {"alias": self.key["profile_alias"]})
            others, faster = run_sql(conn, "activity/live_leases", {
                "alias": self.key["profile_alias"], "run_id": self.key["run_id"], "shard": self.key["shard"],
                "since": now - timedelta(seconds=STALE_S)}).one()
            self._apply(others + 1)
            upsert(conn, sweep_lease, [{**self.key, "heartbeat_at": now, "share_divisor": self.live}])
        return faster

    def _apply(self, live: int) -> None:
        """Re-rate the limiters when the count changed (a slower limiter voids the slots it handed out)."""
        if live == self.live:
            return
        log.info("shard %d: %d of %d shards sending; this one sends at 1/%d of the account's limits",
                 self.key["shard"] + 1, live, self.shards, live)
        self.live = live
        for category, limiter in self.limiters.items():
            limiter.set_rate(self.limits[category] / live)


def _now() -> datetime:
    return datetime.now(timezone.utc)
