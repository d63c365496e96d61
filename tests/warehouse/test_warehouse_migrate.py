"""Schema creation and migration: idempotent, serialised, versioned, refusing newer warehouses."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from zoom_sam.warehouse import migrate
from zoom_sam.warehouse.engine import engine_for_url
from zoom_sam.warehouse.migrate import SchemaTooNewError, ensure_schema, recorded_version
from zoom_sam.warehouse.schema import SCHEMA_VERSION, metadata, schema_version


def version(engine) -> int:
    with engine.connect() as conn:
        return recorded_version(conn)


def test_fresh_warehouse_gets_every_table_and_the_version(warehouse):
    assert version(warehouse.engine) == SCHEMA_VERSION
    with warehouse.engine.connect() as conn:
        assert set(metadata.tables) <= set(sa.inspect(conn).get_table_names())
    assert ensure_schema(warehouse.engine) == SCHEMA_VERSION  # second call: nothing to do


def test_older_version_is_migrated_with_its_steps(warehouse, monkeypatch):
    applied = []
    monkeypatch.setattr(migrate, "STEPS", {SCHEMA_VERSION: lambda conn: applied.append(conn.dialect.name)})
    with warehouse.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE stage_subscription"))
        conn.execute(schema_version.update().values(version=SCHEMA_VERSION - 1))
    assert ensure_schema(warehouse.engine) == SCHEMA_VERSION - 1
    assert applied == [warehouse.dialect]
    assert version(warehouse.engine) == SCHEMA_VERSION
    with warehouse.engine.connect() as conn:
        assert sa.inspect(conn).has_table("stage_subscription")


def test_newer_warehouse_is_refused_and_left_alone(warehouse):
    with warehouse.engine.begin() as conn:
        conn.execute(schema_version.update().values(version=SCHEMA_VERSION + 1))
    with pytest.raises(SchemaTooNewError, match=f"schema version {SCHEMA_VERSION + 1}.*upgrade zoom-sam"):
        ensure_schema(warehouse.engine)
    assert version(warehouse.engine) == SCHEMA_VERSION + 1


def test_concurrent_first_runs_migrate_once(warehouse):
    """Several profiles starting together on a new warehouse: one migrates, the others wait."""
    with warehouse.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(sa.text(f"DROP TABLE {table.name}"))
    engines = [engine_for_url(warehouse.url) for _ in range(4)]
    try:
        with ThreadPoolExecutor(4) as pool:
            before = list(pool.map(ensure_schema, engines))
    finally:
        for engine in engines:
            engine.dispose()
    assert sorted(before) == [0, SCHEMA_VERSION, SCHEMA_VERSION, SCHEMA_VERSION]
    with warehouse.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema_version)).scalar() == 1


def test_a_column_the_code_declares_is_added_to_an_existing_table(warehouse):
    """A version-1 warehouse lacks reclaim_action.attempts (NOT NULL, default 0) and .confirmation."""
    with warehouse.engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE reclaim_action DROP COLUMN attempts"))
        conn.execute(sa.text("ALTER TABLE reclaim_action DROP COLUMN confirmation"))
        conn.execute(schema_version.update().values(version=1))
    ensure_schema(warehouse.engine)
    with warehouse.engine.connect() as conn:
        columns = {c["name"]: c for c in sa.inspect(conn).get_columns("reclaim_action")}
    assert {"attempts", "confirmation"} <= set(columns)
    assert columns["attempts"]["nullable"] is False
    assert version(warehouse.engine) == SCHEMA_VERSION


def test_a_version_2_warehouse_loses_the_upcoming_events_nothing_read(warehouse):
    with warehouse.engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE upcoming_event (profile_alias VARCHAR(64), event_id VARCHAR(128))"))
        conn.execute(schema_version.update().values(version=2))
    ensure_schema(warehouse.engine)
    with warehouse.engine.connect() as conn:
        assert not sa.inspect(conn).has_table("upcoming_event")
    assert version(warehouse.engine) == SCHEMA_VERSION


def test_a_version_4_warehouse_gains_the_approval_columns_and_keeps_its_rows(warehouse):
    """Version 5 adds who approved what to removal_candidate and reclaim_action; rows written
    before keep them empty (no approval was recorded then), and the request's index is created."""
    approval = ("approval_run_id", "approval_requested_at", "approval_decision", "approval_by", "approval_at")
    with warehouse.engine.begin() as conn:
        conn.execute(sa.text("DROP INDEX ix_removal_candidate_approval"))
        for column in approval:
            conn.execute(sa.text(f"ALTER TABLE removal_candidate DROP COLUMN {column}"))
        for column in approval[2:]:
            conn.execute(sa.text(f"ALTER TABLE reclaim_action DROP COLUMN {column}"))
        conn.execute(sa.text(
            "INSERT INTO removal_candidate (profile_alias, user_id, identifier, email, software_model, state, reason, "
            "evidence, threshold_days, opened_as_of, evaluated_as_of, created_at, updated_at) VALUES ('acme', 'u1', "
            "'user_type:2', 'a@example.com', 'zoom_meetings_licensed', 'ready', 'never_hosted', '{}', 60, "
            "'2026-11-28 00:00:00', '2026-11-28 00:00:00', '2026-11-28 00:00:00', '2026-11-28 00:00:00')"))
        conn.execute(schema_version.update().values(version=4))

    assert ensure_schema(warehouse.engine) == 4

    with warehouse.engine.connect() as conn:
        inspector = sa.inspect(conn)
        assert set(approval) <= {c["name"] for c in inspector.get_columns("removal_candidate")}
        assert set(approval[2:]) <= {c["name"] for c in inspector.get_columns("reclaim_action")}
        assert "ix_removal_candidate_approval" in {i["name"] for i in inspector.get_indexes("removal_candidate")}
        row = conn.execute(sa.text("SELECT state, approval_run_id, approval_decision FROM removal_candidate")).one()
    assert tuple(row) == ("ready", None, None)
    assert version(warehouse.engine) == SCHEMA_VERSION
