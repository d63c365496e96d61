"""Two runs of one profile at once (a manual trigger beside the daily run), each task after task in
its own process as the scheduler would run them: the warehouse ends as one run alone leaves it."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
import yaml

from tests.support.children import pipeline_run
from tests.support.processes import CTX, run_concurrently
from tests.support.sandbox import ANCHOR, connection_json
from zoom_sam.warehouse.engine import engine_for_url
from zoom_sam.warehouse.schema import (
    activity_coverage,
    activity_event,
    license_position,
    removal_candidate,
    software_subscription,
    stage_run,
    stage_subscription,
    stage_zoom_user,
    zoom_user,
)

PROFILE = {
    "alias": "acme", "zoom_conn_id": "zoom_test", "warehouse_conn_id": "wh_test",
    "rules": [{"software_model": "*", "last_activity_threshold_days": 30}],  # judged on the first run
    "exclusions": {"users": [{"email": "svc-*@example.com"}]},
    "entitlements": [{"software_model": "zoom_meetings_licensed", "purchased": 100, "unit_cost": 149.9}],
}
# What a reader sees, read through the tables' own column types (so both back ends compare alike).
LANDED = {
    "present users": (zoom_user, ("user_id",), lambda t: t.c.present.is_(True)),
    "active subscriptions": (software_subscription, ("software_model", "user_id", "identifier"),
                             lambda t: t.c.active.is_(True)),
    "events": (activity_event, ("event_type", "event_id", "user_id"), None),
    "coverage": (activity_coverage, ("covered_from", "covered_to"), None),
    "candidates": (removal_candidate, ("user_id", "identifier", "software_model", "state", "reason"), None),
    "positions": (license_position, ("as_of", "software_model", "purchased", "assigned", "active", "stale",
                                     "excluded", "reclaimable", "potential_savings"), None),
    "staged users": (stage_zoom_user, ("run_id",), None),
    "staged subscriptions": (stage_subscription, ("run_id",), None),
    "staging owners": (stage_run, ("run_id",), None),
}
STAGING = {"staged users", "staged subscriptions", "staging owners"}


def landed(url: str) -> dict[str, set]:
    engine = engine_for_url(url)
    try:
        with engine.connect() as conn:
            out = {}
            for name, (table, columns, where) in LANDED.items():
                query = sa.select(*(table.c[c] for c in columns))
                out[name] = set(conn.execute(query if where is None else query.where(where(table))).all())
            return out
    finally:
        engine.dispose()


def test_two_runs_at_once_leave_the_warehouse_as_one_run_alone_leaves_it(sandbox, warehouse, tmp_path):
    path = tmp_path / "acme.yaml"
    path.write_text(yaml.safe_dump(PROFILE))
    zoom = connection_json(sandbox)
    alone = f"sqlite:///{tmp_path / 'one-run-alone.db'}"
    envs = {url: {"AIRFLOW_CONN_ZOOM_TEST": zoom, "AIRFLOW_CONN_WH_TEST": conn}
            for url, conn in ((alone, f'{{"conn_type": "sqlite", "host": "{tmp_path / "one-run-alone.db"}"}}'),
                              (warehouse.url, warehouse.connection_json()))}
    meet, start = CTX.Barrier(2), (ANCHOR - timedelta(days=1)).isoformat()

    # The reference run has a warehouse of its own, so it may as well run meanwhile.
    results = run_concurrently(pipeline_run, *[
        (envs[url], str(path), run_id, ANCHOR.isoformat(), start, barrier)
        for url, run_id, barrier in ((alone, "scheduled__2026-11-28", CTX.Barrier(1)),
                                     (warehouse.url, "scheduled__2026-11-28", meet),
                                     (warehouse.url, "manual__2026-11-28T06:00:00+00:00", meet))])

    expected, got = landed(alone), landed(warehouse.url)
    assert all(expected[name] for name in LANDED if name not in STAGING)
    assert not any(expected[name] for name in STAGING)
    assert any(state == "ready" for *_, state, _ in expected["candidates"])
    assert got == expected
    summaries = [r["download_subscriptions"] for r in results]
    assert {(s["users"], s["subscriptions_active"]) for s in summaries} == \
        {(len(got["present users"]), len(got["active subscriptions"]))}
