"""Reconcile at scale: 100,000 subscriptions and one year of hosting (about 5 million events).

``python -m bench reconcile [--quick]`` (quick: 10x smaller). On SQLite (a temporary file) and on
PostgreSQL (a temporary database on ``ZOOM_SAM_TEST_PG``'s server), each:

* the first reconcile of the account (every candidate opened), a re-run of the same as-of
  (nothing changes) and the next day's run (every open candidate refreshed): wall time against the
  30 s target, and memory: the Python heap's peak during the run (tracemalloc) and the process's
  peak resident size, which stay flat however large the account is, because the work stays in
  the database;
* the time of each statement, and the query plans of the two heaviest, to show the indexes used.

The account is generated inside the database with INSERT ... SELECT over a numbers table. This
set-up SQL is dialect-specific (date arithmetic, a recursive CTE); the reconcile statements it
feeds are the shared ones.
"""
from __future__ import annotations

import os
import resource
import tempfile
import time
import tracemalloc
import uuid
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

from zoom_sam.process import GivenZoom, context_for
from zoom_sam.profiles import Profile
from zoom_sam.reconcile.process import run as reconcile
from zoom_sam.rules import PROFILE
from zoom_sam.vocabulary import EventType, Mode, UserStatus
from zoom_sam.warehouse.engine import engine_for_url
from zoom_sam.warehouse.migrate import ensure_schema
from zoom_sam.warehouse.schema import activity_coverage
from zoom_sam.warehouse.sql import sql_dir

ALIAS = "bench"
AS_OF = datetime(2026, 11, 28, tzinfo=timezone.utc)
TARGET_S = 30.0
PROFILE_OF_BENCH = Profile.model_validate({"alias": ALIAS, "zoom_conn_id": "zoom_bench",
                                           "reclaim": {"mode": Mode.DRY_RUN.value}})
PG_ADMIN_URL = os.environ.get("ZOOM_SAM_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")

# One account of ``users`` seat holders; the first 10/85 of them also hold a webinar add-on, the
# next 5/85 a large-meeting add-on: 100,000 subscriptions for 85,000 users at full size.
# Users by u % 10: 0-5 host about twice a week all year (95 events), 6-7 host rarely and not
# lately (10 events, 30 to 365 days ago), 8 stopped four months ago (20 events), 9 never host.
# 1% are excluded, 1% are pending invitations, 2% are new accounts.
FULL_USERS = 85_000
EVENTS = {0: 95, 1: 95, 2: 95, 3: 95, 4: 95, 5: 95, 6: 10, 7: 10, 8: 20, 9: 0}
# (earliest, span) of event ages in seconds, by class.
YEAR_S = 365 * 86400
AGES = {**{c: (0, YEAR_S) for c in range(6)}, 6: (30 * 86400, 335 * 86400), 7: (30 * 86400, 335 * 86400),
        8: (120 * 86400, 245 * 86400), 9: (0, 1)}


def run(quick: bool) -> None:
    users = FULL_USERS // 10 if quick else FULL_USERS
    for name, url, cleanup in (_sqlite(), _postgres()):
        try:
            _bench(name, url, users)
        finally:
            cleanup()


def _sqlite():
    folder = tempfile.mkdtemp(prefix="zoom-sam-bench-")
    path = Path(folder) / "warehouse.db"

    def cleanup():
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.rmdir(folder)

    return "sqlite", f"sqlite:///{path}", cleanup


def _postgres():
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"zoom_sam_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def cleanup():
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return "postgresql", PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", cleanup


def _bench(name: str, url: str, users: int) -> None:
    engine = engine_for_url(url)
    try:
        ensure_schema(engine)
        clock = time.monotonic()
        subscriptions, events = _generate(engine, users)
        print(f"  {name}: generated {subscriptions:,} subscriptions, {events:,} events "
              f"in {time.monotonic() - clock:.0f} s", flush=True)
        timings = _StatementTimer(engine)
        for label, as_of in (("first run", AS_OF), ("re-run, same as-of", AS_OF), ("next day", AS_OF + timedelta(days=1))):
            if as_of > AS_OF:
                _extend_coverage(engine, as_of)
            timings.reset()
            wall, heap_peak, summary = _measured(engine, as_of)
            print(f"  {name} {label}: {wall:.1f} s ({wall / TARGET_S:.2f} of the {TARGET_S:.0f} s target), "
                  f"Python heap peak {heap_peak / 1e6:.1f} MB, process peak RSS so far "
                  f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3:.0f} MB; "
                  f"verdicts {summary['verdicts']}, candidates opened {summary['candidates']['opened']}, "
                  f"refreshed {summary['candidates']['refreshed']}", flush=True)
            ranked = timings.report()
            if label == "first run":
                heaviest = ranked
        for statement, (text, params) in heaviest:
            print(f"  {name}: plan of {statement}", flush=True)
            for line in _plan(engine, text, params):
                print(f"      {line}")
    finally:
        engine.dispose()


