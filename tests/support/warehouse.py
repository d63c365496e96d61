"""Warehouse fixtures shared by the warehouse, download and DAG suites.

``warehouse`` runs a test once on the embedded SQLite warehouse and once on PostgreSQL (a fresh
database from the root ``pg_url`` fixture), each prepared exactly as production prepares it: on
PostgreSQL that includes the driver, psycopg 3, which is what Airflow's PostgresHook gives (its
server-side parameter binding rejects some statements psycopg2 accepts). Import the fixtures into
a suite's conftest.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from zoom_sam.warehouse.engine import engine_for_url
from zoom_sam.warehouse.migrate import ensure_schema


@dataclass
class Warehouse:
    """A migrated warehouse: its engine, URL and an Airflow connection JSON pointing at it."""

    dialect: str
    url: str
    engine: sa.Engine

    def connection_json(self) -> str:
        u = sa.make_url(self.url)
        if self.dialect == "sqlite":
            return json.dumps({"conn_type": "sqlite", "host": u.database})
        return json.dumps({"conn_type": "postgres", "host": u.host, "port": u.port, "login": u.username,
                           "password": u.password or "", "schema": u.database})

    def rows(self, table: str, order_by: str, exclude: tuple[str, ...] = ()) -> list[dict]:
        """Every row of a table as dicts (minus ``exclude`` columns), in a stable order."""
        with self.engine.connect() as conn:
            result = conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY {order_by}"))
            return [{k: v for k, v in row.items() if k not in exclude} for row in result.mappings()]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def warehouse(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    else:
        url = sa.make_url(request.getfixturevalue("pg_url")).set(drivername="postgresql+psycopg")
        url = url.render_as_string(hide_password=False)
    engine = engine_for_url(url)
    ensure_schema(engine)
    yield Warehouse(request.param, url, engine)
    engine.dispose()
