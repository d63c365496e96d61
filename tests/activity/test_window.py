"""Window planning: what one run reads, from the coverage, the as-of and the data interval."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from zoom_sam.activity.window import OVERLAP, Coverage, plan_window

D = datetime(2026, 11, 28, tzinfo=timezone.utc)
DAY = timedelta(days=1)


def plan(coverage, as_of=D, interval_start=None, history_start=D - 30 * DAY, **kw):
    return plan_window(coverage, as_of=as_of, interval_start=interval_start, history_start=history_start, **kw)


def test_first_run_reads_the_whole_history_in_one_window():
    w = plan(None, interval_start=D - DAY)
    assert (w.start, w.end, w.kind) == (D - 30 * DAY, D, "onboarding")


def test_a_gap_after_the_coverage_is_one_window_reaching_back_one_day():
    w = plan(Coverage(D - 40 * DAY, D - 5 * DAY), interval_start=D - DAY)
    assert (w.start, w.end, w.kind) == (D - 5 * DAY - OVERLAP, D, "catch_up")


def test_the_overlap_never_reaches_before_the_coverage_start():
    w = plan(Coverage(D - 12 * 3600 * timedelta(seconds=1), D - DAY), interval_start=D - DAY)
    assert w.start == D - timedelta(hours=12)


def test_a_covered_interval_is_read_again_exactly():
    w = plan(Coverage(D - 40 * DAY, D + 5 * DAY), interval_start=D - DAY)
    assert (w.start, w.end, w.kind) == (D - DAY, D, "repull")


def test_a_manual_run_inside_the_coverage_reads_the_day_before_its_as_of():
    w = plan(Coverage(D - 40 * DAY, D + 5 * DAY), interval_start=None)
    assert (w.start, w.end) == (D - DAY, D)


def test_an_as_of_before_the_history_start_reads_nothing():
    w = plan(None, as_of=D - 31 * DAY)
    assert w.is_empty and w.kind == "empty"


def test_day_precision_keeps_whole_days():
    as_of = D + timedelta(hours=3)
    w = plan(Coverage(D - 10 * DAY, D - DAY), as_of=as_of, interval_start=as_of - DAY, day_precision=True)
    assert (w.start, w.end) == (D - 2 * DAY, D)
    assert w.contains(D - DAY) and not w.contains(D)
