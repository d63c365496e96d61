"""Fixtures for ZoomHook tests: a sandbox and an AIRFLOW_CONN_<ID> env connection pointing at it."""
from __future__ import annotations

from contextlib import ExitStack
from datetime import datetime, timezone

import pytest

from zoom_sam.zoom.auth import clear_token_cache
from zoom_sam.zoom.ratelimit import reset_limiters

ANCHOR = datetime(2026, 11, 28, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def _fresh_process_state():
    clear_token_cache()
    reset_limiters()
    yield
    clear_token_cache()
    reset_limiters()


@pytest.fixture
def make_sandbox():
    from zoom_sam.sandbox import AccountConfig, SandboxConfig, SandboxServer

    with ExitStack() as stack:
        def make(**account_kw):
            account_kw.setdefault("users", 60)
            cfg = SandboxConfig(accounts=[AccountConfig(**account_kw)], anchor=ANCHOR)
            return stack.enter_context(SandboxServer(cfg, port=0))

        yield make


@pytest.fixture
def zoom_conn(monkeypatch):
    """zoom_conn(sb, conn_id="zoom_demo", **extra): export the sandbox as an env connection."""

    def make(sb, conn_id: str = "zoom_demo", **extra) -> str:
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", sb.connection_json(**extra))
        return conn_id

    return make
