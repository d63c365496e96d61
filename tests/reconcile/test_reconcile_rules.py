"""Who is a removal candidate, and why: one case per rule of docs/reconcile.md.

Unless a case says otherwise: the profile has no rules (every model gets the 60-day default) and
activity is analysed from 90 days before the as-of up to the as-of.
"""
from __future__ import annotations

from datetime import timedelta

from tests.reconcile.account import AS_OF, DAY, SEAT_IDENTIFIER, open_candidate, run, table_rows, verdicts

from zoom_sam.warehouse.schema import reconcile_rule, software_subscription

SECOND = timedelta(seconds=1)
WEBINAR = "zoom_webinar_500"
LARGE = "zoom_large_meeting_500"


def test_activity_just_inside_the_threshold_keeps_the_seat_and_just_outside_makes_a_candidate(account, warehouse):
    account.covered(AS_OF - 90 * DAY)
    account.seat("inside")
    account.hosted("inside", AS_OF - 60 * DAY + SECOND)
    account.seat("exactly")
    account.hosted("exactly", AS_OF - 60 * DAY)
    account.seat("outside")
    account.hosted("outside", AS_OF - 60 * DAY - SECOND)

    run(warehouse.engine)

    assert verdicts(warehouse.engine) == {
        ("inside", SEAT_IDENTIFIER): "used",
        ("exactly", SEAT_IDENTIFIER): "candidate",
        ("outside", SEAT_IDENTIFIER): "candidate",
    }
    exactly = open_candidate(warehouse.engine, "exactly")
    assert exactly["state"] == "ready" and exactly["reason"] == "no_hosting_since"
    assert exactly["evidence"]["last_activity_at"] == "2026-09-29T00:00:00Z"
    assert exactly["evidence"]["inactive_days"] == 60
    subs = {s["user_id"]: s for s in table_rows(warehouse.engine, software_subscription)}
    assert subs["inside"]["inactive_days"] == 59
    assert subs["inside"]["last_activity_at"] == AS_OF - 60 * DAY + SECOND
    assert subs["outside"]["inactive_days"] == 60


def test_events_after_the_as_of_are_not_activity_yet(account, warehouse):
    account.covered(AS_OF - 90 * DAY, AS_OF + 5 * DAY)
    account.seat("late")
    account.hosted("late", AS_OF - 80 * DAY)
    account.hosted("late", AS_OF + DAY)

    run(warehouse.engine)

    assert open_candidate(warehouse.engine, "late")["evidence"]["last_activity_at"] == "2026-09-09T00:00:00Z"


def test_never_hosted_old_account_is_idle_since_the_start_of_the_analysed_history(account, warehouse):
    account.covered(AS_OF - 90 * DAY)
    account.seat("old")  # created 400 days ago

    run(warehouse.engine)

    candidate = open_candidate(warehouse.engine, "old")
    assert candidate["reason"] == "never_hosted"
    evidence = candidate["evidence"]
    assert evidence["last_activity_at"] is None
    assert evidence["inactive_since"] == "2026-08-30T00:00:00Z"  # coverage start, later than creation
    assert evidence["inactive_days"] == 90
    assert evidence["window"] == {"from": "2026-08-30T00:00:00Z", "to": "2026-11-28T00:00:00Z"}
    assert evidence["events_seen"] == {"meeting_hosted": 0, "webinar_hosted": 0}


def test_never_hosted_accounts_younger_than_the_threshold_are_new_not_unused(account, warehouse):
    account.covered(AS_OF - 90 * DAY)
    account.seat("young", created=AS_OF - 60 * DAY + SECOND)
    account.seat("of_age", created=AS_OF - 60 * DAY)

    summary = run(warehouse.engine)

    assert verdicts(warehouse.engine) == {
        ("young", SEAT_IDENTIFIER): "new_account",
        ("of_age", SEAT_IDENTIFIER): "candidate",
    }
    assert open_candidate(warehouse.engine, "of_age")["evidence"]["inactive_since"] == "2026-09-29T00:00:00Z"
    assert summary["verdicts"]["new_account"] == 1


