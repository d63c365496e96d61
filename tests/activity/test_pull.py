"""pull_activity on a sandbox account: windows, coverage, idempotency and what counts.

The landed events are compared with the sandbox's own record of who hosted what, and the calls
with the sandbox's request log.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.sandbox import ANCHOR
from zoom_sam.activity.completion import ShardMismatch
from zoom_sam.warehouse.engine import engine_for_url
from zoom_sam.warehouse.migrate import ensure_schema

DAY = timedelta(days=1)
START = ANCHOR - 30 * DAY


def test_onboarding_gap_and_daily_increments(make_account, warehouse):
    """A 30-day onboarding gap costs one listing per holder (plus pages), not thirty; each daily
    run then reads one more day; the result is exactly what the holders hosted. SQLite and PostgreSQL."""
    acct = make_account(warehouse.engine)
    holders = acct.holders()
    webinar_holders = sum(holders.values())
    assert holders and webinar_holders, "the sandbox account must have holders and webinar holders"
    first_day = ANCHOR - 2 * DAY

    mark = len(acct.sb.log)
    summary = acct.pull(first_day)
    calls = acct.calls(mark)
    assert summary.report["window_kind"] == "onboarding"
    assert calls[("meetings", "previous_meetings")] == len(holders)  # no holder needed a second page
    assert calls[("webinars", "scheduled")] == webinar_holders
    assert set(calls) == {("meetings", "previous_meetings"), ("webinars", "scheduled")}
    assert summary.minimal == {"Medium": len(holders) + webinar_holders, "Heavy": 0}
    assert {(t, i) for t, i, _, _ in acct.events()} == acct.truth(START, first_day)
    cov = acct.coverage()
    assert (cov.covered_from, cov.covered_to) == (START, first_day)

    for as_of in (first_day + DAY, first_day + 2 * DAY):
        mark = len(acct.sb.log)
        summary = acct.pull(as_of, interval_start=as_of - DAY)
        assert summary.report["window_kind"] == "catch_up"
        assert acct.calls(mark)[("meetings", "previous_meetings")] == len(holders)
        assert {(t, i) for t, i, _, _ in acct.events()} == acct.truth(START, as_of)
        assert acct.coverage().covered_to == as_of


def test_a_sweep_killed_halfway_then_retried(make_account):
    """A sweep dying at the middle holder keeps the whole holders it landed, leaves the coverage
    alone; the retry reads everything again and duplicates nothing."""
    account = make_account(max_in_flight=1)  # one holder at a time, in user id order
    holders = sorted(account.holders())
    middle = holders[len(holders) // 2]
    account.sb.faults.add("drop", path=f"/users/{middle}/")  # every call for it dies: retries run out

    with pytest.raises(Exception, match="persisted"):
        account.sweep(ANCHOR, max_in_flight=1, batch_holders=3)
    assert account.coverage() is None
    partial = account.events()
    landed_users = {u for _, _, u, _ in partial}
    assert landed_users and landed_users <= set(holders[: len(holders) // 2])

    account.sb.faults.clear()
    account.pull(ANCHOR)
    events = account.events()
    assert {(t, i) for t, i, _, _ in events} == account.truth(START, ANCHOR)
    assert partial <= events
    assert account.event_count() == len(events)  # no duplicates
    assert account.coverage().covered_to == ANCHOR


def test_a_failing_zoom_fails_the_sweep_and_leaves_coverage(account):
    account.pull(ANCHOR - DAY)
    before = account.coverage()
    account.sb.faults.add("status", path=r"/meetings$", status=503)
    with pytest.raises(Exception, match="503"):
        account.pull(ANCHOR)
    assert account.coverage() == before
    account.sb.faults.clear()
    account.pull(ANCHOR)
    assert account.coverage().covered_to == ANCHOR


def test_backfill_over_a_covered_range_changes_nothing(make_account, tmp_path):
    """Re-running covered days re-pulls them into the same rows; the result equals what the
    daily runs produced, and it equals one onboarding window over the same days."""
    daily = make_account(users=50)
    days = [ANCHOR - 6 * DAY + i * DAY for i in range(7)]
    daily.history_start = days[0] - DAY
    for as_of in days:
        daily.pull(as_of, interval_start=as_of - DAY)
    after_daily = daily.events()
    coverage = daily.coverage()

    for as_of in days[1:5]:  # airflow backfill create over covered intervals
        summary = daily.pull(as_of, interval_start=as_of - DAY)
        assert summary.report["window_kind"] == "repull"
    assert daily.events() == after_daily
    assert daily.event_count() == len(after_daily)
    assert daily.coverage() == coverage

    other = engine_for_url(f"sqlite:///{tmp_path / 'onboarding.db'}")
    ensure_schema(other)
    once = make_account(other, users=50)
    once.history_start = days[0] - DAY
    once.pull(days[-1])
    assert once.events() == after_daily
    other.dispose()


def test_a_holder_deleted_in_zoom_mid_sweep_is_recorded_not_fatal(account):
    """Deleted after the download listed it: Zoom answers 404 / 1001 to the sweep's call."""
    holders = sorted(account.holders())
    victim = holders[len(holders) // 2]
    account.sb.account().delete_user(victim)

    result = account.sweep(ANCHOR)
    assert result["counts"]["holders_not_found"] == 1
    assert result["counts"]["holders_not_found_ids"] == [victim]
    assert result["counts"]["holders_done"] == len(holders)
    summary = account.complete([result])
    assert summary.counts["holders_not_found"] == 1
    assert account.coverage().covered_to == ANCHOR


def test_events_outside_the_window_or_after_the_as_of_are_ignored(account):
    """The server ignores from/to and the sweep runs days after its as-of: only hosting that
    started inside the window counts."""
    as_of = ANCHOR - 5 * DAY
    account.sb.faults.add("ignore_window", path=r"/meetings$")
    summary = account.pull(as_of)
    assert summary.counts["dropped_outside_window"] > 0
    landed = account.events()
    assert {(t, i) for t, i, _, _ in landed} == account.truth(START, as_of)
    assert all(START <= occurred < as_of for _, _, _, occurred in landed)


def test_webinars_count_for_the_seat_and_the_add_on(account):
    """A webinar hosted by an add-on holder lands as webinar_hosted for that user."""
    webinar_holder = next(u for u, w in sorted(account.holders().items()) if w)
    hosted = account.sb.account().add_meeting(webinar_holder, ANCHOR - 3 * DAY, webinar=True)
    account.pull(ANCHOR)
    webinars = account.events("webinar_hosted")
    assert ("webinar_hosted", hosted["uuid"], webinar_holder, ANCHOR - 3 * DAY) in webinars
    assert hosted["uuid"] not in {i for _, i, _, _ in account.events("meeting_hosted")}


def test_the_sweep_makes_exactly_the_minimal_calls(account):
    """One history listing per holder and one webinar listing per webinar holder, nothing else: an
    idle holder's upcoming meeting is not read (reclaim reads it right before a write), and the
    shard's minimum matches the calls its client made."""
    account.pull(ANCHOR - DAY)
    idle = sorted(set(account.holders()) - {u for _, _, u, _ in account.events()})[0]
    planned = account.sb.account().add_meeting(idle, ANCHOR + 3 * DAY)
    holders = account.holders()

    mark = len(account.sb.log)
    result = account.sweep(ANCHOR, interval_start=ANCHOR - DAY)

    assert account.calls(mark) == {("meetings", "previous_meetings"): len(holders),
                                   ("webinars", "scheduled"): sum(holders.values())}
    assert result["minimal"]["Medium"] == result["api"]["calls"]["Medium"] == len(holders) + sum(holders.values())
    assert planned["uuid"] not in {i for _, i, _, _ in account.events()}


def test_a_listing_longer_than_a_page_needs_its_pages(make_account):
    """A holder with more hosted meetings than a page holds: the extra pages are needed calls."""
    account = make_account(page_size=2)
    busy = max(account.holders(), key=lambda u: len(account.sb.account().hosted_uuids(u, START, ANCHOR, kind="meetings")))
    hosted = len(account.sb.account().hosted_uuids(busy, START, ANCHOR, kind="meetings"))
    assert hosted > 2, "the sandbox account must have a holder with several meetings"

    result = account.sweep(ANCHOR)

    assert result["minimal"]["Medium"] == result["api"]["calls"]["Medium"] > len(account.holders())


def test_retention_purges_old_events_and_coverage_follows(account):
    account.pull(ANCHOR)
    assert any(t < ANCHOR - 10 * DAY for _, _, _, t in account.events())
    summary = account.pull(ANCHOR + DAY, retention_days=10)
    assert summary.report["events_purged"] > 0
    assert all(t >= ANCHOR + DAY - 10 * DAY for _, _, _, t in account.events())
    assert account.coverage().covered_from == ANCHOR + DAY - 10 * DAY


def test_shards_split_the_holders_and_together_equal_one_sweep(account):
    results = [account.sweep(ANCHOR, shard=i, shards=3) for i in range(3)]
    assert sum(r["counts"]["holders"] for r in results) == len(account.holders())
    assert all(r["counts"]["holders"] for r in results)
    with pytest.raises(ShardMismatch):
        account.complete(results[:2])
    assert account.coverage() is None
    account.complete(results)
    assert {(t, i) for t, i, _, _ in account.events()} == account.truth(START, ANCHOR)
    assert account.coverage().covered_to == ANCHOR


def test_a_backfill_run_backwards_extends_the_history(account):
    account.pull(ANCHOR)
    for as_of in (START, START - DAY):  # --run-backwards: each run touches the coverage start
        summary = account.pull(as_of, interval_start=as_of - DAY)
        assert summary.report["covered_from"] == (as_of - DAY).isoformat()
    assert {(t, i) for t, i, _, _ in account.events()} == account.truth(START - 2 * DAY, ANCHOR)
    assert account.coverage().covered_to == ANCHOR


def test_a_new_holder_is_read_once_from_the_history_start(make_account):
    """Upgraded to Licensed after the last sweep: its earlier hosting (as a Basic user) is read in the
    same one listing the daily run makes for it anyway, so its last activity is right from day one."""
    acct = make_account()  # downloaded as of ANCHOR
    first_day = ANCHOR
    acct.pull(first_day)
    acct.sb.clock.advance(DAY.total_seconds())
    account = acct.sb.account()
    basic = next(u["id"] for u in account.users("active")
                 if u["type"] == 1 and account.hosted_uuids(u["id"], START, first_day, kind="meetings"))
    account.set_user_type(basic, 2)
    acct.download(first_day + DAY)

    mark = len(acct.sb.log)
    summary = acct.pull(first_day + DAY, interval_start=first_day)

    assert summary.counts["new_holders_read_from_history_start"] == 1
    assert {(t, i) for t, i, _, _ in acct.events()} == acct.truth(START, first_day + DAY)
    froms = {r.query["from"] for r in list(acct.sb.log)[mark:] if r.path == f"/v2/users/{basic}/meetings"
             and r.query.get("type") == "previous_meetings"}
    assert froms == {(START - DAY).date().isoformat()}
    assert acct.calls(mark)[("meetings", "previous_meetings")] == len(acct.holders())
