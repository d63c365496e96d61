"""The inactivity clock over the life of an account: a seat or add-on assigned after onboarding is
judged from when it was assigned, never from the account's creation or the history's start; an
add-on that needs the seat keeps it; one candidate per subscription and as-of."""
from __future__ import annotations

import sqlalchemy as sa

from tests.reconcile.account import AS_OF, DAY, candidates, open_candidate, positions, run, verdicts

from zoom_sam.licensing import SEAT_IDENTIFIER, SEAT_MODEL
from zoom_sam.warehouse.schema import removal_candidate

WEBINAR = "zoom_webinar_500"


def _onboarded(account):
    """90 days of complete history; a long-held idle seat pins the profile's first snapshot."""
    account.covered(AS_OF - 90 * DAY, AS_OF + 200 * DAY)
    account.seat("old_idle")


def test_a_seat_assigned_yesterday_is_not_a_candidate_today(account, warehouse):
    _onboarded(account)
    account.seat("upgraded", held_since=AS_OF - DAY)  # an old Basic account upgraded to Licensed yesterday

    run(warehouse.engine)

    assert verdicts(warehouse.engine) == {("old_idle", SEAT_IDENTIFIER): "candidate",
                                          ("upgraded", SEAT_IDENTIFIER): "new_subscription"}
    assert open_candidate(warehouse.engine, "upgraded") is None


def test_its_clock_runs_from_the_snapshot_that_first_saw_it(account, warehouse):
    _onboarded(account)
    assigned = AS_OF - DAY
    account.seat("upgraded", held_since=assigned)

    run(warehouse.engine, as_of=assigned + 59 * DAY)
    assert open_candidate(warehouse.engine, "upgraded") is None
    run(warehouse.engine, as_of=assigned + 60 * DAY)

    evidence = open_candidate(warehouse.engine, "upgraded")["evidence"]
    assert evidence["inactive_days"] == 60 and evidence["reason"] == "never_hosted"
    assert evidence["held_since"] == assigned.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert evidence["inactive_since"] == evidence["held_since"] and evidence["assigned_after_onboarding"] is True


def test_a_seat_that_came_back_starts_a_new_clock(account, warehouse):
    _onboarded(account)
    account.seat("returner", held_since=AS_OF - 2 * DAY, first_seen=AS_OF - 80 * DAY)
    run(warehouse.engine)
    assert verdicts(warehouse.engine)[("returner", SEAT_IDENTIFIER)] == "new_subscription"


def test_subscriptions_of_the_first_snapshot_are_judged_from_the_history_start(account, warehouse):
    _onboarded(account)
    run(warehouse.engine)
    evidence = open_candidate(warehouse.engine, "old_idle")["evidence"]
    assert evidence["inactive_days"] == 90 and evidence["assigned_after_onboarding"] is False


def test_an_addon_has_its_own_clock_and_keeps_its_seat(account, warehouse):
    _onboarded(account)
    account.holds("old_idle", WEBINAR, held_since=AS_OF - DAY)  # given the webinar add-on yesterday

    summary = run(warehouse.engine)

    assert verdicts(warehouse.engine) == {("old_idle", SEAT_IDENTIFIER): "kept_by_addon",
                                          ("old_idle", "webinar:500"): "new_subscription"}
    assert candidates(warehouse.engine) == []
    assert summary["verdicts"]["kept_by_addon"] == 1


def test_an_idle_addon_goes_with_its_idle_seat(account, warehouse):
    _onboarded(account)
    account.holds("old_idle", WEBINAR)
    run(warehouse.engine)
    assert verdicts(warehouse.engine) == {("old_idle", SEAT_IDENTIFIER): "candidate",
                                          ("old_idle", "webinar:500"): "candidate"}


def _close(engine, state="closed_skipped"):
    with engine.begin() as conn:
        conn.execute(removal_candidate.update().values(state=state, close_reason="upcoming meeting"))


def _figures(engine):
    return {k: v for k, v in positions(engine)[SEAT_MODEL].items() if k != "computed_at"}


def test_one_candidate_per_subscription_and_as_of(account, warehouse):
    """Reclaim skipped the candidate (an upcoming meeting): re-running the date opens none, figures
    stay; the next as-of opens a new candidate whose evidence points to the earlier one."""
    _onboarded(account)
    account.entitled(SEAT_MODEL, 10, "100.00")
    engine = warehouse.engine
    run(engine)
    _close(engine)
    run(engine)
    after_close = _figures(engine)
    run(engine)

    assert [c["state"] for c in candidates(engine)] == ["closed_skipped"]
    assert _figures(engine) == after_close
    assert after_close["reclaimable"] == 0 and after_close["potential_savings"] == 0

    run(engine, as_of=AS_OF + DAY)
    first, second = candidates(engine)
    assert second["state"] == "ready" and second["opened_as_of"] == AS_OF + DAY
    assert second["evidence"]["previous_candidate_id"] == first["candidate_id"]
    assert first["evidence"]["previous_candidate_id"] is None
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(removal_candidate)).scalar_one() == 2
