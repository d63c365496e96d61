"""Warehouse locks across processes, on SQLite (file lock) and PostgreSQL (advisory lock): a waiter
says for whom it waits, waits no longer than allowed, and a holder that dies releases the lock."""
from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from tests.support.children import hold_lock, signal_on_log
from tests.support.processes import CTX, TIMEOUT_S, start
from zoom_sam.warehouse.lock_names import COVERAGE, STATE
from zoom_sam.warehouse.locks import LockLost, LockTimeout, profile_lock
from zoom_sam.warehouse.migrate import ensure_schema
from zoom_sam.warehouse.owner import Owner
from zoom_sam.warehouse.schema import SCHEMA_VERSION, run_lock, schema_version

ME = Owner("manual__2026-11-28T06:00:00+00:00", "reconcile", 2)


def holders(warehouse) -> list[dict]:
    return warehouse.rows("run_lock", "profile_alias, lock_name", exclude=("acquired_at",))


def test_a_waiting_task_says_for_whom_and_enters_when_the_holder_leaves(warehouse, caplog):
    held, release = CTX.Event(), CTX.Event()
    holder = start(hold_lock, (warehouse.url, "acme", STATE, "scheduled__2026-11-28", held, release))
    holder.expect(held)

    caplog.set_level(logging.INFO, logger="zoom_sam.warehouse.locks")
    with signal_on_log("waiting for", release):  # the holder leaves once this task says it waits
        with profile_lock(warehouse.engine, "acme", STATE, ME, wait_s=TIMEOUT_S) as waited:
            assert [(h["run_id"], h["task_id"], h["try_number"]) for h in holders(warehouse)] == \
                [(ME.run_id, "reconcile", 2)]
    (holder_pid,) = holder.wait()

    assert waited > 0
    lines = [r.getMessage() for r in caplog.records]
    waiting = next(line for line in lines if line.startswith("waiting for"))
    assert waiting.startswith("waiting for the warehouse lock 'state' of profile acme, held by run "
                              "scheduled__2026-11-28, task holder try 1, on ")
    assert f"pid {holder_pid} since " in waiting and "giving up after 180 s (ZOOM_SAM_LOCK_WAIT_SECONDS)" in waiting
    assert any(line.startswith("holding the warehouse lock 'state' of profile acme (waited ") for line in lines)
    assert holders(warehouse) == []  # released: nobody is recorded as holding it


def test_waiting_is_bounded_and_ends_in_an_error_naming_the_holder(warehouse):
    held, release = CTX.Event(), CTX.Event()
    holder = start(hold_lock, (warehouse.url, "acme", STATE, "scheduled__2026-11-28", held, release))
    holder.expect(held)
    try:
        with pytest.raises(LockTimeout) as raised:
            with profile_lock(warehouse.engine, "acme", STATE, ME, wait_s=0.3):
                pytest.fail("entered a lock another process holds")
    finally:
        release.set()
        holder.wait()
    message = str(raised.value)
    assert message.startswith(f"run {ME.run_id}, task reconcile try 2, on ")
    assert "for the warehouse lock 'state' of profile acme, held by run scheduled__2026-11-28, task holder try 1" \
        in message
    assert "nothing was changed. Raise ZOOM_SAM_LOCK_WAIT_SECONDS (now 0 s)" in message


def test_a_holder_killed_outright_releases_the_lock(warehouse):
    held, never = CTX.Event(), CTX.Event()
    holder = start(hold_lock, (warehouse.url, "acme", STATE, "scheduled__2026-11-28", held, never, True))
    holder.expect(held)
    (process,) = holder.processes
    process.join(TIMEOUT_S)
    assert process.exitcode == 0  # gone without a word: nothing released the lock on the way out
    assert [h["run_id"] for h in holders(warehouse)] == ["scheduled__2026-11-28"]  # its row stayed behind ...

    with profile_lock(warehouse.engine, "acme", STATE, ME, wait_s=TIMEOUT_S):  # ... the lock did not
        assert [h["run_id"] for h in holders(warehouse)] == [ME.run_id]


def test_locks_are_per_profile_and_per_name(warehouse):
    with profile_lock(warehouse.engine, "acme", STATE, ME, wait_s=0):
        with profile_lock(warehouse.engine, "acme", COVERAGE, ME, wait_s=0):
            with profile_lock(warehouse.engine, "globex", STATE, ME, wait_s=0):
                assert {(h["profile_alias"], h["lock_name"]) for h in holders(warehouse)} == \
                    {("acme", STATE), ("acme", COVERAGE), ("globex", STATE)}
        with pytest.raises(LockTimeout):  # the same lock, even from the same process
            with profile_lock(warehouse.engine, "acme", STATE, ME, wait_s=0):
                pytest.fail("entered a lock that is held")


@pytest.mark.postgres
def test_a_session_lost_while_holding_the_lock_is_reported(pg_url):
    from zoom_sam.warehouse.engine import engine_for_url

    engine = engine_for_url(pg_url.replace("+psycopg2", "+psycopg"))
    ensure_schema(engine)
    try:
        with pytest.raises(LockLost, match="lost while run .* held it .* a retry repeats it safely"):
            with profile_lock(engine, "acme", STATE, ME):
                with engine.begin() as conn:
                    conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_locks "
                                         "WHERE locktype = 'advisory' AND granted"))
    finally:
        engine.dispose()


def test_a_version_2_warehouse_gains_the_lock_staging_and_claim_tables(warehouse):
    with warehouse.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE run_lock"))
        conn.execute(sa.text("DROP TABLE stage_run"))
        conn.execute(sa.text("ALTER TABLE removal_candidate DROP COLUMN claimed_by"))
        conn.execute(sa.text("ALTER TABLE removal_candidate DROP COLUMN claimed_at"))
        conn.execute(schema_version.update().values(version=2))
    ensure_schema(warehouse.engine)
    with warehouse.engine.connect() as conn:
        inspector = sa.inspect(conn)
        assert inspector.has_table(run_lock.name) and inspector.has_table("stage_run")
        assert {"claimed_by", "claimed_at"} <= {c["name"] for c in inspector.get_columns("removal_candidate")}
    assert warehouse.rows("schema_version", "component")[0]["version"] == SCHEMA_VERSION
