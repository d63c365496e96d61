"""Reclaim suites: a sandbox Zoom account and a warehouse per test, and the World that joins them."""
from __future__ import annotations

import pytest

from tests.reclaim.world import AS_OF, World
from tests.support.zoom_state import fresh_zoom_state  # noqa: F401  (autouse fixture)
from zoom_sandbox import DEFAULT_SCOPES, AccountConfig, SandboxConfig, SandboxServer
from zoom_sam.warehouse.engine import engine_for_url
from zoom_sam.warehouse.migrate import ensure_schema

USER_READ_SCOPES = DEFAULT_SCOPES + ("user:read:user:admin",)


@pytest.fixture
def make_world(tmp_path):
    """make_world(scopes=..., url=...) -> a World on a fresh sandbox (no generated users) and warehouse."""
    started = []

    def make(*, scopes=DEFAULT_SCOPES, url: str | None = None, users: int = 0) -> World:
        cfg = SandboxConfig(accounts=[AccountConfig(users=users, scopes=scopes, seed=11)], anchor=AS_OF)
        sb = SandboxServer(cfg, port=0).start()
        engine = engine_for_url(url or f"sqlite:///{tmp_path / f'warehouse{len(started)}.db'}")
        ensure_schema(engine)
        started.append((sb, engine))
        return World(sb, engine)

    yield make
    for sb, engine in started:
        sb.stop()
        engine.dispose()


@pytest.fixture
def world(make_world) -> World:
    return make_world()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_world(request, make_world) -> World:
    """A World on the embedded SQLite warehouse, then on PostgreSQL: the SQL must agree on both.

    PostgreSQL is reached with psycopg 3, the driver Airflow's PostgresHook uses: it binds
    parameters on the server, which catches statements whose parameters PostgreSQL cannot type.
    """
    if request.param == "sqlite":
        return make_world()
    return make_world(url=request.getfixturevalue("pg_url").replace("+psycopg2", "+psycopg"))
