"""Months of daily automatic reclaims on an account that changes every day: every write Zoom
received must be right at its moment, every eligible subscription reclaimed by the run that
should reclaim it, the warehouse in line with the account, and a re-run date must converge."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.simulation.driver import SimConfig, Simulation
from tests.simulation.figures import Figures


def _simulate(url: str, config: SimConfig, folder) -> Figures:
    figures = Simulation(config, url, folder).run()
    print("\n" + figures.summary())
    return figures


def _assert_all_right(figures: Figures, config: SimConfig) -> None:
    report = f"{figures.summary()}\n{figures.table()}\n{figures.details()}"
    assert len(figures.rows) == config.days and figures.writes > 0, report
    assert (figures.wrong_writes, figures.missed, figures.mismatching_days, figures.unconverged) == (0, 0, 0, 0), report


def test_sixty_days_of_automatic_reclaim_on_sqlite(tmp_path):
    config = SimConfig(days=60)
    _assert_all_right(_simulate(f"sqlite:///{tmp_path / 'warehouse.db'}", config, tmp_path), config)


@pytest.mark.postgres
def test_twenty_days_on_postgresql_with_the_default_scopes(pg_url, tmp_path):
    config = SimConfig(days=20, generated_users=50, seed=7, user_read_scope=False, shards=1)
    url = sa.make_url(pg_url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    _assert_all_right(_simulate(url, config, tmp_path), config)