def _measured(engine, as_of):
    tracemalloc.start()
    clock = time.monotonic()
    ctx = context_for(engine, PROFILE_OF_BENCH, as_of, run_id=f"bench__{as_of.date()}")
    summary = reconcile(ctx, GivenZoom()).report
    wall = time.monotonic() - clock
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return wall, peak, summary


class _StatementTimer:
    """Times each reconcile statement, named by its file, and keeps the heaviest ones' text."""

    def __init__(self, engine):
        self.names = {path.read_text().splitlines()[0]: path.stem for path in (sql_dir() / "reconcile").glob("*.sql")}
        self.reset()
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def reset(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self.statements: dict[str, tuple[str, object]] = {}

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_clock"] = time.monotonic()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        name = self.names.get(statement.splitlines()[0] if statement else "", "(other)")
        self.seconds[name] += time.monotonic() - conn.info.pop("bench_clock")
        if name != "(other)":
            self.statements[name] = (statement, parameters)

    def report(self):
        ranked = sorted(self.seconds.items(), key=lambda item: -item[1])
        print("    statements: " + ", ".join(f"{n} {s:.2f} s" for n, s in ranked), flush=True)
        return [(n, self.statements[n]) for n, _ in ranked if n in self.statements][:2]


def _plan(engine, statement, params):
    """The plan of one captured statement, without running it."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
            depth = {0: -1}
            lines = []
            for node, parent, _, detail in rows:
                depth[node] = depth.get(parent, -1) + 1
                lines.append("  " * depth[node] + detail)
            return lines
        return [row[0] for row in conn.exec_driver_sql("EXPLAIN " + statement, params).all()]


def _generate(engine, users: int) -> tuple[int, int]:
    """The bench account, written in the database; returns (subscriptions, events)."""
    dialect = engine.dialect.name
    webinar_holders, large_holders = users * 10 // 85, users * 5 // 85
    as_of_naive = AS_OF.replace(tzinfo=None)
    with engine.begin() as conn:
        _sql(conn, "CREATE TABLE bench_n (n INTEGER PRIMARY KEY)")
        _sql(conn, 
            f"INSERT INTO bench_n (n) WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c WHERE n < {users - 1}) "
            "SELECT n FROM c"
        )
        _sql(conn, "CREATE TABLE bench_user (u BIGINT PRIMARY KEY, user_id VARCHAR(32), events INTEGER, "
                   "age_from BIGINT, age_step BIGINT, webinar INTEGER)")
        events_case = " ".join(f"WHEN {c} THEN {n}" for c, n in EVENTS.items())
        from_case = " ".join(f"WHEN {c} THEN {a}" for c, (a, _) in AGES.items())
        step_case = " ".join(f"WHEN {c} THEN {s // max(EVENTS[c], 1)}" for c, (_, s) in AGES.items())
        _sql(conn, 
            "INSERT INTO bench_user (u, user_id, events, age_from, age_step, webinar) "
            f"SELECT n, 'u' || CAST(n AS VARCHAR(12)), CASE n % 10 {events_case} END, CASE n % 10 {from_case} END, "
            f"CASE n % 10 {step_case} END, CASE WHEN n < {webinar_holders} THEN 1 ELSE 0 END FROM bench_n"
        )
        # 2% of the accounts are new (created 20 days ago; never hosting), the rest 500 days old.
        if dialect == "sqlite":
            created = (f"CASE WHEN u % 50 = 19 THEN '{as_of_naive - timedelta(days=20):%Y-%m-%d %H:%M:%S}.000000' "
                       f"ELSE '{as_of_naive - timedelta(days=500):%Y-%m-%d %H:%M:%S}.000000' END")
            # SQLAlchemy's SQLite text format, so comparisons with bound datetimes stay exact.
            occurred = (f"strftime('%Y-%m-%d %H:%M:%S', {int(AS_OF.timestamp())} - age, 'unixepoch') || '.000000'")
        else:
            created = (f"CASE WHEN u % 50 = 19 THEN TIMESTAMP '{as_of_naive - timedelta(days=20)}' "
                       f"ELSE TIMESTAMP '{as_of_naive - timedelta(days=500)}' END")
            occurred = f"TIMESTAMP '{as_of_naive}' - age * INTERVAL '1 second'"
        stamp = f"'{as_of_naive:%Y-%m-%d %H:%M:%S}.000000'" if dialect == "sqlite" else f"TIMESTAMP '{as_of_naive}'"
        status = f"CASE WHEN u % 100 = 42 THEN '{UserStatus.PENDING}' ELSE '{UserStatus.ACTIVE}' END"
        _sql(conn, 
            "INSERT INTO zoom_user (profile_alias, user_id, email, user_type, status, user_created_at, present, "
            "first_seen_at, last_seen_at, updated_at) "
            f"SELECT '{ALIAS}', CASE WHEN u % 100 = 42 THEN user_id || '@example.com' ELSE user_id END, "
            f"user_id || '@example.com', 2, {status}, {created}, "
            f"TRUE, {stamp}, {stamp}, {stamp} FROM bench_user"
        )
        # Pending invitations hold the seat only (add-ons need an active user).
        for condition, identifier, model in (("1 = 1", "user_type:2", "zoom_meetings_licensed"),
                                             (f"u < {webinar_holders} AND u % 100 <> 42", "webinar:500",
                                              "zoom_webinar_500"),
                                             (f"u >= {webinar_holders} AND u < {webinar_holders + large_holders} "
                                              "AND u % 100 <> 42", "large_meeting:500", "zoom_large_meeting_500")):
            _sql(conn, 
                "INSERT INTO software_subscription (profile_alias, user_id, identifier, email, software_model, "
                "user_status, active, excluded, first_seen_at, last_seen_at, updated_at) "
                f"SELECT '{ALIAS}', CASE WHEN u % 100 = 42 THEN user_id || '@example.com' ELSE user_id END, "
                f"'{identifier}', user_id || '@example.com', '{model}', "
                f"{status}, TRUE, u % 100 = 7, "
                f"{stamp}, {stamp}, {stamp} FROM bench_user WHERE {condition}"
            )
        # Event k of user u: spread evenly over the user's class range, each with a pseudo-random
        # jitter inside its step; every fifth event of a webinar holder is a webinar.
        _sql(conn, 
            "INSERT INTO activity_event (profile_alias, event_type, event_id, user_id, occurred_at, source, pulled_at) "
            f"SELECT '{ALIAS}', CASE WHEN b.webinar = 1 AND k.n % 5 = 0 THEN '{EventType.WEBINAR_HOSTED}' "
            f"ELSE '{EventType.MEETING_HOSTED}' END, "
            "'e' || CAST(b.u AS VARCHAR(12)) || '_' || CAST(k.n AS VARCHAR(12)), b.user_id, "
            f"{occurred.replace('age', '(b.age_from + k.n * b.age_step + (k.n * 7919 + b.u * 104729) % b.age_step)')}, 'bench', {stamp} "
            "FROM bench_user b JOIN bench_n k ON k.n < b.events WHERE b.u % 100 <> 42"
        )
        coverage_from = f"'{as_of_naive - timedelta(days=365):%Y-%m-%d %H:%M:%S}.000000'" if dialect == "sqlite" \
            else f"TIMESTAMP '{as_of_naive - timedelta(days=365)}'"
        _sql(conn, 
            "INSERT INTO activity_coverage (profile_alias, source, covered_from, covered_to, updated_at) "
            f"VALUES ('{ALIAS}', 'user_meetings', {coverage_from}, {stamp}, {stamp})"
        )
        for index, (pattern, days) in enumerate((("zoom_meetings_licensed", 60), ("zoom_webinar_*", 30))):
            _sql(conn, 
                "INSERT INTO reclamation_rule (profile_alias, rule_index, software_model_pattern, "
                f"last_activity_threshold_days, disassociate_pending_invitations, source) "
                f"VALUES ('{ALIAS}', {index}, '{pattern}', {days}, FALSE, '{PROFILE}')"
            )
        for model, purchased, cost in (("zoom_meetings_licensed", users, "149.90"),
                                       ("zoom_webinar_500", webinar_holders // 2, "690.00"),
                                       ("zoom_large_meeting_500", large_holders * 2, "600.00")):
            _sql(conn, 
                "INSERT INTO entitlement (profile_alias, software_model, purchased, unit_cost, currency) "
                f"VALUES ('{ALIAS}', '{model}', {purchased}, {cost}, 'USD')"
            )
        _sql(conn, "DROP TABLE bench_user")
        _sql(conn, "DROP TABLE bench_n")
        subscriptions = conn.execute(sa.text("SELECT count(*) FROM software_subscription")).scalar_one()
        events = conn.execute(sa.text("SELECT count(*) FROM activity_event")).scalar_one()
    _analyze(engine)
    return subscriptions, events


def _sql(conn, statement: str) -> None:
    """Set-up SQL through text(), which escapes % for the PostgreSQL driver."""
    conn.execute(sa.text(statement))


def _extend_coverage(engine, as_of):
    """What the next day's pull_activity leaves: the history complete up to the new as-of."""
    with engine.begin() as conn:
        conn.execute(activity_coverage.update().values(covered_to=as_of))


def _analyze(engine):
    """Planner statistics (and, on PostgreSQL, the visibility map index-only scans rely on)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
