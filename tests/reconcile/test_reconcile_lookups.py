"""The evaluation looks up each subscription's activity and earlier candidates by that subscription.

Per subscription the evaluation runs correlated lookups (last hosting, events seen, the previous
candidate). One that seeks by anything wider than the subscription's user reads a slice of the
profile per subscription: quadratic. By the state index, the previous-candidate lookup read every
closed candidate of the profile per row, and the reconcile that follows a 30,000-user reclaim took
many minutes on SQLite. SQLite's plan of the statement as the run sent it shows the index of each.
"""
from __future__ import annotations

import sqlalchemy as sa

from tests.reconcile.account import AS_OF, DAY, Account, run, varied_account
from zoom_sam.warehouse.engine import engine_for_url
from zoom_sam.warehouse.migrate import ensure_schema
from zoom_sam.warehouse.sql import sql_dir


def test_every_per_subscription_lookup_seeks_by_the_user(tmp_path):
    engine = engine_for_url(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        ensure_schema(engine)
        account = Account(engine)
        varied_account(account)
        run(engine)
        account.end("never")  # closed candidates exist when the next evaluation runs
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
        first_line = (sql_dir() / "reconcile" / "evaluate.sql").read_text().splitlines()[0]
        sent = []
        listener = lambda conn, cursor, statement, parameters, context, executemany: (  # noqa: E731
            sent.append((statement, parameters)) if statement.startswith(first_line) else None)
        sa.event.listen(engine, "before_cursor_execute", listener)
        run(engine, as_of=AS_OF + DAY)
        sa.event.remove(engine, "before_cursor_execute", listener)
        (statement, parameters), = sent
        with engine.connect() as conn:
            plan = [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
    finally:
        engine.dispose()
    lookups = [step for before, step in zip(plan, plan[1:]) if before.startswith("CORRELATED")]
    assert len(lookups) >= 5, plan  # last meeting, last webinar, previous candidate, events seen x 2
    for step in lookups:
        assert "user_id=?" in step, f"{step} (whole plan: {plan})"
