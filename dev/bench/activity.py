"""pull_activity at scale: 10,000 holders (1,000 with the webinar add-on), Business plan, 100 ms latency.

``python -m bench activity [--quick]`` (quick: 1,000 holders, 100 webinar holders). The sandbox
runs in a child process (its own interpreter, so it neither shares this process's GIL nor shows
up in its memory), holds a Business account whose first N active Licensed users are the holders
(the first 10% of them with the webinar add-on), and writes their subscriptions into a temporary
SQLite warehouse with the download's own staging and merge code (no API calls: the download has
its own benchmark). Then, against the same account and the same 30-day onboarding window:

1. the sweep as production runs it (the shard and completion processes, ``zoom_sam.activity.shard`` and ``.completion``): calls made against the
   minimal count (one listing per holder, one webinar listing per webinar holder, plus extra
   pages: the shard's own ``minimal``), wall time against the floor (minimal calls / Medium
   limit), 429s, the process's peak resident memory;
2. the naive baseline: a plain sequential client making the same calls, one at a time, measured
   on the first holders and extrapolated to the whole sweep (the output says so);
3. the ``host_report`` source on a copy of the same warehouse: calls by category and wall time.
"""
from __future__ import annotations

import logging
import multiprocessing as mp
import resource
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ANCHOR = datetime(2026, 11, 28, tzinfo=timezone.utc)
ALIAS = "bench"
LATENCY_MS = 100
NAIVE_HOLDERS = 200
USERS_PER_HOLDER = 3.2  # the generated account has about one active Licensed user in three
REPORT_SCOPE = "report:read:list_users:admin"


def run(quick: bool) -> None:
    holders = 1_000 if quick else 10_000
    _show_progress()
    with tempfile.TemporaryDirectory(prefix="zoom-sam-bench-activity-") as tmp:
        db = Path(tmp) / "warehouse.db"
        parent, child = mp.get_context("spawn").Pipe()
        proc = mp.get_context("spawn").Process(target=_sandbox_process, args=(child, holders, str(db)), daemon=True)
        proc.start()
        try:
            setup = parent.recv()
            if "error" in setup:
                raise RuntimeError(f"sandbox set-up failed: {setup['error']}")
            print(f"account: {setup['users']:,} users, {setup['holders']:,} holders "
                  f"({setup['webinar_holders']:,} with the webinar add-on), Business plan, {LATENCY_MS} ms latency; "
                  f"sandbox set-up {setup['setup_s']:.1f} s", flush=True)
            shutil.copy(db, Path(tmp) / "report.db")
            _bench(setup, db, Path(tmp) / "report.db")
        finally:
            parent.send("stop")
            proc.join(timeout=30)


def _bench(setup: dict, db: Path, report_db: Path) -> None:
    from zoom_sam.activity.holders import load_holders
    from zoom_sam.activity import completion, shard
    from zoom_sam.process import GivenZoom, RunContext, context_for
    from zoom_sam.profiles import Profile
    from zoom_sam.warehouse.engine import engine_for_url

    as_of, start = ANCHOR, ANCHOR - timedelta(days=30)
    engine = engine_for_url(f"sqlite:///{db}")
    client = _client(setup)
    limit = client.limiter("Medium").rate

    # 1. the production sweep
    t0 = time.monotonic()

    def context(engine, source: str = "per_user", **inputs) -> RunContext:
        profile = Profile(alias=ALIAS, zoom_conn_id="zoom_bench", analyze_activity_from=start.date(),
                          activity_source=source)
        return context_for(engine, profile, as_of, run_id="bench", interval_start=as_of - timedelta(days=1),
                           inputs=inputs)

    result = shard.run(context(engine), GivenZoom(client)).report
    completion.run(context(engine, shard_results=[result]), GivenZoom())
    wall = time.monotonic() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    counts, api = result["counts"], result["api"]
    calls = api["calls"]["Medium"]
    minimal = result["minimal"]["Medium"]
    listings = counts["holders"] + setup["webinar_holders"]
    floor = minimal / limit
    print(f"sweep (concurrent, under the account limiter):\n"
          f"  calls {calls:,} vs minimal {minimal:,} ({counts['holders']:,} meeting listings + "
          f"{setup['webinar_holders']:,} webinar listings + {minimal - listings:,} further pages): "
          f"{calls / minimal:.3f} ({api['retries']} retries)\n"
          f"  wall {wall:.1f} s vs floor {floor:.1f} s (minimal / {limit:g} per s): ratio {wall / floor:.3f} "
          f"(target <= 1.10)\n"
          f"  429s: {api['throttled_429']} ({100 * api['throttled_429'] / calls:.2f}% of calls; target < 1%), "
          f"none unrecovered (the sweep completed); events landed {counts['meeting_events'] + counts['webinar_events']:,}\n"
          f"  peak resident memory of this process: {peak_mb:.0f} MB", flush=True)

    # 2. the naive baseline: the same calls, one at a time
    with engine.connect() as conn:
        sample = load_holders(conn, ALIAS)[:NAIVE_HOLDERS]
    naive_calls = 0
    t0 = time.monotonic()
    for h in sample:
        naive_calls += _sequential(client, h, start, as_of)
    per_call = (time.monotonic() - t0) / naive_calls
    naive_total = per_call * calls
    print(f"naive sequential client: measured on the first {len(sample)} holders ({naive_calls} calls, "
          f"{per_call * 1000:.0f} ms per call), extrapolated to the sweep's {calls:,} calls: {naive_total:.0f} s; "
          f"the concurrent sweep is {naive_total / wall:.1f}x faster", flush=True)

    # 3. the host_report source on the same account and window
    report_engine = engine_for_url(f"sqlite:///{report_db}")
    report_client = _client(setup)
    t0 = time.monotonic()
    report = shard.run(context(report_engine, "host_report"), GivenZoom(report_client)).report
    completion.run(context(report_engine, "host_report", shard_results=[report]), GivenZoom())
    report_wall = time.monotonic() - t0
    rc, ra = report["counts"], report["api"]
    print(f"host_report source: {report_wall:.1f} s (per-user sweep {wall:.1f} s); calls Heavy {ra['calls']['Heavy']:,} "
          f"(report, {rc['report_days']} days) + Medium {ra['calls']['Medium']:,} ({setup['webinar_holders']:,} webinar "
          f"listings); meeting rows {rc['meeting_events']:,} at day precision",
          flush=True)
    for c in (client, report_client):
        c.close()
    engine.dispose()
    report_engine.dispose()


