"""Shards of one sweep divide the account's limits by the shards sending now (their live leases).

Each test drives the leases' renewals by hand (the background renewal is parked), so what a shard
sees after each step is exact; SQLite and PostgreSQL.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from zoom_sam.activity import shared_rate
from zoom_sam.activity.shared_rate import SharedRate
from zoom_sam.warehouse.schema import sweep_lease

LIMITS = {"Medium": 60.0, "Light": 80.0}


class Limiter:
    def __init__(self) -> None:
        self.rate = None

    def set_rate(self, rate: float) -> None:
        self.rate = rate


class Clock:
    """The leases' clock, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(shared_rate, "_now", clock)
    return clock


@pytest.fixture
def shards(warehouse, monkeypatch, clock):
    """shards(n) -> n SharedRate of one sweep (not entered), each with its own limiters."""
    monkeypatch.setattr(shared_rate, "JOIN_WAIT_S", 0)  # the wait itself is timing, not tested here
    monkeypatch.setattr(shared_rate, "RENEW_S", 3600)  # renewals happen when the test says

    def make(n: int, run_id: str = "run-1") -> list[SharedRate]:
        return [SharedRate(warehouse.engine, {cat: Limiter() for cat in LIMITS}, LIMITS, alias="acme", run_id=run_id,
                           shard=i, shards=n) for i in range(n)]

    return make


def rates(share: SharedRate) -> dict[str, float]:
    return {cat: limiter.rate for cat, limiter in share.limiters.items()}


def test_a_shard_sending_alone_uses_the_whole_limit(shards):
    """The other shards have not started (or the executor runs them one after another)."""
    first, _, _ = shards(3)
    with first:
        assert rates(first) == LIMITS


def test_a_shard_joining_others_starts_at_its_share(shards):
    a, b = shards(2)
    with a, b:
        assert rates(b) == {"Medium": 30.0, "Light": 40.0}


def joining_waits(share: SharedRate, meanwhile=lambda: None) -> list[float]:
    """The pauses ``share`` makes while joining, ``meanwhile`` run in each (the others renewing)."""
    waits: list[float] = []
    real_wait = share._stop.wait

    def wait(seconds: float) -> bool:
        if seconds != shared_rate.JOIN_POLL_S:
            return real_wait(seconds)  # the renewal thread's (parked) wait
        waits.append(seconds)
        meanwhile()
        return False

    share._stop.wait = wait
    return waits


def test_a_joiner_starts_as_soon_as_the_others_send_at_its_share(shards, monkeypatch):
    """The shard already sending keeps the whole limit until it has seen the joiner, then halves;
    the joiner starts at that moment, not after a fixed wait (the limit never lies idle)."""
    monkeypatch.setattr(shared_rate, "JOIN_WAIT_S", 1.5)
    a, b = shards(2)
    with a:
        waits = joining_waits(b, meanwhile=a._renew)
        with b:
            assert waits == [shared_rate.JOIN_POLL_S]
            assert rates(a) == rates(b) == {"Medium": 30.0, "Light": 40.0}


def test_a_joiner_waits_while_another_still_sends_faster_and_no_longer_than_the_join_wait(shards, monkeypatch):
    """A shard that does not renew (its warehouse connection failing: it then sends at the safe
    1/n) holds a joiner at most JOIN_WAIT_S; shards that renew hold it only until they have (one
    poll), however many there are."""
    monkeypatch.setattr(shared_rate, "JOIN_WAIT_S", 1.0)
    a, b, c = shards(3)
    with a:  # alone: the whole limit, and it never renews again
        waits = joining_waits(b)
        with b:
            assert sum(waits) == pytest.approx(shared_rate.JOIN_WAIT_S)
            a._renew()
            assert rates(a)["Medium"] == 30.0
            waits = joining_waits(c, meanwhile=lambda: (a._renew(), b._renew()))
            with c:
                assert waits == [shared_rate.JOIN_POLL_S]
                assert [rates(s)["Medium"] for s in (a, b, c)] == [20.0, 20.0, 20.0]


def test_shards_sending_together_split_the_limit_and_the_last_one_takes_it_all(shards, clock):
    a, b, c = shards(3)
    for share in (a, b, c):
        share.__enter__()
    a._renew()
    b._renew()
    assert [rates(s)["Medium"] for s in (a, b, c)] == [20.0, 20.0, 20.0]
    c.__exit__(None, None, None)  # c ran out of holders
    clock.advance(shared_rate.LEAVE_S - 0.1)
    a._renew()
    b._renew()
    # c's calls of the last second still count in Zoom's window: its share is not taken up yet ...
    assert rates(a) == rates(b) == {"Medium": 20.0, "Light": 80.0 / 3}
    clock.advance(0.2)
    a._renew()
    b._renew()
    # ... a second after it left, it is.
    assert rates(a) == rates(b) == {"Medium": 30.0, "Light": 40.0}
    b.__exit__(None, None, None)
    clock.advance(shared_rate.LEAVE_S + 0.1)
    a._renew()
    assert rates(a) == LIMITS
    a.__exit__(None, None, None)


def test_a_killed_shard_stops_counting_once_its_lease_is_stale(shards, warehouse):
    a, b = shards(2)
    with a, b:
        a._renew()
        assert rates(a)["Medium"] == 30.0
        with warehouse.engine.begin() as conn:  # b stopped renewing
            conn.execute(sweep_lease.update().where(sweep_lease.c.shard == 1).values(
                heartbeat_at=datetime.now(timezone.utc) - timedelta(seconds=shared_rate.STALE_S + 1)))
        a._renew()
        assert rates(a) == LIMITS


def test_other_runs_do_not_count_nor_a_finished_sweep_a_second_later(shards, clock):
    (mine,), (theirs,) = shards(2)[:1], shards(2, run_id="run-2")[:1]
    with mine, theirs:
        mine._renew()
        assert rates(mine) == LIMITS
    clock.advance(shared_rate.LEAVE_S + 0.1)
    (retry,) = shards(2)[:1]  # the same shard of the same run, tried again
    with retry:
        assert rates(retry) == LIMITS


def test_a_shard_leaves_its_limiters_at_the_account_limits(shards):
    a, b = shards(2)
    with a, b:
        assert rates(b)["Medium"] == 30.0
    assert rates(b) == LIMITS
