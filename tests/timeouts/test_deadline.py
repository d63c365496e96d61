"""The run-time deadline: sized from the warehouse's snapshot and the client's limits when a task
opens its Zoom client, checked before every request. A stepping clock stands in for time passing,
so a tiny deadline stops a real download against the sandbox without any sleep."""
from __future__ import annotations

import re
from datetime import timedelta
from itertools import count

import pytest

from zoom_sam.process import GivenZoom, context_for
from tests.support.sandbox import ANCHOR
from zoom_sam.hooks.zoom import ZoomHook
from zoom_sam.operators.base import TaskZoom
from zoom_sam.profiles import Profile
from zoom_sam.subscriptions import process as download_process
from zoom_sam.timeouts.ceiling import DEFAULT_TASK_MINUTES
from zoom_sam.timeouts.deadline import GRACE_S, Deadline, DeadlineExceeded, deadline_for
from zoom_sam.timeouts.estimate import download_work, expected, reclaim_work, sweep_work
from zoom_sam.timeouts.size import AccountSize, account_size
from zoom_sam.zoom.client import ZoomConfig

pytestmark = pytest.mark.parametrize("warehouse", ["sqlite"], indirect=True)
ACME = Profile.model_validate({"alias": "acme", "zoom_conn_id": "zoom_test"})
TICK = 120.0  # seconds the stepping clock advances per reading


def land_snapshot(conn_id, warehouse, profile=ACME):
    with ZoomHook(conn_id).get_conn() as client:
        download_process.run(context_for(warehouse.engine, profile, ANCHOR, run_id="r1"), GivenZoom(client))


def test_no_deadline_before_the_first_snapshot(zoom_test, warehouse):
    config = ZoomHook(zoom_test).get_config()
    assert deadline_for(warehouse.engine, ACME, "download_subscriptions", config, download_work) is None


def test_a_tiny_deadline_stops_the_download_and_says_what_it_expected(sandbox, zoom_test, warehouse):
    land_snapshot(zoom_test, warehouse)
    size = account_size(warehouse.engine, "acme")
    landed = warehouse.rows("zoom_user", "user_id")
    ticks = count(0, TICK)
    client = ZoomHook(zoom_test).get_conn()
    client.deadline = deadline_for(warehouse.engine, ACME, "download_subscriptions", client.config, download_work,
                                   clock=lambda: next(ticks))
    allowed = int(client.deadline.budget_s // TICK)  # readings within the budget: one request each
    sent = len([r for r in sandbox.log if r.path.startswith("/v2")])

    with pytest.raises(DeadlineExceeded) as info:
        download_process.run(context_for(warehouse.engine, ACME, ANCHOR + timedelta(days=1), run_id="r2"),
                             GivenZoom(client))
    client.close()

    message = str(info.value)
    after = re.match(r"download_subscriptions stopped at its run-time deadline after (\d+) min: the deadline was "
                     r"10 min: ", message)
    assert after and int(after[1]) * 60 > client.deadline.budget_s
    assert f"3 x the {(client.deadline.budget_s - GRACE_S) / 3:.0f} s expected for" in message
    assert f"{size.users:,} users, {size.holders:,} holders" in message and "as of 2026-11-28" in message
    assert "Medium requests at" in message and "+ 10 min" in message
    assert "raise timeouts.deadline_factor in the profile" in message
    assert len([r for r in sandbox.log if r.path.startswith("/v2")]) - sent == allowed
    assert warehouse.rows("zoom_user", "user_id") == landed  # the stopped try merged nothing


def test_a_task_client_carries_its_deadline_and_shards_get_the_whole_sweeps(zoom_test, sandbox, warehouse, monkeypatch):
    land_snapshot(zoom_test, warehouse)
    monkeypatch.setenv("AIRFLOW_CONN_ZOOM_SLOW", sandbox.connection_json(rate_limits={"Medium": 20}))
    profile = ACME.model_copy(update={"zoom_conn_id": "zoom_slow"})
    whole = TaskZoom(profile, warehouse.engine, "sweep_activity", "sweep_work").client()
    half = TaskZoom(profile, warehouse.engine, "sweep_activity", "sweep_work", shards=2).client()
    # the shards share the account's limit live (activity/shared_rate.py), not by a fixed split
    assert half.config.limits["Medium"] == whole.config.limits["Medium"] == 20
    assert isinstance(whole.deadline, Deadline) and whole.deadline.task_id == "sweep_activity"
    # half the holders at about half the pace: each shard gets the whole sweep's time
    assert half.deadline.budget_s == pytest.approx(whole.deadline.budget_s, rel=0.05)  # pages round per shard
    assert whole.deadline.budget_s > GRACE_S


def test_the_default_ceiling_holds_the_deadline_of_a_100k_user_account(warehouse):
    big = AccountSize(users=100_000, holders=70_000, webinar_holders=7_000, candidates=2_000, snapshot_at=ANCHOR)
    config = ZoomConfig(client_id="c", client_secret="s", account_id="a")  # Business plan, the defaults
    for work in (download_work, sweep_work, reclaim_work):
        seconds = ACME.timeouts.deadline_factor * expected(work, big, ACME, config).seconds + GRACE_S
        assert seconds < DEFAULT_TASK_MINUTES * 60, work.__name__
    small = AccountSize(users=300, holders=100, webinar_holders=10, candidates=5, snapshot_at=ANCHOR)
    assert expected(sweep_work, small, ACME, config).seconds < expected(sweep_work, big, ACME, config).seconds / 100