def test_excluded_users_and_excluded_identifiers_are_never_candidates(account, warehouse):
    account.covered(AS_OF - 90 * DAY)
    account.seat("svc", excluded=True)  # a user exclusion marks all the user's subscriptions
    account.holds("svc", WEBINAR, excluded=True)
    account.seat("host")  # an identifier exclusion: the webinar add-on only
    account.holds("host", WEBINAR, excluded=True)

    summary = run(warehouse.engine)

    assert verdicts(warehouse.engine) == {
        ("svc", SEAT_IDENTIFIER): "excluded",
        ("svc", "webinar:500"): "excluded",
        # Downgrading the idle seat would take the excluded add-on along: the seat is kept too.
        ("host", SEAT_IDENTIFIER): "kept_by_addon",
        ("host", "webinar:500"): "excluded",
    }
    assert open_candidate(warehouse.engine, "svc") is None
    assert open_candidate(warehouse.engine, "host") is None
    assert open_candidate(warehouse.engine, "host", "webinar:500") is None
    assert summary["verdicts"]["excluded"] == 3


def test_hosting_a_webinar_keeps_the_seat(account, warehouse):
    account.covered(AS_OF - 90 * DAY)
    account.seat("webinarist")
    account.hosted("webinarist", AS_OF - 5 * DAY, "webinar_hosted")

    run(warehouse.engine)

    assert verdicts(warehouse.engine) == {("webinarist", SEAT_IDENTIFIER): "used"}


def test_an_add_on_is_stale_while_the_seat_is_in_use(account, warehouse):
    account.covered(AS_OF - 90 * DAY)
    account.seat("meets")
    account.holds("meets", WEBINAR)
    account.holds("meets", LARGE)
    account.hosted("meets", AS_OF - 3 * DAY)  # meetings only: the seat and large meetings are used

    run(warehouse.engine)

    assert verdicts(warehouse.engine) == {
        ("meets", SEAT_IDENTIFIER): "used",
        ("meets", "large_meeting:500"): "used",
        ("meets", "webinar:500"): "candidate",
    }
    webinar = open_candidate(warehouse.engine, "meets", "webinar:500")
    assert webinar["reason"] == "never_hosted"
    assert webinar["evidence"]["events_seen"] == {"meeting_hosted": 1, "webinar_hosted": 0}
    assert webinar["evidence"]["rule"]["activity"] == ["webinar_hosted"]


def test_a_webinar_does_not_keep_a_large_meeting_add_on(account, warehouse):
    account.covered(AS_OF - 90 * DAY)
    account.seat("webinarist")
    account.holds("webinarist", LARGE)
    account.hosted("webinarist", AS_OF - 3 * DAY, "webinar_hosted")

    run(warehouse.engine)

    assert verdicts(warehouse.engine)[("webinarist", "large_meeting:500")] == "candidate"


def test_history_shorter_than_the_threshold_is_insufficient_not_idle(account, warehouse):
    account.covered(AS_OF - 30 * DAY)  # a 30-day onboarding backfill, a 60-day rule
    account.seat("unknown")
    account.seat("active")
    account.hosted("active", AS_OF - 10 * DAY)  # activity inside the window decides on its own
    account.seat("before")
    account.hosted("before", AS_OF - 70 * DAY)  # 70 days idle? days 60 to 30 before the as-of are unknown

    summary = run(warehouse.engine)

    assert verdicts(warehouse.engine) == {
        ("unknown", SEAT_IDENTIFIER): "insufficient_history",
        ("active", SEAT_IDENTIFIER): "used",
        ("before", SEAT_IDENTIFIER): "insufficient_history",
    }
    assert summary["insufficient_history"] == 2
    assert open_candidate(warehouse.engine, "unknown") is None


