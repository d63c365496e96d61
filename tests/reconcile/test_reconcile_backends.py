"""SQLite and PostgreSQL give identical results on the same data: one statement set, one answer."""
from __future__ import annotations

import pytest

from tests.reconcile.account import AS_OF, DAY, Account, run, table_rows, varied_account

from zoom_sam.vocabulary import Mode
from zoom_sam.warehouse.engine import engine_for_url
from zoom_sam.warehouse.migrate import ensure_schema
from zoom_sam.warehouse.schema import (
    license_position,
    reconcile_evaluation,
    reconcile_rule,
    removal_candidate,
    software_subscription,
    threshold_simulation,
)

# Wall-clock audit columns: when a row was written, not what reconcile concluded.
WALL_CLOCK = ("created_at", "updated_at", "closed_at", "computed_at")
OUTPUTS = (reconcile_rule, reconcile_evaluation, removal_candidate, software_subscription, license_position,
           threshold_simulation)


def _history(engine) -> list[dict]:
    """Two daily runs in approval mode, with activity returning and a subscription ending between."""
    account = Account(engine)
    varied_account(account)
    account.rule(0, "zoom_webinar_*", 30)
    account.covered(AS_OF - 120 * DAY, AS_OF, source="user_webinars")
    summaries = [run(engine, mode=Mode.APPROVAL)]
    account.hosted("h12", AS_OF + DAY / 3)
    account.covered(AS_OF - 100 * DAY, AS_OF + DAY)
    account.covered(AS_OF - 120 * DAY, AS_OF + DAY, source="user_webinars")
    account.end("never")
    summaries.append(run(engine, as_of=AS_OF + DAY, mode=Mode.APPROVAL))
    return summaries


@pytest.mark.postgres
@pytest.mark.parametrize("pg_driver", ["psycopg2", "psycopg"])
def test_sqlite_and_postgresql_reconcile_identically(tmp_path, pg_url, pg_driver):
    engines = [engine_for_url(f"sqlite:///{tmp_path / 'w.db'}"),
               engine_for_url(pg_url.replace("+psycopg2", f"+{pg_driver}"))]
    try:
        results = []
        for engine in engines:
            ensure_schema(engine)
            summaries = _history(engine)
            results.append((summaries, [table_rows(engine, t, exclude=WALL_CLOCK) for t in OUTPUTS]))
        (sqlite_summaries, sqlite_tables), (pg_summaries, pg_tables) = results
        assert sqlite_summaries == pg_summaries
        for table, on_sqlite, on_pg in zip(OUTPUTS, sqlite_tables, pg_tables):
            assert on_sqlite == on_pg, table.name
        # The history exercised what it should: candidates opened, kept, canceled and skipped.
        assert {c["state"] for c in sqlite_tables[2]} == {"awaiting_approval", "closed_canceled", "closed_skipped"}
    finally:
        for engine in engines:
            engine.dispose()
