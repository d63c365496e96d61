"""SQLAlchemy engines for the warehouse, from an Airflow connection or a URL.

The warehouse is whatever database the profile's ``warehouse_conn_id`` points at, reached through
that connection's own hook (``PostgresHook``, ``SqliteHook``, ...), so credentials stay in
Airflow's connection store. When the connection does not exist the embedded default is used: a
SQLite file at ``$AIRFLOW_HOME/zoom_sam.db``, which is what the demo and a fresh install run on.

Both back ends are prepared so that the SQL in ``src/zoom_sam/include/sql/`` runs unchanged on either:

* PostgreSQL: every connection gets ``search_path = zoom_sam, public``, so unqualified table
  names resolve to schema ``zoom_sam`` (created by :func:`zoom_sam.warehouse.migrate.ensure_schema`).
* SQLite: WAL (readers never block the writer), a busy timeout (profiles sharing one file wait
  instead of failing) and ``BEGIN IMMEDIATE`` transactions, so two writers never deadlock on a
  read-to-write lock upgrade, which a busy timeout cannot resolve.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from zoom_sam.errors import ConfigurationError

log = logging.getLogger(__name__)

PG_SCHEMA = "zoom_sam"
SQLITE_BUSY_TIMEOUT_MS = 60_000


def default_sqlite_path() -> Path:
    """The embedded warehouse: beside Airflow's own files, so one AIRFLOW_HOME is one install."""
    home = os.environ.get("AIRFLOW_HOME") or str(Path.home() / "airflow")
    return Path(home) / "zoom_sam.db"


def get_engine(warehouse_conn_id: str | None, *, read_only: bool = False) -> Engine:
    """The warehouse engine for an Airflow connection id; SQLite default when it does not exist.

    The connection's hook builds the engine (``DbApiHook.get_sqlalchemy_engine``), so any
    connection type whose hook can do that works, with its own driver and options. ``read_only``
    engines (the views) never take SQLite's write lock, so a page never waits for a run's merge
    nor holds one off.
    """
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    if warehouse_conn_id:
        try:
            conn = BaseHook.get_connection(warehouse_conn_id)
        except AirflowNotFoundException:
            conn = None
        if conn is not None:
            hook = conn.get_hook()
            if not hasattr(hook, "get_sqlalchemy_engine"):
                raise ConfigurationError(
                    f"warehouse connection {warehouse_conn_id!r} has type {conn.conn_type!r}, whose hook "
                    "cannot give a SQLAlchemy engine; use a postgres or sqlite connection"
                )
            return prepare_engine(hook.get_sqlalchemy_engine(), read_only=read_only)
    path = default_sqlite_path()
    log.info(
        "warehouse connection %r not found: using the embedded SQLite warehouse %s", warehouse_conn_id, path
    )
    return engine_for_url(f"sqlite:///{path}", read_only=read_only)


def engine_for_url(url: str | sa.URL, *, read_only: bool = False) -> Engine:
    """An engine for a SQLAlchemy URL, prepared like :func:`get_engine` (tests, benchmarks, CLI)."""
    return prepare_engine(sa.create_engine(url), read_only=read_only)


def prepare_engine(engine: Engine, *, read_only: bool = False) -> Engine:
    """Install the per-connection set-up for the engine's dialect; returns the same engine.

    A SQLite transaction that writes begins IMMEDIATE (it takes the write lock up front instead
    of failing half-way); a read-only engine's begins DEFERRED, which in WAL mode waits for no
    writer and blocks none.
    """
    if engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _pg_search_path, insert=True)
    elif engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_deferred if read_only else _sqlite_begin_immediate)
    else:
        raise ConfigurationError(
            f"unsupported warehouse dialect {engine.dialect.name!r}: zoom-sam runs on postgresql or sqlite"
        )
    return engine


def _pg_search_path(dbapi_connection, _record) -> None:
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    cursor = dbapi_connection.cursor()
    cursor.execute(f"SET search_path TO {PG_SCHEMA}, public")
    cursor.close()
    dbapi_connection.autocommit = autocommit


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # pysqlite's own transaction handling is switched off; the "begin" listener emits BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _sqlite_begin_immediate(conn) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_begin_deferred(conn) -> None:
    conn.exec_driver_sql("BEGIN")