def test_a_thirty_day_backfill_lets_a_thirty_day_rule_judge_on_the_first_run(account, warehouse):
    account.rule(0, "zoom_meetings_*", 30)
    account.covered(AS_OF - 30 * DAY)
    account.seat("unused")

    run(warehouse.engine)

    candidate = open_candidate(warehouse.engine, "unused")
    assert candidate["reason"] == "never_hosted" and candidate["threshold_days"] == 30


def test_coverage_ending_before_the_as_of_or_absent_is_insufficient(account, warehouse):
    account.covered(AS_OF - 90 * DAY, AS_OF - DAY)  # yesterday's pull did not complete
    account.seat("idle")

    assert run(warehouse.engine)["insufficient_history"] == 1

    with warehouse.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM activity_coverage")  # download_activity: false
    assert run(warehouse.engine)["insufficient_history"] == 1
    assert verdicts(warehouse.engine) == {("idle", SEAT_IDENTIFIER): "insufficient_history"}


def test_several_coverage_sources_count_only_where_all_are_complete(account, warehouse):
    account.covered(AS_OF - 90 * DAY, source="user_meetings")
    account.covered(AS_OF - 40 * DAY, source="user_webinars")
    account.seat("idle")

    assert run(warehouse.engine)["insufficient_history"] == 1


def test_pending_invitations_holding_a_seat_are_idle_since_their_invitation(account, warehouse):
    # No activity coverage at all: an invitation cannot host, so history does not matter.
    account.user("stale@example.com", created=AS_OF - 75 * DAY, status="pending")
    account.holds("stale@example.com", user_status="pending")
    account.user("fresh@example.com", created=AS_OF - 10 * DAY, status="pending")
    account.holds("fresh@example.com", user_status="pending")

    run(warehouse.engine)

    assert verdicts(warehouse.engine) == {
        ("stale@example.com", SEAT_IDENTIFIER): "candidate",
        ("fresh@example.com", SEAT_IDENTIFIER): "new_account",
    }
    candidate = open_candidate(warehouse.engine, "stale@example.com")
    assert candidate["reason"] == "pending_invitation"
    assert candidate["evidence"]["inactive_since"] == "2026-09-14T00:00:00Z"
    assert candidate["evidence"]["user_status"] == "pending"


def test_rules_apply_in_order_and_unmatched_models_get_the_recorded_default(account, warehouse):
    account.rule(0, "zoom_webinar_*", 30, disassociate=False)
    account.rule(1, "zoom_*", 90, disassociate=True)
    account.covered(AS_OF - 120 * DAY)
    account.seat("u")
    account.holds("u", WEBINAR)
    account.hosted("u", AS_OF - 45 * DAY)
    account.hosted("u", AS_OF - 45 * DAY, "webinar_hosted")
    account.entitled("zoom_phone_pro", 3, "100.00")  # no rule matches it

    run(warehouse.engine)

    assert verdicts(warehouse.engine) == {("u", SEAT_IDENTIFIER): "used", ("u", "webinar:500"): "candidate"}
    applied = {r["software_model"]: r for r in table_rows(warehouse.engine, reconcile_rule)}
    assert {m: (r["last_activity_threshold_days"], r["source"], r["rule_index"]) for m, r in applied.items()} == {
        "zoom_meetings_licensed": (90, "profile", 1),
        WEBINAR: (30, "profile", 0),
        "zoom_phone_pro": (90, "profile", 1),
    }
    assert open_candidate(warehouse.engine, "u", "webinar:500")["evidence"]["rule"] == {
        "rule_index": 0, "pattern": "zoom_webinar_*", "source": "profile",
        "disassociate_pending_invitations": False, "activity": ["webinar_hosted"],
    }


def test_a_model_without_a_rule_gets_sixty_days_recorded_as_default(account, warehouse):
    account.covered(AS_OF - 90 * DAY)
    account.seat("u")

    run(warehouse.engine)

    rule = open_candidate(warehouse.engine, "u")["evidence"]["rule"]
    assert rule["source"] == "default" and rule["pattern"] == "zoom_meetings_licensed"
    assert open_candidate(warehouse.engine, "u")["threshold_days"] == 60
