"""The life of a removal candidate across reconcile runs: opened once, kept while stale, closed when
the verdict changes, never duplicated; and a run is one transaction."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.reconcile.account import AS_OF, DAY, candidates, open_candidate, run, table_rows

from zoom_sam.vocabulary import Mode
from zoom_sam.warehouse.schema import (
    license_position,
    reconcile_rule,
    removal_candidate,
    software_subscription,
    threshold_simulation,
)

NEXT = AS_OF + DAY


def _stale_account(account):
    account.covered(AS_OF - 90 * DAY, NEXT)
    account.seat("idle")
    account.hosted("idle", AS_OF - 70 * DAY)


def _set_state(engine, user_id, state):
    with engine.begin() as conn:
        conn.execute(removal_candidate.update().where(removal_candidate.c.user_id == user_id).values(state=state))


def test_rerunning_the_same_as_of_changes_nothing(account, warehouse):
    _stale_account(account)
    account.seat("never")
    account.seat("busy")
    account.hosted("busy", AS_OF - DAY)
    account.entitled("zoom_meetings_licensed", 2, "149.90")
    engine = warehouse.engine
    first = run(engine)
    tables = (removal_candidate, software_subscription, license_position, threshold_simulation, reconcile_rule)
    before = [table_rows(engine, t, exclude=("computed_at",)) for t in tables]

    second = run(engine, run_id="manual__again")

    assert second["candidates"] == {**first["candidates"], "opened": 0}
    assert second["candidates"]["refreshed"] == 0
    assert [table_rows(engine, t, exclude=("computed_at",)) for t in tables] == before


def test_a_later_run_keeps_a_still_stale_candidate_with_fresh_evidence(account, warehouse):
    _stale_account(account)
    run(warehouse.engine)
    opened = open_candidate(warehouse.engine, "idle")

    summary = run(warehouse.engine, as_of=NEXT)

    kept = open_candidate(warehouse.engine, "idle")
    assert kept["candidate_id"] == opened["candidate_id"] and kept["state"] == "ready"
    assert kept["opened_as_of"] == AS_OF and kept["evaluated_as_of"] == NEXT
    assert kept["evidence"]["inactive_days"] == 71 and kept["evidence"]["as_of"] == "2026-11-29T00:00:00Z"
    assert summary["candidates"]["refreshed"] == 1 and summary["candidates"]["opened"] == 0
    assert len(candidates(warehouse.engine)) == 1


def test_activity_returning_cancels_the_candidate(account, warehouse):
    _stale_account(account)
    run(warehouse.engine)
    account.hosted("idle", AS_OF + DAY / 2)  # hosted during the next day

    summary = run(warehouse.engine, as_of=NEXT)

    (closed,) = candidates(warehouse.engine)
    assert closed["state"] == "closed_canceled" and closed["close_reason"] == "activity_seen"
    assert closed["closed_at"] is not None and closed["evaluated_as_of"] == NEXT
    assert summary["candidates"]["closed_canceled"] == 1


def test_a_subscription_gone_or_excluded_closes_its_candidate_as_skipped(account, warehouse):
    _stale_account(account)
    account.seat("leaver")
    account.seat("vip")
    run(warehouse.engine)
    assert len(candidates(warehouse.engine)) == 3
    account.end("leaver")  # deleted, deactivated or downgraded in Zoom
    account.exclude("vip")  # an exclusion added to the profile

    summary = run(warehouse.engine, as_of=NEXT)

    closed = {c["user_id"]: (c["state"], c["close_reason"]) for c in candidates(warehouse.engine)}
    assert closed == {
        "idle": ("ready", None),
        "leaver": ("closed_skipped", "subscription_ended"),
        "vip": ("closed_skipped", "excluded"),
    }
    assert summary["candidates"]["closed_skipped"] == 2


def test_approval_mode_opens_candidates_awaiting_approval(account, warehouse):
    _stale_account(account)

    run(warehouse.engine, mode=Mode.APPROVAL)
    assert open_candidate(warehouse.engine, "idle")["state"] == "awaiting_approval"

    account.seat("later")
    run(warehouse.engine, as_of=NEXT, mode=Mode.APPROVAL)
    assert open_candidate(warehouse.engine, "idle")["state"] == "awaiting_approval"
    assert open_candidate(warehouse.engine, "later")["state"] == "awaiting_approval"


def test_a_failed_reclaim_stays_attention_required_and_is_not_reopened(account, warehouse):
    _stale_account(account)
    run(warehouse.engine)
    _set_state(warehouse.engine, "idle", "attention_required")

    summary = run(warehouse.engine, as_of=NEXT)

    (candidate,) = candidates(warehouse.engine)
    assert candidate["state"] == "attention_required" and candidate["evaluated_as_of"] == NEXT
    assert summary["candidates"]["opened"] == 0


def test_a_subscription_stale_again_after_its_candidate_closed_gets_a_new_one(account, warehouse):
    _stale_account(account)
    run(warehouse.engine)
    _set_state(warehouse.engine, "idle", "closed_skipped")  # e.g. reclaim found an upcoming meeting

    run(warehouse.engine, as_of=NEXT)

    states = sorted(c["state"] for c in candidates(warehouse.engine))
    assert states == ["closed_skipped", "ready"]


def test_an_older_as_of_after_a_newer_one_writes_history_but_leaves_candidates_alone(account, warehouse):
    _stale_account(account)
    account.entitled("zoom_meetings_licensed", 5, "10.00")
    run(warehouse.engine, as_of=NEXT)
    account.hosted("idle", AS_OF - 5 * DAY)  # an event a late pull found; the newer run has not seen it
    before = table_rows(warehouse.engine, removal_candidate)
    subscriptions = table_rows(warehouse.engine, software_subscription)

    summary = run(warehouse.engine, as_of=AS_OF - 10 * DAY)

    assert summary["superseded"] is True
    assert table_rows(warehouse.engine, removal_candidate) == before
    assert table_rows(warehouse.engine, software_subscription) == subscriptions
    assert {r["as_of"] for r in table_rows(warehouse.engine, license_position)} == {AS_OF - 10 * DAY, NEXT}


def test_a_run_that_fails_midway_writes_nothing(account, warehouse, monkeypatch):
    from zoom_sam.reconcile import process as run_module

    _stale_account(account)
    real = run_module.run_sql

    def failing(conn, name, params=None):
        if name == "reconcile/simulation":
            raise RuntimeError("killed")
        return real(conn, name, params)

    monkeypatch.setattr(run_module, "run_sql", failing)
    with pytest.raises(RuntimeError):
        run(warehouse.engine)

    assert candidates(warehouse.engine) == []
    assert table_rows(warehouse.engine, license_position) == []
    with warehouse.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(reconcile_rule)).scalar_one() == 0
        assert conn.execute(sa.select(software_subscription.c.inactive_days)).scalar_one() is None

