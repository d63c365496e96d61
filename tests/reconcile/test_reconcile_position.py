"""License positions: what the account owns against what it uses, per model and as-of."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from tests.reconcile.account import AS_OF, DAY, positions, run

from zoom_sam.warehouse.schema import removal_candidate

SEAT = "zoom_meetings_licensed"
WEBINAR = "zoom_webinar_500"


def test_position_arithmetic_with_true_up_over_licensing_and_exclusions(account, warehouse):
    account.covered(AS_OF - 150 * DAY)
    # Seats: 7 assigned, one of them excluded, 5 purchased -> 6 count for cost, 1 to true up.
    for user, days_ago in (("a", 1), ("b", 30), ("c", 59), ("d", 60), ("e", 100), ("f", None)):
        account.seat(user)
        if days_ago is not None:
            account.hosted(user, AS_OF - days_ago * DAY)
    account.seat("svc", excluded=True)
    account.entitled(SEAT, 5, "149.90")
    # Webinars: 1 assigned and used, 4 purchased -> 3 paid for and unassigned.
    account.holds("a", WEBINAR)
    account.hosted("a", AS_OF - 2 * DAY, "webinar_hosted")
    account.entitled(WEBINAR, 4, "690.00", "EUR")

    run(warehouse.engine)
    seat, webinar = positions(warehouse.engine)[SEAT], positions(warehouse.engine)[WEBINAR]

    assert (seat["purchased"], seat["assigned"], seat["excluded"]) == (5, 7, 1)
    assert (seat["active"], seat["stale"], seat["reclaimable"]) == (3, 3, 3)  # a, b, c used; d, e, f idle
    assert seat["active"] + seat["stale"] + seat["excluded"] == seat["assigned"]
    assert seat["threshold_days"] == 60 and seat["currency"] == "USD"
    assert seat["unit_cost"] == Decimal("149.90")
    assert seat["true_up_cost"] == Decimal("149.90")  # (7 - 1) - 5 seats
    assert seat["over_licensed_cost"] == Decimal("0.00")
    assert seat["potential_savings"] == Decimal("449.70")
    assert seat["actual_savings"] == Decimal("0.00")
    # Distribution by days since last activity; exactly 30 days falls in 30-60, the excluded one nowhere.
    assert [seat[f"dist_{b}"] for b in ("0_30", "30_60", "60_90", "90_120", "120_plus", "never")] == [1, 2, 1, 1, 0, 1]
    assert (webinar["assigned"], webinar["active"], webinar["currency"]) == (1, 1, "EUR")
    assert webinar["over_licensed_cost"] == Decimal("2070.00")
    assert webinar["true_up_cost"] == Decimal("0.00")


def test_new_accounts_and_unknown_history_are_stale_but_not_reclaimable(account, warehouse):
    account.covered(AS_OF - 40 * DAY)
    account.seat("new", created=AS_OF - 5 * DAY)
    account.seat("unknown")

    run(warehouse.engine)
    seat = positions(warehouse.engine)[SEAT]

    assert (seat["assigned"], seat["active"], seat["stale"], seat["reclaimable"]) == (2, 0, 2, 0)


def test_models_entitled_but_unheld_and_held_but_unentitled_both_get_a_row(account, warehouse):
    account.covered(AS_OF - 90 * DAY)
    account.seat("a")
    account.entitled("zoom_large_meeting_1000", 10, "50.00")

    run(warehouse.engine)
    found = positions(warehouse.engine)

    large = found["zoom_large_meeting_1000"]
    assert (large["purchased"], large["assigned"], large["reclaimable"]) == (10, 0, 0)
    assert large["over_licensed_cost"] == Decimal("500.00")
    seat = found[SEAT]
    assert (seat["purchased"], seat["assigned"], seat["unit_cost"], seat["currency"]) == (0, 1, None, None)
    assert seat["true_up_cost"] == seat["potential_savings"] == Decimal("0.00")  # the cost is unknown


def test_actual_savings_count_reclaims_of_the_year_up_to_the_as_of(account, warehouse):
    account.covered(AS_OF - 90 * DAY)
    account.seat("still")
    account.entitled(SEAT, 10, "100.00")
    with warehouse.engine.begin() as conn:
        # Dated by the as-of of the run that reclaimed them: the run ending 1 January belongs to
        # the year before.
        for user, closed in (("jan", datetime(2026, 1, 2, tzinfo=timezone.utc)),
                             ("nov", AS_OF - DAY),
                             ("last_year", datetime(2026, 1, 1, tzinfo=timezone.utc)),
                             ("after", AS_OF + DAY / 24)):
            conn.execute(removal_candidate.insert().values(
                profile_alias="acme", user_id=user, identifier="user_type:2", email=f"{user}@example.com",
                software_model=SEAT, state="closed_complete", reason="never_hosted", evidence={}, threshold_days=60,
                opened_as_of=closed, evaluated_as_of=closed, closed_at=closed, created_at=closed, updated_at=closed))

    run(warehouse.engine)
    run(warehouse.engine, as_of=datetime(2027, 1, 1, tzinfo=timezone.utc))  # closes 2026: all three of 2026

    assert positions(warehouse.engine)[SEAT]["actual_savings"] == Decimal("200.00")
    assert positions(warehouse.engine, datetime(2027, 1, 1, tzinfo=timezone.utc))[SEAT]["actual_savings"] == Decimal("300.00")


def test_positions_are_kept_per_as_of(account, warehouse):
    account.covered(AS_OF - 90 * DAY, AS_OF + 30 * DAY)
    account.seat("fading")
    account.hosted("fading", AS_OF - 50 * DAY)
    account.entitled(SEAT, 1, "10.00")

    run(warehouse.engine)
    run(warehouse.engine, as_of=AS_OF + 10 * DAY)

    assert positions(warehouse.engine)[SEAT]["active"] == 1
    later = positions(warehouse.engine, AS_OF + 10 * DAY)[SEAT]
    assert (later["active"], later["stale"], later["reclaimable"]) == (0, 1, 1)
