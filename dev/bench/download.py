"""Benchmark of download_subscriptions: `python -m bench download [--quick]`.

For each account size (10,000 and 100,000 users; 1,000 and 3,000 with ``--quick``) a sandbox
child process serves a Business-plan account with 50 ms latency, and the download runs once per
warehouse back end (SQLite, PostgreSQL) in a fresh child process of its own, so each peak-memory
figure belongs to that one run. Reported per run:

* wall time against the rate-limit floor: every call of the download is in Zoom's Medium category
  (``GET /users``, ``GET /users/{id}/settings``), so the floor is Medium calls / 60 per second;
  target ratio <= 1.15;
* rows written per second (staged users and subscriptions over the whole wall time);
* peak resident memory of the download process; target < 400 MB at 100,000 users, and not
  growing with the account size.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

from bench.child import run_child

ANCHOR = datetime(2026, 11, 28, tzinfo=timezone.utc)
MEDIUM_LIMIT = 60  # Business plan, requests per second
LATENCY_MS = 50
RATIO_TARGET = 1.15
MEMORY_TARGET_MB = 400
PG_ADMIN_URL = os.environ.get("ZOOM_SAM_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def run(quick: bool) -> None:
    from zoom_sandbox.process import SandboxProcess

    sizes = (1_000, 3_000) if quick else (10_000, 100_000)
    print(f"{'users':>8} {'warehouse':<10} {'wall s':>8} {'floor s':>8} {'ratio':>6} {'calls':>7} "
          f"{'rows/s':>8} {'peak MB':>8}", flush=True)
    for size in sizes:
        with SandboxProcess(users=size, anchor=ANCHOR.date(), latency_ms=LATENCY_MS) as sandbox:
            connection = sandbox.connection_json()
            for dialect in ("sqlite", "postgresql"):
                with _warehouse_url(dialect) as url:
                    r = run_child("download", url, connection)
                floor = r["medium_calls"] / MEDIUM_LIMIT
                ratio = r["wall_s"] / floor
                print(f"{size:>8} {dialect:<10} {r['wall_s']:>8.1f} {floor:>8.1f} {ratio:>6.2f} {r['calls']:>7} "
                      f"{r['rows'] / r['wall_s']:>8.0f} {r['peak_mb']:>8.0f}"
                      f"{'' if ratio <= RATIO_TARGET else '  (ratio over target)'}"
                      f"{'' if r['peak_mb'] < MEMORY_TARGET_MB else '  (memory over target)'}", flush=True)
    print(f"targets: ratio <= {RATIO_TARGET}; peak < {MEMORY_TARGET_MB} MB at 100,000 users, flat across sizes")


@contextmanager
def _warehouse_url(dialect: str) -> Iterator[str]:
    """A fresh, empty warehouse per run: a SQLite file, or a PostgreSQL database dropped afterwards."""
    if dialect == "sqlite":
        with tempfile.TemporaryDirectory(prefix="zoom-sam-bench-") as folder:
            yield f"sqlite:///{folder}/warehouse.db"
        return
    import sqlalchemy as sa

    name = f"zoom_sam_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _measure(url: str) -> dict:
    """One download into the warehouse at ``url``, in this (fresh) process."""
    import logging

    from zoom_sam.hooks.zoom import ZoomHook
    from zoom_sam.process import GivenZoom, context_for
    from zoom_sam.profiles import Profile
    from zoom_sam.subscriptions import process as download_process
    from zoom_sam.warehouse.engine import engine_for_url
    from zoom_sam.warehouse.migrate import ensure_schema

    logging.getLogger("zoom_sam").setLevel(logging.WARNING)
    profile = Profile(alias="bench", zoom_conn_id="zoom_bench",
                      exclusions={"users": [{"email": "svc-*@example.com"}]})
    engine = engine_for_url(url)
    ensure_schema(engine)
    client = ZoomHook(zoom_conn_id="zoom_bench").get_conn()
    ctx = context_for(engine, profile, ANCHOR, run_id="bench")
    job = ctx.job
    started = time.monotonic()
    download_process.run(ctx, GivenZoom(client))
    wall = time.monotonic() - started
    client.close()
    engine.dispose()
    calls = job.api["calls"]
    return {"wall_s": wall, "calls": sum(calls.values()), "medium_calls": calls.get("Medium", 0),
            "rows": job.counts["rows_staged"],
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="internal: one measured download (see dev/bench/download.py)")
    parser.add_argument("--child", metavar="WAREHOUSE_URL", required=True)
    print(json.dumps(_measure(parser.parse_args().child)))
