"""The views at scale: every API endpoint and page of the UI against a year-old 100,000-subscription profile.

``python -m bench ui [--quick]`` (quick: 10x smaller account, fewer repeats). On PostgreSQL (a
temporary database on ``ZOOM_SAM_TEST_PG``'s server, dropped afterwards):

1. the account of the reconcile benchmark (``bench/reconcile.py``: 100,000 subscriptions, a year
   of hosting, written in the database with INSERT ... SELECT), reconciled by the real reconcile
   process at the as-of: candidates with their evidence, the position and the threshold
   simulation as a run leaves them;
2. a year of history around it, as daily runs would have left it: a position and a simulation for
   each of the 364 days before (the account growing to its size), a job result of every task of
   every daily run, a candidate closed by a reclaim (with its action) each week for one in 52
   open ones, the models, and identifiers no model was found for;
3. each endpoint and page timed over several requests through Airflow's own API server app in
   this process (FastAPI's TestClient: the plugin mounted by its entry point, Airflow's
   middleware, a token from ``POST /auth/token``; no network), printed as p50 and p95 against the
   300 ms target as ratios (figure / limit), after one request that builds the views' app (the
   lazy start of every API server process, printed on its own). The exports (every row of a
   filter as a file) are downloads rather than pages; they are timed against the same target to
   show how far off they are.

The Airflow metadata database of ``$AIRFLOW_HOME`` is migrated when it needs it (the overview
reads each DAG's next run there).
"""
from __future__ import annotations

import itertools
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from unittest import mock

import sqlalchemy as sa

from bench import reconcile as account
from zoom_sam.process import GivenZoom, context_for
from zoom_sam.profile_rows import upsert_profile
from zoom_sam.reconcile.process import run as reconcile
from zoom_sam.vocabulary import CandidateState, JobStatus, TaskId
from zoom_sam.warehouse.engine import engine_for_url
from zoom_sam.warehouse.migrate import ensure_schema

ALIAS = account.ALIAS
CONN_ID = "zoom_sam_bench_ui"
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
AS_OF = account.AS_OF
TARGET_S = 0.3
HISTORY_DAYS = 364
# Each daily run's tasks (four sweep shards), with the status and seconds a healthy day gives them.
DAILY_TASKS = ((TaskId.VALIDATE_PROFILE, JobStatus.SUCCESS, 1),
               (TaskId.DOWNLOAD_SUBSCRIPTIONS, JobStatus.SUCCESS, 640),
               *((f"{TaskId.SWEEP_ACTIVITY}[{shard}]", JobStatus.SUCCESS, 190) for shard in range(4)),
               (TaskId.PULL_ACTIVITY, JobStatus.SUCCESS, 2),
               (TaskId.RECONCILE, JobStatus.SUCCESS, 3),
               (TaskId.RECLAIM, JobStatus.DRY_RUN, 1))
MODELS = (("zoom_meetings_licensed", "Zoom Meetings", "Licensed", None, "user_type:2"),
          ("zoom_webinar_500", "Zoom Webinars", "Webinar 500", 500, "webinar:500"),
          ("zoom_large_meeting_500", "Zoom Meetings", "Large Meeting 500", 500, "large_meeting:500"))
# Airflow's scheduled run id of a UTC timestamp column (naive in the warehouse), in SQL.
RUN_ID_SQL = "'scheduled__' || to_char({0}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || '+00:00'"
UNRECOGNIZED = (("zoom_rooms:1", 12), ("whiteboard:plus", 7), ("cloud_recording:3tb", 2))


def run(quick: bool) -> None:
    users = account.FULL_USERS // 10 if quick else account.FULL_USERS
    _, url, cleanup = account._postgres()
    engine = engine_for_url(url)
    try:
        ensure_schema(engine)
        clock = time.monotonic()
        subscriptions, events = account._generate(engine, users)
        summary = reconcile(context_for(engine, account.PROFILE_OF_BENCH, AS_OF, run_id=_run_id(AS_OF)),
                            GivenZoom()).report
        history = generate_history(engine)
        print(f"  postgresql: {subscriptions:,} subscriptions, {events:,} events, "
              f"{summary['candidates']['opened']:,} open candidates; history {history} "
              f"in {time.monotonic() - clock:.0f} s", flush=True)
        with views_as_admin(url) as get:
            clock = time.perf_counter()
            get("/zoom-sam/api/profiles")
            print(f"  the API server's first request to the views (imports and builds their app): "
                  f"{(time.perf_counter() - clock) * 1000:.0f} ms, once per server start, not timed below", flush=True)
            report({**time_requests(get, endpoints(), repeats=3 if quick else 10), **time_requests(get, exports(), 3)})
    finally:
        engine.dispose()
        cleanup()


