"""Fixtures for ZoomHook tests: a sandbox and an AIRFLOW_CONN_<ID> env connection pointing at it."""
from __future__ import annotations

import pytest

from tests.support.sandbox import make_sandbox  # noqa: F401  (fixture)
from tests.support.token_chain import chain_warehouse, fernet_key, shared_app, workers  # noqa: F401  (fixtures)
from tests.support.warehouse import warehouse  # noqa: F401  (fixture)
from tests.support.zoom_state import fresh_zoom_state  # noqa: F401  (autouse fixture)


@pytest.fixture
def zoom_conn(monkeypatch):
    """zoom_conn(sb, conn_id="zoom_demo", **extra): export the sandbox as an env connection."""

    def make(sb, conn_id: str = "zoom_demo", **extra) -> str:
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", sb.connection_json(**extra))
        return conn_id

    return make
