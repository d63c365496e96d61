"""``python -m zoom_sam_demo`` (``make demo``): the demo profile's DAG end to end, then a summary.

1. starts the Zoom sandbox as a subprocess (2,000 users, anchored at today 00:00 UTC) and exports
   its connection as ``AIRFLOW_CONN_ZOOM_DEMO``;
2. migrates the Airflow metadata database of ``$AIRFLOW_HOME`` (project-local ``.airflow`` under
   ``make``) when it needs it;
3. runs ``airflow dags test zoom_sam__demo <today>``, a real DAG run without a scheduler;
4. prints what landed in the warehouse (the embedded SQLite ``$AIRFLOW_HOME/zoom_sam.db`` unless
   a ``zoom_sam_warehouse`` connection exists) and stops the sandbox.

It exits non-zero when any step fails, with the end of the failing step's output.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa

from project import ROOT, airflow_environment
from zoom_sandbox.process import SandboxProcess

DAG_ID = "zoom_sam__demo"
USERS = 2000
SEED = 7


class DemoError(RuntimeError):
    pass


def main() -> int:
    _default_environment()
    logging.getLogger("zoom_sam").setLevel(logging.WARNING)  # the report names the warehouse itself
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    print(f"starting the Zoom sandbox: {USERS} users, anchor {today.date()}", flush=True)
    sandbox = SandboxProcess(users=USERS, seed=SEED, anchor=today.date())
    try:
        sandbox.start()
        os.environ["AIRFLOW_CONN_ZOOM_DEMO"] = sandbox.connection_json()
        _migrate_airflow_db()
        log_path = Path(os.environ["AIRFLOW_HOME"]) / "demo-dags-test.log"
        print(f"running: airflow dags test {DAG_ID} {today.date()}  (full log: {log_path})", flush=True)
        _run(["airflow", "dags", "test", DAG_ID, today.date().isoformat()], log_path,
             extra_env={"ZOOM_SAM_TASK_RETRIES": "0"})
        print(report(today))
    except (DemoError, RuntimeError, OSError) as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    finally:
        sandbox.stop()
    return 0


def report(as_of: datetime) -> str:
    """The demo profile's state in the warehouse after the run of ``as_of``."""
    from zoom_sam.warehouse.engine import get_engine
    from zoom_sam.warehouse.schema import (
        job_result,
        license_position as position,
        reclaim_action,
        removal_candidate as candidate,
        unrecognized_subscription_identifier as unrecognized,
    )
    from zoom_sam.warehouse.sql import run_sql

    engine = get_engine("zoom_sam_warehouse")
    try:
        with engine.connect() as conn:
            by_model = list(run_sql(conn, "download/subscriptions_by_model", {"alias": "demo"}))
            ids = conn.execute(
                sa.select(unrecognized.c.identifier, unrecognized.c.subscription_count)
                .where(unrecognized.c.profile_alias == "demo", unrecognized.c.subscription_count > 0)
                .order_by(unrecognized.c.identifier)
            ).all()
            positions = conn.execute(
                sa.select(position.c.software_model, position.c.threshold_days, position.c.purchased,
                          position.c.assigned, position.c.active, position.c.stale, position.c.excluded,
                          position.c.reclaimable, position.c.potential_savings, position.c.currency)
                .where(position.c.profile_alias == "demo", position.c.as_of == as_of)
                .order_by(position.c.software_model)
            ).all()
            reasons = conn.execute(
                sa.select(candidate.c.state, candidate.c.reason, sa.func.count())
                .where(candidate.c.profile_alias == "demo", candidate.c.evaluated_as_of == as_of)
                .group_by(candidate.c.state, candidate.c.reason).order_by(candidate.c.state, candidate.c.reason)
            ).all()
            latest_run = conn.execute(
                sa.select(job_result.c.run_id).where(job_result.c.profile_alias == "demo", job_result.c.as_of == as_of)
                .order_by(job_result.c.started_at.desc()).limit(1)
            ).scalar_one_or_none()
            jobs = conn.execute(
                sa.select(job_result.c.task_id, job_result.c.status, job_result.c.duration_s, job_result.c.api)
                .where(job_result.c.profile_alias == "demo", job_result.c.run_id == latest_run)
                .order_by(job_result.c.started_at)
            ).all()
            planned = conn.execute(
                sa.select(reclaim_action.c.action, reclaim_action.c.status, sa.func.count())
                .where(reclaim_action.c.profile_alias == "demo", reclaim_action.c.run_id == latest_run)
                .group_by(reclaim_action.c.action, reclaim_action.c.status).order_by(reclaim_action.c.action)
            ).all()
    finally:
        engine.dispose()
    lines = [f"\nZoom SAM demo: warehouse {engine.url.render_as_string(hide_password=True)}, as of {as_of.isoformat()}",
             "", f"  {'software model':<28} {'active':>7} {'excluded':>9} {'ended':>6}"]
    lines += [f"  {model:<28} {active:>7} {excluded:>9} {ended:>6}" for model, active, excluded, ended in by_model]
    lines += ["", f"  excluded subscriptions: {sum(int(row[2]) for row in by_model)} (exclusion rules of demo.yaml)",
              "", "  unrecognized identifiers (map them with identifier_models):"]
    lines += [f"    {identifier:<26} {count:>5} subscriptions" for identifier, count in ids] or ["    none"]
    lines += ["", "  license position (purchased vs assigned; used within the rule's threshold; savings per year):",
              f"    {'software model':<26} {'days':>4} {'owned':>6} {'assigned':>8} {'used':>5} {'stale':>5} "
              f"{'excl':>5} {'reclaim':>7} {'potential savings':>18}"]
    lines += [f"    {m:<26} {days:>4} {owned:>6} {assigned:>8} {used:>5} {stale:>5} {excl:>5} {reclaim:>7} "
              f"{float(savings):>14,.2f} {currency or ''}"
              for m, days, owned, assigned, used, stale, excl, reclaim, savings, currency in positions] or ["    none"]
    lines += ["", "  removal candidates of this run (state, reason):"]
    lines += [f"    {state:<20} {reason:<22} {count:>5}" for state, reason, count in reasons] or ["    none"]
    lines += ["", "  reclaim (dry run: what would be sent to Zoom; nothing was):"]
    lines += [f"    {action:<30} {status:<12} {count:>5}" for action, status, count in planned] or ["    nothing"]
    lines += ["", f"  job results of run {latest_run}:"]
    for task_id, status, duration, api in jobs:
        calls = sum((api or {}).get("calls", {}).values()) if isinstance(api, dict) else 0
        lines.append(f"    {task_id:<26} {status:<21} {duration or 0:>7.1f} s {calls:>6} Zoom calls")
    return "\n".join(lines) + "\n"


def _migrate_airflow_db() -> None:
    home = Path(os.environ["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    check = subprocess.run(["airflow", "db", "check-migrations", "-t", "0"], capture_output=True, text=True)
    if check.returncode == 0:
        return
    print(f"migrating the Airflow metadata database in {home} (first run only)", flush=True)
    _run(["airflow", "db", "migrate"], home / "demo-db-migrate.log")


def _run(cmd: list[str], log_path: Path, extra_env: dict[str, str] | None = None) -> None:
    with log_path.open("w") as log:
        done = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(extra_env or {})})
    if done.returncode != 0:
        tail = log_path.read_text(errors="replace").splitlines()[-60:]
        raise DemoError(f"`{' '.join(cmd)}` exited with {done.returncode}; last lines of {log_path}:\n"
                        + "\n".join(tail))


def _default_environment() -> None:
    """What ``scripts/env.sh`` sets, for a demo started without it; never overrides."""
    for name, value in airflow_environment(ROOT / ".airflow").items():
        os.environ.setdefault(name, value)
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


if __name__ == "__main__":
    raise SystemExit(main())
