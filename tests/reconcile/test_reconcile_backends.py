"""SQLite and PostgreSQL give identical results on the same data: one statement set, one answer."""
from __future__ import annotations

import pytest

from tests.reconcile.account import AS_OF, DAY, Account, run, table_rows, varied_account

from zoom_sam.vocabulary import Mode
from zoom_sam.warehouse.sql import sql_dir
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


@pytest.mark.postgres
def test_the_first_run_on_postgresql_reads_each_subscription_a_bounded_number_of_times(pg_url):
    """On a profile's first run PostgreSQL plans with statistics taken while the tables were empty
    (the download analyzes before its first merge), and expects one subscription. The evaluation's
    plan then once re-ran a one-row aggregate over all subscriptions per subscription: quadratic,
    minutes at 100,000 users. Its actual plan, run on such statistics, must read the subscriptions
    a few times in all, not once per subscription."""
    import sqlalchemy as sa

    from zoom_sam.licensing import SEAT_IDENTIFIER, SEAT_MODEL
    from zoom_sam.warehouse.schema import activity_coverage, zoom_user

    users = 600
    engine = engine_for_url(pg_url.replace("+psycopg2", "+psycopg"))
    try:
        ensure_schema(engine)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")  # as the first download does, on empty tables
        ids = [f"u{i}" for i in range(users)]
        common = {"profile_alias": "acme", "first_seen_at": AS_OF - 400 * DAY, "updated_at": AS_OF}
        with engine.begin() as conn:
            conn.execute(zoom_user.insert(), [
                {**common, "user_id": u, "email": f"{u}@example.com", "user_type": 2, "status": "active",
                 "user_created_at": AS_OF - 400 * DAY, "present": True, "last_seen_at": AS_OF} for u in ids])
            conn.execute(software_subscription.insert(), [
                {**common, "user_id": u, "identifier": SEAT_IDENTIFIER, "email": f"{u}@example.com",
                 "software_model": SEAT_MODEL, "user_status": "active", "active": True, "excluded": False,
                 "held_since": AS_OF - 400 * DAY, "last_seen_at": AS_OF} for u in ids])
            conn.execute(activity_coverage.insert().values(profile_alias="acme", source="user_meetings",
                                                           covered_from=AS_OF - 30 * DAY, covered_to=AS_OF,
                                                           updated_at=AS_OF))
        evaluate = []
        first_line = (sql_dir() / "reconcile" / "evaluate.sql").read_text().splitlines()[0]

        def capture(conn, cursor, statement, parameters, context, executemany):
            if statement.startswith(first_line):
                evaluate.append((statement, parameters))

        sa.event.listen(engine, "before_cursor_execute", capture)
        run(engine)
        sa.event.remove(engine, "before_cursor_execute", capture)
        (statement, parameters), = evaluate
        with engine.connect() as conn:  # rolled back: the rerun only shows its plan
            conn.execute(reconcile_evaluation.delete())
            (plan,), = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters).all()
        read = sum(node["Actual Rows"] * node["Actual Loops"] for node in _nodes(plan[0]["Plan"])
                   if node.get("Relation Name") == software_subscription.name)
        assert users <= read <= 3 * users, f"{read} subscription rows read for {users} subscriptions"
    finally:
        engine.dispose()


def _nodes(node: dict):
    yield node
    for child in node.get("Plans", ()):
        yield from _nodes(child)
