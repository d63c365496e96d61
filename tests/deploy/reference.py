"""The single-process reference of the stack test, and what "the same warehouse" means.

``python -m tests.deploy.reference <as_of>`` runs the profile DAG of ``$ZOOM_SAM_PROFILES_DIR``
with ``dag.test()`` in this one process, every task after the other, into the warehouse of its
environment: what the distributed run must have produced too.

:func:`landed` reads a warehouse as a comparable value: every table the processes write, without the
columns that record when or in which run something happened (the wall clock and run ids differ
between any two runs), and without the bookkeeping tables of runs in flight (locks, leases,
staging, job records, token chains).
"""
from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

BOOKKEEPING = {"schema_version", "sweep_lease", "stage_zoom_user", "stage_subscription", "stage_run", "run_lock",
               "job_result", "oauth_token_chain"}
WALL_CLOCK = {"created_at", "updated_at", "computed_at", "pulled_at", "requested_at", "completed_at", "closed_at",
              "claimed_at", "ended_at"}
RUN_IDENTITY = {"run_id", "last_run_id", "claimed_by", "candidate_id", "action_id"}
# The profile's settings name its reclaim mode: approval in the stack, automatic in the reference.
DIFFERENT_BY_DESIGN = {("integration_profile", "settings")}


def landed(url: str) -> dict[str, Counter]:
    """table -> multiset of its rows (tuples of the compared columns, in column order)."""
    from zoom_sam.warehouse.engine import engine_for_url
    from zoom_sam.warehouse.schema import metadata

    engine = engine_for_url(url)
    try:
        out = {}
        with engine.connect() as conn:
            for table in metadata.sorted_tables:
                if table.name in BOOKKEEPING:
                    continue
                columns = [c for c in table.columns if c.name not in WALL_CLOCK | RUN_IDENTITY
                           and (table.name, c.name) not in DIFFERENT_BY_DESIGN]
                out[table.name] = Counter(tuple(_comparable(v) for v in row)
                                          for row in conn.execute(sa.select(*columns)))
        return out
    finally:
        engine.dispose()


def _comparable(value):
    """JSON columns come back as dicts and lists, which a Counter cannot hash."""
    if isinstance(value, dict):
        return tuple(sorted((k, _comparable(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_comparable(v) for v in value)
    return value


def differences(expected: dict[str, Counter], got: dict[str, Counter], show: int = 3) -> list[str]:
    """What differs, table by table, with a few rows of each side."""
    out = []
    for table in sorted(expected.keys() | got.keys()):
        missing = expected.get(table, Counter()) - got.get(table, Counter())
        extra = got.get(table, Counter()) - expected.get(table, Counter())
        if missing or extra:
            out.append(f"{table}: {sum(missing.values())} row(s) only in the reference, e.g. "
                       f"{list(missing.elements())[:show]}; {sum(extra.values())} only in the stack, e.g. "
                       f"{list(extra.elements())[:show]}")
    return out


def main(as_of: str) -> int:
    from airflow.dag_processing.dagbag import DagBag

    airflow = Path(sys.executable).with_name("airflow")
    migrated = subprocess.run([str(airflow), "db", "migrate"], capture_output=True, text=True)
    if migrated.returncode:
        print(migrated.stdout[-2000:], migrated.stderr[-2000:], file=sys.stderr)
        return 1
    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors or len(bag.dags) != 1:
        print(f"expected one DAG and no import error: {sorted(bag.dags)} {bag.import_errors}", file=sys.stderr)
        return 1
    (dag,) = bag.dags.values()
    run = dag.test(logical_date=datetime.fromisoformat(as_of))
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    print(f"reference run {run.run_id}: {run.state} {states}", flush=True)
    return 0 if run.state == "success" else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