def _run_id(as_of) -> str:
    """Airflow's id of the scheduled run of ``as_of``, as :data:`RUN_ID_SQL` writes it too."""
    return f"scheduled__{as_of.isoformat()}"


def generate_history(engine: sa.Engine) -> dict[str, int]:
    """The year before the as-of, from what reconcile left at it; returns rows added per table."""
    as_of = AS_OF.replace(tzinfo=None)
    params = {"alias": ALIAS, "as_of": as_of, "days": HISTORY_DAYS}
    added = {}
    with engine.begin() as conn:
        # Day d before: the account had (1 - d/1000) of its size, every count and cost scaled alike.
        scaled = "CAST(p.{0} * (1 - d / 1000.0) AS INTEGER)"
        counts = ("purchased", "assigned", "active", "stale", "excluded", "reclaimable", "dist_0_30", "dist_30_60",
                  "dist_60_90", "dist_90_120", "dist_120_plus", "dist_never")
        money = ("over_licensed_cost", "true_up_cost", "potential_savings", "actual_savings")
        added["license_position"] = _insert(conn, (
            f"INSERT INTO license_position (profile_alias, as_of, software_model, threshold_days, unit_cost, currency, "
            f"computed_at, {', '.join(counts + money)}) "
            "SELECT p.profile_alias, p.as_of - d * INTERVAL '1 day', p.software_model, p.threshold_days, p.unit_cost, "
            "p.currency, p.computed_at - d * INTERVAL '1 day', "
            + ", ".join(scaled.format(c) for c in counts) + ", "
            + ", ".join(f"p.{c} * (1 - d / 1000.0)" for c in money)
            + " FROM license_position p CROSS JOIN generate_series(1, :days) d "
            "WHERE p.profile_alias = :alias AND p.as_of = :as_of"), params)
        added["threshold_simulation"] = _insert(conn, (
            "INSERT INTO threshold_simulation (profile_alias, as_of, software_model, threshold_days, candidates, "
            "potential_savings) "
            "SELECT s.profile_alias, s.as_of - d * INTERVAL '1 day', s.software_model, s.threshold_days, "
            "CAST(s.candidates * (1 - d / 1000.0) AS INTEGER), s.potential_savings * (1 - d / 1000.0) "
            "FROM threshold_simulation s CROSS JOIN generate_series(1, :days) d "
            "WHERE s.profile_alias = :alias AND s.as_of = :as_of"), params)
        starts = itertools.accumulate((seconds for _, _, seconds in DAILY_TASKS), initial=0)
        tasks = " UNION ALL ".join(f"SELECT '{task}' AS task_id, '{status}' AS status, {start} AS offset_s, "
                                   f"{seconds} AS seconds"
                                   for start, (task, status, seconds) in zip(starts, DAILY_TASKS))
        added["job_result"] = _insert(conn, (
            "INSERT INTO job_result (profile_alias, run_id, task_id, as_of, status, try_number, started_at, "
            "finished_at, duration_s, counts, api, message) "
            f"SELECT :alias, {RUN_ID_SQL.format('day')}, t.task_id, day, "
            "t.status, 1, day + t.offset_s * INTERVAL '1 second', "
            "day + (t.offset_s + t.seconds) * INTERVAL '1 second', t.seconds, "
            "CAST('{\"subscriptions\": 100000}' AS JSON), "
            "CAST('{\"calls\": {\"Medium\": 3516}, \"rate_limited\": 0, \"retries\": 0}' AS JSON), NULL "
            f"FROM (SELECT CAST(:as_of AS TIMESTAMP) - d * INTERVAL '1 day' AS day "
            f"FROM generate_series(0, :days) d) days CROSS JOIN ({tasks}) t"), params)
        closed = {**params, "closed": CandidateState.CLOSED_COMPLETE.value,
                  "open": [s.value for s in (CandidateState.READY, CandidateState.AWAITING_APPROVAL)]}
        added["removal_candidate"] = _insert(conn, sa.text(
            "INSERT INTO removal_candidate (profile_alias, user_id, identifier, email, software_model, state, reason, "
            "evidence, threshold_days, opened_as_of, evaluated_as_of, closed_at, close_reason, run_id, created_at, "
            "updated_at) "
            "SELECT c.profile_alias, c.user_id, c.identifier, c.email, c.software_model, :closed, c.reason, "
            "c.evidence, c.threshold_days, w.closed_on - INTERVAL '1 day', w.closed_on, "
            f"w.closed_on + INTERVAL '1 hour', 'reclaimed', {RUN_ID_SQL.format('w.closed_on')}, "
            "w.closed_on, w.closed_on "
            "FROM removal_candidate c "
            "JOIN (SELECT n, CAST(:as_of AS TIMESTAMP) - n * 7 * INTERVAL '1 day' AS closed_on "
            "FROM generate_series(1, 52) n) w ON c.candidate_id % 52 = w.n - 1 "
            "WHERE c.profile_alias = :alias AND c.state IN :open"
        ).bindparams(sa.bindparam("open", expanding=True)),
            closed)
        added["reclaim_action"] = _insert(conn, (
            "INSERT INTO reclaim_action (profile_alias, candidate_id, run_id, user_id, email, software_model, action, "
            "status, dry_run, http_status, requested_at, completed_at, attempts, confirmation) "
            "SELECT profile_alias, candidate_id, run_id, user_id, email, software_model, 'downgrade_to_basic', "
            "'succeeded', FALSE, 204, closed_at, closed_at, 1, 'user type read back: 1 (Basic)' "
            "FROM removal_candidate WHERE profile_alias = :alias AND state = :closed"), closed)
        added["software_model"] = _insert(conn, (
            "INSERT INTO software_model (profile_alias, software_model, publisher, product, edition, capacity, source, "
            "first_seen_at, last_seen_at) VALUES " + ", ".join(
                f"(:alias, '{model}', 'Zoom', '{product}', '{edition}', {capacity or 'NULL'}, 'builtin', "
                "CAST(:as_of AS TIMESTAMP) - :days * INTERVAL '1 day', :as_of)"
                for model, product, edition, capacity, _ in MODELS)), params)
        _insert(conn, (
            "INSERT INTO subscription_identifier (profile_alias, identifier, software_model, source, first_seen_at, "
            "last_seen_at) VALUES " + ", ".join(
                f"(:alias, '{identifier}', '{model}', 'builtin', CAST(:as_of AS TIMESTAMP) - :days * INTERVAL '1 day', "
                ":as_of)" for model, _, _, _, identifier in MODELS)), params)
        added["unrecognized"] = _insert(conn, (
            "INSERT INTO unrecognized_subscription_identifier (profile_alias, identifier, subscription_count, "
            "first_seen_at, last_seen_at) VALUES " + ", ".join(
                f"(:alias, '{identifier}', {count}, CAST(:as_of AS TIMESTAMP) - 30 * INTERVAL '1 day', :as_of)"
                for identifier, count in UNRECOGNIZED)), params)
        # The profile as the first of the year's runs recorded it.
        upsert_profile(conn, account.PROFILE_OF_BENCH, AS_OF - timedelta(days=HISTORY_DAYS))
    account._analyze(engine)
    return added


