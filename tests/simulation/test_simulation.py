"""Months of daily automatic reclaims on an account that changes every day: every write Zoom
received must be right at its moment, every eligible subscription reclaimed by the run that
should reclaim it, the warehouse in line with the account, and a re-run date must converge."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.simulation.driver import SimConfig, Simulation
from zoom_sam.warehouse.engine import engine_for_url


def _simulate(url: str, config: SimConfig, monkeypatch):
    monkeypatch.setenv("ZOOM_SAM_LOG_LEVEL", "WARNING")
    engine = engine_for_url(url)
    try:
        figures = Simulation(config, engine).run()
    finally:
        engine.dispose()
    print("\n" + figures.summary())
    report = f"{figures.summary()}\n{figures.table()}\n{figures.details()}"
    assert figures.writes > 0 and len(figures.rows) == config.days, report
    assert (figures.wrong_writes, figures.missed, figures.mismatching_days, figures.unconverged) == (0, 0, 0, 0), report
    return figures


def test_sixty_days_of_automatic_reclaim_on_sqlite(tmp_path, monkeypatch):
    _simulate(f"sqlite:///{tmp_path / 'warehouse.db'}", SimConfig(days=60), monkeypatch)


@pytest.mark.postgres
def test_twenty_days_on_postgresql_with_the_default_scopes(pg_url, monkeypatch):
    url = sa.make_url(pg_url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    _simulate(url, SimConfig(days=20, generated_users=50, seed=7, user_read_scope=False, shards=1), monkeypatch)
