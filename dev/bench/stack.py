"""The distributed deployment at size: one DAG run of a 100,000-user account on the stack.

``python -m bench stack`` (100,000 users; ``--quick``: 5,000), or ``python -m bench.stack --users N``.
docker-compose.yaml's topology as processes (``dev/stack``: PostgreSQL metadata and warehouse, Redis,
api-server, scheduler, dag-processor, triggerer, two Celery workers of two slots each) runs the
stack's profile (``stack.scenario``: the demo's rules, the sweep in 4 shards) in dry run against a
Zoom sandbox in its own process with a Business plan's limits (Light 80/s, Medium 60/s, Heavy 40/s)
and 100 ms latency. The run is triggered and followed through the REST API only.

Printed: each task instance (its duration as Airflow saw it, queueing and all, and the worker it ran
on); per phase the calls against the minimal calls and the span against the floor of the minimal
calls at the account's limit, from the tasks' own ``job_result`` records (``bench.day``'s table);
Zoom's side from the sandbox's request log: calls, the busiest second of each category against its
limit and 429s (the sandbox admits twice the limit, so a burst over it is counted, not refused);
the warehouse's size after the run, per table.

Duration: about as long as the download and the sweep at the Medium limit. At 100,000 users
(about 35,000 licensed users to read settings and history of) that is about 10 minutes each, so
the whole run takes about 25 minutes with the stack's start; ``--quick`` about 3.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import requests
import sqlalchemy as sa

from bench.day import LATENCY_MS, PLAN, job_tasks, naive_per_call, phase_table
from stack.scenario import (ALIAS, CONN_ID, DAG_ID, POOL, is_over, over_limit, profile, sandbox, start_run, task_lines,
                            zoom_side)
from stack.topology import Stack, wait_for

USERS, QUICK_USERS = 100_000, 5_000
PROGRESS_S = 60


def run(quick: bool) -> None:
    measure(QUICK_USERS if quick else USERS)


def measure(users: int) -> None:
    from zoom_sam.warehouse.engine import engine_for_url
    from zoom_sam.zoom.ratelimit import PLAN_LIMITS

    limits = PLAN_LIMITS[PLAN]
    anchor = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    work = Path(tempfile.mkdtemp(prefix="zoom-sam-bench-stack-"))
    print(f"account: {users:,} users, {PLAN} plan (Light {limits['Light']:g}/s, Medium {limits['Medium']:g}/s, "
          f"Heavy {limits['Heavy']:g}/s), {LATENCY_MS} ms latency; dry run, sweep in 4 shards on 2 workers; "
          f"logs under {work}", flush=True)
    with sandbox(users, anchor.date(), limits, latency_ms=LATENCY_MS) as zoom:
        connection = json.loads(zoom.connection_json())
        connection["extra"]["plan"] = PLAN
        profiles = work / "profiles"
        profiles.mkdir()
        (profiles / f"{ALIAS}.yaml").write_text(profile("dry_run", POOL))
        # A Redis database and database names of its own: ``make stack-test`` may run meanwhile.
        stack = Stack(work / "airflow-home", profiles, {CONN_ID: json.dumps(connection)}, redis_db=12,
                      prefix="zoom_sam_bench_stack")
        try:
            with stack:
                api, run_id = start_run(stack, anchor)
                triggered = time.monotonic()
                wait_for(f"{DAG_ID} run {run_id} to end", _progress(api, run_id, triggered),
                         triggered + 600 + 6 * users / limits["Medium"], stack.check)
                wall = time.monotonic() - triggered
                state = api.dag_run(DAG_ID, run_id)["state"]
                instances = api.task_instances(DAG_ID, run_id)
                stats = requests.get(f"{zoom.root_url}/_sandbox/stats", timeout=60).json()
                engine = engine_for_url(stack.warehouse_url)
                tasks = job_tasks(engine, run_id)
                sizes = _sizes(engine)
                engine.dispose()
        finally:
            print(stack.where(), flush=True)
        per_call = naive_per_call(json.dumps(connection))
    print(f"\nDAG run {run_id}: {state}, {wall:.0f} s from trigger to end", flush=True)
    for line in task_lines(instances):
        print(f"  {line}")
    print()
    phase_table(tasks, limits, per_call)
    print()
    for line in zoom_side(stats, limits):
        print(f"  {line}")
    over = over_limit(stats, limits)
    print(f"  over the limit in some second: {', '.join(f'{a} {c}' for a, c in over) if over else 'never'}")
    print(f"\nwarehouse after the run: {sizes['database'] / 2**20:,.0f} MB in all")
    for table, rows, size in sizes["tables"]:
        print(f"  {table:<38} {rows:>10,} rows {size / 2**20:>8.1f} MB")


def _progress(api, run_id: str, since: float):
    """``is_over``, printing the run's task states once a minute: a long run shows where it is."""
    shown = since

    def ready() -> bool:
        nonlocal shown
        if time.monotonic() - shown >= PROGRESS_S:
            shown = time.monotonic()
            states = {}
            for ti in api.task_instances(DAG_ID, run_id):
                states[ti["state"] or "none"] = states.get(ti["state"] or "none", 0) + 1
                if ti["state"] == "running":
                    print(f"  {time.monotonic() - since:>6.0f} s: {ti['task_id']}[{ti['map_index']}] running "
                          f"on {ti['hostname']}", flush=True)
            print(f"  {time.monotonic() - since:>6.0f} s: task states {states}", flush=True)
        return is_over(api, run_id)

    return ready


def _sizes(engine) -> dict:
    """The warehouse database's size, and each table's rows and bytes (indexes and TOAST included)."""
    with engine.connect() as conn:
        database = conn.execute(sa.text("SELECT pg_database_size(current_database())")).scalar()
        tables = conn.execute(sa.text(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = 'zoom_sam' AND c.relkind = 'r' "
            "ORDER BY 2 DESC")).all()
        counted = [(name, conn.execute(sa.text(f'SELECT count(*) FROM zoom_sam."{name}"')).scalar(), size)
                   for name, size in tables]
    return {"database": database, "tables": counted}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.stack", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=USERS, help="users of the account (default 100,000)")
    measure(parser.parse_args().users)