def _insert(conn: sa.Connection, statement: str | sa.TextClause, params: dict) -> int:
    text = statement if isinstance(statement, sa.TextClause) else sa.text(statement)
    return conn.execute(text, params).rowcount


def endpoints() -> dict[str, str]:
    """What a person opens and what a script asks, by name -> path under the app's mount."""
    day = AS_OF.date().isoformat()
    profile = f"/zoom-sam/api/profiles/{ALIAS}"
    return {
        "page /": "/zoom-sam/",
        "page profile": f"/zoom-sam/profiles/{ALIAS}",
        "page usage": f"/zoom-sam/profiles/{ALIAS}/usage?as_of={day}",
        "page candidates": f"/zoom-sam/profiles/{ALIAS}/candidates",
        "api profiles": "/zoom-sam/api/profiles",
        "api profile": profile,
        "api position": f"{profile}/position?as_of={day}",
        "api candidates": f"{profile}/candidates",
        "api candidates filtered": f"{profile}/candidates?state={CandidateState.READY}&software_model="
                                   f"zoom_meetings_licensed&reason=no_hosting_since&as_of={day}",
        "api candidates page 100": f"{profile}/candidates?page=100&page_size=100",
        "api subscriptions": f"{profile}/subscriptions",
        "api subscriptions search": f"{profile}/subscriptions?q=u4242",
        "api subscriptions filtered": f"{profile}/subscriptions?software_model=zoom_webinar_500&state=active"
                                      f"&last_activity_before={(AS_OF - timedelta(days=90)).date()}",
        "api subscriptions page 500": f"{profile}/subscriptions?page=500&page_size=100",
        "api unrecognized": f"{profile}/unrecognized",
        "api jobs": f"{profile}/jobs",
    }


