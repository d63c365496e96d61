"""Where the warehouse lives: the profile's Airflow connection, or the embedded SQLite default."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from zoom_sam.warehouse.engine import PG_SCHEMA, engine_for_url, get_engine
from zoom_sam.warehouse.migrate import ensure_schema
from zoom_sam.warehouse.schema import metadata


def test_absent_connection_means_sqlite_in_airflow_home(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    engine = get_engine("zoom_sam_no_such_connection")
    try:
        ensure_schema(engine)
        assert engine.dialect.name == "sqlite"
        assert (tmp_path / "zoom_sam.db").is_file()
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 10_000
    finally:
        engine.dispose()


def test_sqlite_connection_is_used_through_its_hook(tmp_path, monkeypatch):
    path = tmp_path / "elsewhere.db"
    monkeypatch.setenv("AIRFLOW_CONN_WH_SQLITE", json.dumps({"conn_type": "sqlite", "host": str(path)}))
    engine = get_engine("wh_sqlite")
    try:
        ensure_schema(engine)
        assert path.is_file()
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_tables_live_in_schema_zoom_sam(pg_url, monkeypatch):
    u = sa.make_url(pg_url)
    monkeypatch.setenv("AIRFLOW_CONN_WH_PG", json.dumps(
        {"conn_type": "postgres", "host": u.host, "port": u.port, "login": u.username, "schema": u.database}))
    engine = get_engine("wh_pg")
    try:
        ensure_schema(engine)
        with engine.connect() as conn:
            tables = set(conn.execute(sa.text(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = :s"), {"s": PG_SCHEMA}
            ).scalars())
            in_public = conn.execute(sa.text(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")).scalar()
        assert set(metadata.tables) <= tables
        assert in_public == 0
    finally:
        engine.dispose()


def test_a_connection_type_without_sqlalchemy_is_refused(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_WH_ZOOM", json.dumps({"conn_type": "zoom", "host": "zoom.us"}))
    with pytest.raises(ValueError, match="cannot give a SQLAlchemy engine"):
        get_engine("wh_zoom")


def test_a_read_only_engine_reads_while_a_run_holds_the_sqlite_write_lock(tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    writer, reader = engine_for_url(url), engine_for_url(url, read_only=True)
    with writer.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        conn.execute(sa.text("INSERT INTO t VALUES (1)"))
    with writer.begin() as held:  # a run's merge: BEGIN IMMEDIATE, the write lock taken
        held.execute(sa.text("INSERT INTO t VALUES (2)"))
        with reader.connect() as conn:
            conn.connection.driver_connection.execute("PRAGMA busy_timeout = 0")  # waiting fails, not delays
            assert conn.execute(sa.text("SELECT count(*) FROM t")).scalar() == 1  # the committed state
        with writer.connect() as other:
            other.connection.driver_connection.execute("PRAGMA busy_timeout = 0")
            with pytest.raises(sa.exc.OperationalError, match="locked"):
                other.execute(sa.text("SELECT count(*) FROM t"))  # a writing engine's read queues behind it
    writer.dispose(), reader.dispose()
