"""The optional host_report source against the per-user source, on the same sandbox account."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from tests.support.sandbox import ANCHOR
from zoom_sam.activity.host_report import HostReportUnavailable
from zoom_sandbox import DEFAULT_SCOPES
from zoom_sam.warehouse.engine import engine_for_url
from zoom_sam.warehouse.migrate import ensure_schema

DAY = timedelta(days=1)


def per_day(events) -> Counter:
    return Counter((user, occurred.date()) for _, _, user, occurred in events)


def test_host_report_agrees_with_the_per_user_listings(account, tmp_path):
    engine = engine_for_url(f"sqlite:///{tmp_path / 'report.db'}")
    ensure_schema(engine)
    reported = account.twin(engine)
    holders = account.holders()

    account.pull(ANCHOR)
    mark = len(account.sb.log)
    summary = reported.pull(ANCHOR, source="host_report")
    calls = reported.calls(mark)

    assert account.events("webinar_hosted") and account.events("meeting_hosted")
    assert per_day(reported.events("meeting_hosted")) == per_day(account.events("meeting_hosted"))
    assert reported.events("webinar_hosted") == account.events("webinar_hosted")
    assert summary.counts["report_days"] == 30
    assert calls[("report", "active")] == 30  # one page per day: fewer than 300 hosts a day
    assert calls[("webinars", "scheduled")] == sum(holders.values())
    assert ("meetings", "previous_meetings") not in calls
    assert reported.coverage() == account.coverage()
    engine.dispose()


def test_host_report_days_are_whole_days(make_account):
    account = make_account()
    summary = account.pull(ANCHOR + timedelta(hours=7), source="host_report")
    assert summary.report["window_end"] == ANCHOR.isoformat()
    assert all(occurred.time() == ANCHOR.time() for _, _, _, occurred in account.events("meeting_hosted"))


def test_host_report_needs_its_scope(make_account):
    account = make_account(scopes=DEFAULT_SCOPES)
    with pytest.raises(HostReportUnavailable, match="report:read:list_users:admin"):
        account.pull(ANCHOR, source="host_report")
    assert account.coverage() is None


def test_host_report_refuses_days_beyond_six_months(account):
    account.history_start = ANCHOR - 200 * DAY
    with pytest.raises(HostReportUnavailable, match="six months"):
        account.pull(ANCHOR, source="host_report")