def exports() -> dict[str, str]:
    """Every row of a table as a file: downloads of seconds, timed a few times only."""
    profile = f"/zoom-sam/api/profiles/{ALIAS}"
    return {"export candidates csv": f"{profile}/candidates?format=csv",
            "export subscriptions csv": f"{profile}/subscriptions?format=csv",
            "export candidates xlsx": f"{profile}/candidates?format=xlsx"}


def time_requests(get: Callable[[str], int], paths: dict[str, str], repeats: int) -> dict[str, list[float] | int]:
    """Seconds of each request, ``repeats`` per path (``get(path)`` answers the status); a path
    that does not answer 200 gets its status instead, and the others are still timed."""
    seconds: dict[str, list[float] | int] = {}
    for name, path in paths.items():
        samples = []
        for _ in range(repeats):
            clock = time.perf_counter()
            status = get(path)
            samples.append(time.perf_counter() - clock)
            if status != 200:
                samples = status
                break
        seconds[name] = samples
    return seconds


def percentile(samples: list[float], p: int) -> float:
    """The p-th percentile, interpolated between the samples (a single sample is every percentile)."""
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1]


def report(seconds: dict[str, list[float] | int]) -> None:
    width = max(len(name) for name in seconds)
    print(f"  {'request':<{width}}  {'p50':>14}  {'p95':>14}   (ratio = figure / {TARGET_S * 1000:.0f} ms target)")
    for name, samples in seconds.items():
        if isinstance(samples, int):
            print(f"  {name:<{width}}  FAILED: answered HTTP {samples}", flush=True)
            continue
        p50, p95 = percentile(samples, 50), percentile(samples, 95)
        over = "  OVER" if p95 > TARGET_S else ""
        print(f"  {name:<{width}}  {p50 * 1000:6.0f} ms {p50 / TARGET_S:5.2f}  {p95 * 1000:6.0f} ms "
              f"{p95 / TARGET_S:5.2f}{over}", flush=True)


@contextmanager
def views_as_admin(url: str) -> Iterator[Callable[[str], int]]:
    """``get(path) -> status`` as SimpleAuthManager's admin, through Airflow's API server app with the
    bench profile (its warehouse at ``url``) in a profiles folder of its own, the environment restored
    afterwards."""
    with tempfile.TemporaryDirectory(prefix="zoom-sam-bench-ui-") as name:
        folder = Path(name)
        password = secrets.token_urlsafe(12)
        (folder / "passwords.json").write_text(json.dumps({"admin": password}))
        (folder / f"{ALIAS}.yaml").write_text(
            f"alias: {ALIAS}\nzoom_conn_id: zoom_bench\nwarehouse_conn_id: {CONN_ID}\n")
        u = sa.make_url(url)
        env = {"ZOOM_SAM_PROFILES_DIR": str(folder),
               f"AIRFLOW_CONN_{CONN_ID.upper()}": json.dumps({"conn_type": "postgres", "host": u.host,
                                                              "port": u.port, "login": u.username,
                                                              "schema": u.database}),
               "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
               "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
               "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
               "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(folder / "passwords.json"),
               "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32), "AIRFLOW__API__HOST": "127.0.0.1"}
        with mock.patch.dict(os.environ, env):
            yield from _admin_requests(password)


def _admin_requests(password: str) -> Iterator[Callable[[str], int]]:
    """The app as ``airflow api-server`` builds it (plugins, auth manager, middleware), logged in
    with ``POST /auth/token`` like a script; the metadata database is migrated first when it needs
    it, because the overview reads each DAG's next run there."""
    migrated = subprocess.run([str(Path(sys.executable).with_name("airflow")), "db", "migrate"],
                              capture_output=True, text=True)
    if migrated.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{migrated.stdout[-2000:]}{migrated.stderr[-2000:]}")
    from airflow.api_fastapi.app import create_app
    from fastapi.testclient import TestClient

    app = create_app(apps="core")
    if not any(getattr(route, "path", "") == "/zoom-sam" for route in app.routes):
        raise RuntimeError("the zoom-sam plugin is not mounted: its airflow.plugins entry point is registered "
                           "by the editable install (scripts/bootstrap.sh)")
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.post("/auth/token", json={"username": "admin", "password": password})
        if answer.status_code != 201:
            raise RuntimeError(f"POST /auth/token answered {answer.status_code}: {answer.text}")
        headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        yield lambda path: client.get(path, headers=headers).status_code