def _show_progress() -> None:
    """The sweep's own progress lines (every 10 s: holders, calls, rate vs limit, ETA), indented."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("    | %(message)s"))
    for name in ("zoom_sam.activity.sweep", "zoom_sam.activity.host_report"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)


def _sequential(client, holder, start: datetime, as_of: datetime) -> int:
    """One holder's listings with a plain loop: no threads, no sharing; returns the calls made."""
    before = client.stats()["calls"]["Medium"]
    list(client.list_meetings(holder.user_id, type="previous_meetings", from_=(start - timedelta(days=1)).date(),
                              to=as_of.date()))
    if holder.webinar:
        list(client.list_webinars(holder.user_id, type="scheduled"))
    return client.stats()["calls"]["Medium"] - before


def _client(setup: dict):
    from tests.support.sandbox import direct_client

    return direct_client(setup["connection"])


def _sandbox_process(pipe, holders: int, db: str) -> None:
    """Child process: serve the sandbox account and land its holders' subscriptions in ``db``."""
    import json

    from zoom_sam.profiles import Profile
    from zoom_sandbox import DEFAULT_SCOPES, AccountConfig, SandboxConfig, SandboxServer
    from zoom_sam.subscriptions.merge import merge_snapshot
    from zoom_sam.subscriptions.snapshot import subscription_rows, user_row
    from zoom_sam.subscriptions.staging import StageWriter
    from zoom_sam.warehouse.engine import engine_for_url
    from zoom_sam.warehouse.migrate import ensure_schema
    from zoom_sam.warehouse.owner import Owner

    t0 = time.monotonic()
    users = int(holders * USERS_PER_HOLDER)
    cfg = SandboxConfig(accounts=[AccountConfig(users=users, plan="business", scopes=DEFAULT_SCOPES + (REPORT_SCOPE,))],
                        anchor=ANCHOR, latency_ms=LATENCY_MS)
    try:
        with SandboxServer(cfg, port=0) as sb:
            account = sb.account()
            engine = engine_for_url(f"sqlite:///{db}")
            ensure_schema(engine)
            profile = Profile(alias=ALIAS, zoom_conn_id="zoom_bench")
            owner = Owner("setup", "download_subscriptions", 1)
            stage = StageWriter(engine, ALIAS, owner)
            stage.begin()
            picked = webinars = 0
            for user in account.users("active"):
                if user["type"] != 2:
                    continue
                wants_webinar = picked < holders // 10
                if bool(user["settings"]["feature"].get("webinar")) != wants_webinar:
                    account.set_feature(user["id"], "webinar", wants_webinar)
                    user = account.user(user["id"])
                stage.add_user(user_row(user))
                stage.add_subscriptions(subscription_rows(profile, user, user["settings"]))
                picked += 1
                webinars += wants_webinar
                if picked == holders:
                    break
            stage.flush()
            merge_snapshot(engine, profile, owner, ANCHOR)
            engine.dispose()
            if picked < holders:
                raise RuntimeError(f"only {picked} active Licensed users among {users}; raise USERS_PER_HOLDER")
            pipe.send({"connection": json.loads(sb.connection_json()), "users": users, "holders": picked,
                       "webinar_holders": webinars, "setup_s": time.monotonic() - t0})
            pipe.recv()  # until the benchmark is done
    except Exception as exc:  # noqa: BLE001 - reported by the parent
        pipe.send({"error": f"{type(exc).__name__}: {exc}"})
