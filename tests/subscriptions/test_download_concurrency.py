"""Runs of one profile downloading at once, and profiles sharing one Zoom account: each run stages
its own snapshot, the merges take turns, and what lands equals what one run alone lands."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from tests.support.children import download_run
from tests.support.processes import CTX, run_concurrently
from zoom_sam.process import GivenZoom, context_for
from tests.support.sandbox import ANCHOR, connection_json
from zoom_sam.subscriptions import process as download_process
from zoom_sam.subscriptions.process import TASK_ID
from zoom_sam.subscriptions.merge import merge_snapshot
from zoom_sam.subscriptions.snapshot import user_row
from zoom_sam.subscriptions.staging import StageWriter, StagingSuperseded
from zoom_sam.warehouse.engine import engine_for_url
from zoom_sam.warehouse.migrate import ensure_schema
from zoom_sam.warehouse.owner import Owner
from zoom_sam.warehouse.schema import stage_run, stage_zoom_user

DAY_BEFORE = ANCHOR - timedelta(days=1)


def download(client, engine, profile, run_id, as_of=ANCHOR, try_number=1):
    ctx = context_for(engine, profile, as_of, run_id=run_id, try_number=try_number)
    download_process.run(ctx, GivenZoom(client), batch_size=40)
    return ctx.job


def landed(engine, alias) -> dict:
    """What a reader of the profile sees: users present, active subscriptions per model."""
    with engine.connect() as conn:
        present = set(conn.execute(sa.text("SELECT user_id FROM zoom_user WHERE profile_alias = :a AND present = TRUE"),
                                   {"a": alias}).scalars())
        by_model = defaultdict(set)
        for model, user, identifier in conn.execute(sa.text(
                "SELECT software_model, user_id, identifier FROM software_subscription "
                "WHERE profile_alias = :a AND active = TRUE"), {"a": alias}):
            by_model[model].add((user, identifier))
    return {"present": present, "active": dict(by_model)}


def staging_left(engine) -> dict:
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
                for t in ("stage_zoom_user", "stage_subscription", "stage_run")}


@pytest.mark.parametrize("runs", [
    pytest.param((("acme", "backfill__2026-11-27", DAY_BEFORE), ("acme", "scheduled__2026-11-28", ANCHOR)),
                 id="two-runs-of-one-profile"),
    pytest.param((("acme", "scheduled__2026-11-28", ANCHOR), ("globex", "scheduled__2026-11-28", ANCHOR)),
                 id="two-profiles-on-one-account"),
])
def test_runs_downloading_at_once_land_what_one_run_alone_lands(sandbox, client, warehouse, profile, tmp_path, runs):
    profiles = {alias: profile.model_copy(update={"alias": alias}) for alias, _, _ in runs}
    reference = engine_for_url(f"sqlite:///{tmp_path / 'one-run-alone.db'}")
    ensure_schema(reference)
    for alias, p in profiles.items():
        download(client, reference, p, "alone")
    expected = {alias: landed(reference, alias) for alias in profiles}
    reference.dispose()
    assert all(e["present"] and e["active"] for e in expected.values())

    meet = CTX.Barrier(len(runs))
    results = run_concurrently(download_run, *[
        (warehouse.url, connection_json(sandbox), profiles[alias].model_dump(mode="json"), run_id, as_of.isoformat(),
         meet) for alias, run_id, as_of in runs])

    for alias in profiles:
        assert landed(warehouse.engine, alias) == expected[alias]
    assert staging_left(warehouse.engine) == {"stage_zoom_user": 0, "stage_subscription": 0, "stage_run": 0}
    users = len(expected["acme"]["present"])
    assert [r["summary"]["users"] for r in results] == [users, users]


def test_a_retry_takes_its_run_over_and_the_try_it_replaced_can_neither_write_nor_merge(
        sandbox, client, warehouse, profile):
    first, second = list(sandbox.account().users("active"))[:2]
    stale = StageWriter(warehouse.engine, "acme", Owner("r1", TASK_ID, 1), batch_size=1)
    stale.begin()
    stale.add_user(user_row(first))  # a batch of one: written
    assert staging_left(warehouse.engine)["stage_zoom_user"] == 1

    StageWriter(warehouse.engine, "acme", Owner("r1", TASK_ID, 2)).begin()  # the retry starts
    assert staging_left(warehouse.engine)["stage_zoom_user"] == 0  # what the killed try staged is gone
    with pytest.raises(StagingSuperseded, match="now belongs to run r1, task download_subscriptions try 2, on "):
        stale.add_user(user_row(second))
    with pytest.raises(StagingSuperseded, match="not merged, the staging of this run now belongs to run r1, task "
                                                "download_subscriptions try 2"):
        merge_snapshot(warehouse.engine, profile, stale.owner, ANCHOR)
    with pytest.raises(StagingSuperseded, match="belongs to a newer try, run r1, task download_subscriptions try 2"):
        stale.begin()
    assert landed(warehouse.engine, "acme") == {"present": set(), "active": {}}

    download(client, warehouse.engine, profile, "r1", try_number=2)
    assert len(landed(warehouse.engine, "acme")["present"]) == sum(1 for _ in sandbox.account().users())


def test_staging_of_dead_runs_is_removed_and_a_live_run_keeps_its_own(client, warehouse, profile):
    now = datetime.now(timezone.utc)
    with warehouse.engine.begin() as conn:
        for run_id, renewed in (("dead", now - timedelta(hours=25)), ("live", now - timedelta(hours=1))):
            conn.execute(stage_run.insert().values(profile_alias="acme", run_id=run_id, try_number=1, owner="test",
                                                   started_at=renewed, renewed_at=renewed))
        for run_id in ("dead", "live", "orphan"):  # "orphan": staged by a try that recorded no owner
            conn.execute(stage_zoom_user.insert().values(profile_alias="acme", run_id=run_id, user_id="u1",
                                                         email="u1@example.com", user_type=1, status="active"))
        conn.execute(stage_zoom_user.insert().values(profile_alias="globex", run_id="dead", user_id="u1",
                                                     email="u1@example.com", user_type=1, status="active"))

    job = download(client, warehouse.engine, profile, "r1")

    assert job.counts["stale_staged_rows_removed"] == 2
    assert {(r["profile_alias"], r["run_id"]) for r in warehouse.rows("stage_zoom_user", "profile_alias, run_id")} \
        == {("acme", "live"), ("globex", "dead")}  # another profile's staging is its own download's business
    assert [r["run_id"] for r in warehouse.rows("stage_run", "run_id")] == ["live"]
