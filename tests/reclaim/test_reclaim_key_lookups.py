"""The statements a reclaim runs once per candidate find their rows by key.

A real reclaim at 100,000 holders closes tens of thousands of candidates, a few statements each:
one that reads every active subscription of the profile per candidate turned closing them from a
fraction of a second into about twenty minutes. SQLite's query plan shows which index each statement
searches with, without a table of that size.
"""
from __future__ import annotations

import re

import pytest

from zoom_sam.warehouse.engine import engine_for_url
from zoom_sam.warehouse.migrate import ensure_schema
from zoom_sam.warehouse.sql import sql_dir

# How SQLite names a search by each table's whole key (``rc``: removal_candidate aliased).
KEY_SEARCH = {
    "removal_candidate": "USING INTEGER PRIMARY KEY (rowid=?)",
    "rc": "USING INTEGER PRIMARY KEY (rowid=?)",
    "software_subscription": "(profile_alias=? AND user_id=? AND identifier=?)",
    "reclaim_action": "(profile_alias=? AND candidate_id=? AND action=? AND dry_run=?)",
}


@pytest.mark.parametrize("name", ["claim_candidate", "close_candidate", "confirm_action", "end_subscription"])
def test_each_per_candidate_statement_searches_by_the_whole_key(tmp_path, name):
    engine = engine_for_url(f"sqlite:///{tmp_path / 'warehouse.db'}")
    ensure_schema(engine)
    text = (sql_dir() / "reclaim" / f"{name}.sql").read_text()
    sql = re.sub(r"(?<![:\w]):\w+", "'x'", "\n".join(line for line in text.splitlines() if not line.startswith("--")))
    with engine.connect() as conn:
        plan = [row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
    engine.dispose()
    searches = [step for step in plan if step.startswith(("SEARCH", "SCAN"))]
    assert searches, plan
    for step in searches:
        table = step.split()[1]
        assert step.startswith("SEARCH") and KEY_SEARCH[table] in step, f"{name}: {step} (whole plan: {plan})"
    assert not any("CORRELATED" in step for step in plan), plan
