"""A day of zoom-sam, end to end: one full DAG run with the real tasks, measured per phase.

``python -m bench day [--quick]`` (3,000 holders; quick: 300), or ``python -m bench.day --holders
100000`` for a large account (see below for how long that takes). For each reclaim mode
(``dry_run``, ``automatic``) a Zoom sandbox starts in its own process (Business plan: Light 80/s,
Medium 60/s, Heavy 40/s; 100 ms latency) with an account of about N holders (active Licensed
users, about one in ten with the webinar add-on: the generated account's own mix), and the
profile DAG runs twice with ``dag.test()`` in a fresh process each (``dev/bench/child.py``), into a
fresh SQLite warehouse: the onboarding day (as of 2026-11-28, a 30-day activity window) and,
after the sandbox clock moved a day, the steady-state day after. The profile is the demo's
(30-day seat rule, 60-day webinar rule) with guards that let every candidate through.

Printed per phase (download_subscriptions; sweep_activity + pull_activity; reconcile; reclaim),
from the ``job_result`` rows the tasks wrote:

* calls made against the minimal calls (``counts.api_budget``: listing pages, one settings read
  per Licensed user, one history listing per holder plus webinars, and for a real reclaim the
  re-check, writes and confirmations of the users it acts on);
* span (first task start to last task end) against the floor: the minimal calls at the
  account's limit, in the category that takes longest. The client runs at 95% of each limit, so
  1.05 is the lowest ratio a phase can reach;
* a naive sequential client's time for the same minimal calls, measured on a sample of one
  settings read and one history listing per holder for 50 holders, and extrapolated;
* the peak resident memory of the process that ran the DAG (every task runs in it), and of each
  task (sampled every 0.2 s while it ran): which task grows it.

Then the activity phase with 4 shards in 4 concurrent processes (``zoom_sam.activity.shard`` as the mapped
``sweep_activity`` tasks run it, on the onboarding window of a fresh warehouse), against the same
floor: the shards share the account's limit without idle tails.

Approval mode is not run: ``approve`` makes no Zoom call and, once a person approves, ``reclaim``
makes exactly the calls of automatic mode. ``dag.test()`` waits for that answer from an
api-server, which this benchmark does not start.

Duration: each DAG run takes about as long as its download and its sweep at the Medium limit,
plus a real reclaim's re-checks: about 13 minutes in all at 3,000 holders, 4.5 at 300. At
100,000 holders (about 284,000 users) a download and a sweep take about half an hour each and
the automatic onboarding reclaim about as long again, so ``--holders 100000`` runs for about five
and a half hours. ``--modes dry_run --days 1 --shards 0`` narrows it to the onboarding day in dry
run: about an hour at 100,000 holders.

``--unpaced`` measures memory only: the sandbox answers without latency and with limits no run
reaches (5,000/s per category, the client told the same), so the same DAG run at 100,000 holders
takes about six minutes. Memory does not depend on pacing (the same tasks hold the same rows);
spans and ratios of such a run say nothing about Zoom's limits and are not printed.
``--unpaced-onboarding`` runs only the onboarding day that way, then sets the sandbox to Zoom's
pace (``POST /_sandbox/pace``) and measures the day after it: the steady state of 100,000 holders
in about an hour (``--modes automatic --shards 0``).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench.child import run_child
from project import ROOT, airflow_environment

ANCHOR = datetime(2026, 11, 28, tzinfo=timezone.utc)
DAY = timedelta(days=1)
LATENCY_MS = 100
PLAN = "business"
HOLDERS, QUICK_HOLDERS = 3_000, 300
SHARDS = 4
LICENSED_PER_USER = 5_294 / 15_040  # active Licensed users of the generated account (seed 7)
NAIVE_SAMPLE = 50
RATIO_TARGET = 1.10
SPEEDUP_TARGET = 5
MEMORY_TARGET_MB = 400
MEMORY_SAMPLE_S = 0.2
# --unpaced: limits no run reaches, so a run at size takes minutes; its memory is the paced run's.
UNPACED_LIMITS = {"Light": 5_000, "Medium": 5_000, "Heavy": 5_000}
ALIAS = "bench"
DAG_ID = f"zoom_sam__{ALIAS}"
WAREHOUSE_CONN = "bench_warehouse"
HOME = ROOT / "dev" / "bench" / "results" / "airflow-home"
# phase -> its tasks; pull_activity's job_result repeats the sum of the shards' calls, so the
# calls of the activity phase are counted from the shards and its span runs to pull_activity's end.
PHASES = {"download": ("download_subscriptions",), "activity": ("sweep_activity", "pull_activity"),
          "reconcile": ("reconcile",), "reclaim": ("reclaim",)}
SUMMARY_TASKS = ("pull_activity",)
PROFILE = """\
alias: bench
zoom_conn_id: zoom_bench
warehouse_conn_id: {warehouse}
download_activity: {activity}
activity_shards: {shards}
reclaim_subscriptions: {reclaim}
reclaim: {{mode: {mode}, max_per_run: 1000000, max_fraction: 1.0}}
rules:
  - {{software_model: zoom_meetings_licensed, last_activity_threshold_days: 30}}
  - {{software_model: "zoom_webinar_*", last_activity_threshold_days: 60}}
exclusions:
  users: [{{email: "svc-*@example.com"}}]
entitlements:
  - {{software_model: zoom_meetings_licensed, purchased: 800, unit_cost: 149.90}}
"""


MODES = ("dry_run", "automatic")
DAYS = ("onboarding", "steady state")


def run(quick: bool) -> None:
    measure(QUICK_HOLDERS if quick else HOLDERS, SHARDS)


def measure(holders: int, shards: int, modes: tuple[str, ...] = MODES, day_count: int = len(DAYS),
            unpaced: bool = False, unpaced_onboarding: bool = False) -> None:
    """``modes`` and ``day_count`` (the onboarding day, then the day after) narrow a long run at size;
    ``shards`` 0 leaves out the sharded sweep; ``unpaced`` measures only memory, in minutes;
    ``unpaced_onboarding`` builds the onboarding day's state unpaced and measures the day after at
    Zoom's pace (at 100,000 holders an hour instead of two and a half)."""
    from zoom_sandbox.process import SandboxProcess
    from zoom_sam.zoom.ratelimit import PLAN_LIMITS

    limits = PLAN_LIMITS[PLAN]
    users = round(holders / LICENSED_PER_USER)
    paced = [not (unpaced or (unpaced_onboarding and n == 0)) for n in range(day_count)]
    print(f"account: {users:,} users (about {holders:,} holders), " + (
        "unpaced (no latency, every limit 5,000/s): memory only, spans not against Zoom's limits" if unpaced else
        f"{PLAN} plan (Light {limits['Light']:g}/s, Medium {limits['Medium']:g}/s, Heavy {limits['Heavy']:g}/s), "
        f"{LATENCY_MS} ms latency" + (", the onboarding day unpaced (memory only)" if unpaced_onboarding else "")),
        flush=True)
    with _airflow_home():
        per_call = None
        for mode in modes:
            pace = dict(latency_ms=LATENCY_MS) if paced[0] else dict(latency_ms=0, rate_limits=UNPACED_LIMITS)
            with SandboxProcess(users=users, anchor=ANCHOR.date(), **pace) as sandbox, _profile(mode=mode):
                days = []
                for n, kind in enumerate(DAYS[:day_count]):
                    if n:
                        _advance(sandbox.root_url, DAY)
                        if paced[n] and not paced[n - 1]:
                            _pace(sandbox.root_url, LATENCY_MS, None)
                    connection = sandbox.connection_json() if paced[n] else _unpaced(sandbox.connection_json())
                    as_of = ANCHOR + n * DAY
                    days.append((kind, as_of, paced[n],
                                 run_child("day", json.dumps({"as_of": as_of.isoformat()}), connection)))
                if per_call is None and paced[-1]:
                    per_call = naive_per_call(connection)
            for kind, as_of, day_paced, result in days:
                _report(mode, kind, as_of, result, limits, per_call if day_paced else None)
        if not shards or unpaced:
            return
        with SandboxProcess(users=users, anchor=ANCHOR.date(), latency_ms=LATENCY_MS) as sandbox, \
                _profile(mode="dry_run", activity=False, reclaim=False) as warehouse:
            connection = sandbox.connection_json()
            run_child("day", json.dumps({"as_of": ANCHOR.isoformat()}), connection)  # download only
            _sharded(warehouse, shards, connection, limits, per_call)


def _report(mode: str, kind: str, as_of: datetime, result: dict, limits: dict, per_call: float | None) -> None:
    print(f"\nmode {mode}, {kind} day (as of {as_of:%Y-%m-%d}): DAG run {result['state']}, "
          f"wall {result['wall_s']:.1f} s, peak memory of the DAG run process {result['peak_mb']:.0f} MB "
          f"(target < {MEMORY_TARGET_MB})", flush=True)
    if per_call is not None:
        phase_table(result["tasks"], limits, per_call)
    print("  peak memory per task (and its span): " + ", ".join(
        f"{t['task_id']} {t['peak_mb']:.0f} MB ({t['finished'] - t['started']:.1f} s)"
        for t in sorted(result["tasks"], key=lambda t: t["started"]) if t.get("peak_mb")), flush=True)


def phase_table(tasks: list[dict], limits: dict, per_call: float) -> None:
    """Per phase: calls against the minimal calls, span against the floor, and a sequential client's time.

    ``tasks`` as :func:`job_tasks` reads them."""
    print(f"  {'phase':<10} {'calls':>8} {'minimal':>8} {'ratio':>6} {'span s':>8} {'floor s':>8} {'x floor':>8} "
          f"{'naive s':>8} {'faster':>7}")
    for phase, prefixes in PHASES.items():
        mine = [t for t in tasks if t["task_id"].split("[")[0] in prefixes]
        if not mine:
            continue
        own = [t for t in mine if t["task_id"] not in SUMMARY_TASKS]
        calls, minimal = _sum(t["calls"] for t in own), _sum(t["minimal"] for t in own)
        span = max(t["finished"] for t in mine) - min(t["started"] for t in mine)
        floor = max((n / limits[cat] for cat, n in minimal.items()), default=0.0)
        naive = per_call * sum(minimal.values())
        total, least = sum(calls.values()), sum(minimal.values())
        print(f"  {phase:<10} {total:>8,} {least:>8,} {_ratio(total, least):>6} {span:>8.1f} {floor:>8.1f} "
              f"{_ratio(span, floor, RATIO_TARGET):>8} {naive:>8.0f} {_ratio(naive, span) if naive else '-':>7}"
              + (f"  ({', '.join(f'{cat} {calls.get(cat, 0):,}/{n:,}' for cat, n in sorted(minimal.items()))})"
                 if len(minimal) > 1 else ""), flush=True)


def job_tasks(engine, run_id: str) -> list[dict]:
    """The ``job_result`` rows of a DAG run: each task's times, calls and minimal calls."""
    from zoom_sam.warehouse.schema import job_result

    with engine.connect() as conn:
        rows = conn.execute(job_result.select().where(job_result.c.run_id == run_id)).mappings().all()
    return [{"task_id": r["task_id"], "status": r["status"], "started": r["started_at"].timestamp(),
             "finished": r["finished_at"].timestamp(), "calls": r["api"].get("calls", {}),
             "minimal": {cat: v["minimal"] for cat, v in r["counts"]["api_budget"]["categories"].items()}}
            for r in rows]

def _sharded(warehouse: str, shards: int, connection: str, limits: dict, per_call: float) -> None:
    """The onboarding sweep as ``shards`` concurrent processes, then the coverage step."""
    from zoom_sam.activity import completion
    from zoom_sam.process import GivenZoom
    from zoom_sam.warehouse.engine import engine_for_url

    with ThreadPoolExecutor(shards) as pool:
        results = list(pool.map(lambda i: run_child("day", json.dumps({"shard": i, "shards": shards}), connection),
                                range(shards)))
    engine = engine_for_url(warehouse)
    completing = time.monotonic()
    completion.run(_context(engine, shard_results=[r["summary"] for r in results]), GivenZoom())
    engine.dispose()
    started = min(r["started"] for r in results)
    span = max(r["finished"] for r in results) - started + time.monotonic() - completing
    calls = _sum(r["summary"]["api"]["calls"] for r in results)
    minimal = _sum(r["summary"]["minimal"] for r in results)
    floor = max(n / limits[cat] for cat, n in minimal.items() if n)
    begins = sorted(r["started"] - started for r in results)
    ends = sorted(r["finished"] - started for r in results)
    print(f"\nactivity with {shards} shards in {shards} concurrent processes (onboarding window; span from the first "
          f"shard's first call to the coverage step's end): calls "
          f"{sum(calls.values()):,} vs minimal {sum(minimal.values()):,}; span {span:.1f} s vs floor {floor:.1f} s = "
          f"{_ratio(span, floor, RATIO_TARGET)}; shards started after {', '.join(f'{b:.1f}' for b in begins)} s and "
          f"ended after {', '.join(f'{e:.1f}' for e in ends)} s; "
          f"429s {sum(r['summary']['api']['throttled_429'] for r in results)}; "
          f"{_ratio(per_call * sum(minimal.values()), span)}x faster than a sequential client", flush=True)


def _unpaced(connection: str) -> str:
    """The sandbox's connection with the client's limits raised to the unpaced sandbox's."""
    conn = json.loads(connection)
    extra = conn.get("extra") or {}
    extra = json.loads(extra) if isinstance(extra, str) else extra
    conn["extra"] = {**extra, "rate_limits": UNPACED_LIMITS}
    return json.dumps(conn)


def _ratio(value: float, base: float, target: float | None = None) -> str:
    if not base:
        return "-"
    ratio = value / base
    return f"{ratio:.2f}" + ("!" if target is not None and ratio > target else "")


def _sum(dicts: Iterator[dict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in dicts:
        for key, value in d.items():
            if value:
                out[key] = out.get(key, 0) + value
    return out


def naive_per_call(connection: str) -> float:
    """Seconds per call of a plain sequential client: a settings read and a history listing per holder."""
    from tests.support.sandbox import direct_client

    client = direct_client(connection)
    sample = []
    for user in client.list_users("active"):
        if user.get("type") == 2:
            sample.append(user["id"])
            if len(sample) == NAIVE_SAMPLE:
                break
    since = (ANCHOR - 31 * DAY).date()
    started = time.monotonic()
    for user_id in sample:
        client.get_user_settings(user_id)
        list(client.list_meetings(user_id, type="previous_meetings", from_=since, to=ANCHOR.date()))
    per_call = (time.monotonic() - started) / (2 * len(sample))
    client.close()
    print(f"naive sequential client: {per_call * 1000:.0f} ms per call (measured on {2 * len(sample)} calls)",
          flush=True)
    return per_call


def _pace(root_url: str, latency_ms: float, rate_limits: dict | None) -> None:
    body = json.dumps({"latency_ms": latency_ms, "rate_limits": rate_limits}).encode()
    urllib.request.urlopen(urllib.request.Request(f"{root_url}/_sandbox/pace", data=body, method="POST"),
                           timeout=30).close()


def _advance(root_url: str, delta: timedelta) -> None:
    url = f"{root_url}/_sandbox/clock/advance?seconds={delta.total_seconds():.0f}"
    urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=30).close()


@contextmanager
def _airflow_home() -> Iterator[None]:
    """A project-local AIRFLOW_HOME with a migrated metadata database, for the children."""
    env = {**airflow_environment(HOME), "ZOOM_SAM_TASK_RETRIES": "0"}
    HOME.mkdir(parents=True, exist_ok=True)
    with _environ(env):
        airflow = Path(sys.executable).with_name("airflow")
        if subprocess.run([str(airflow), "db", "check-migrations", "-t", "0"], capture_output=True).returncode:
            done = subprocess.run([str(airflow), "db", "migrate"], capture_output=True, text=True)
            if done.returncode:
                raise RuntimeError(f"airflow db migrate failed:\n{done.stderr[-2000:]}")
        yield


@contextmanager
def _profile(*, mode: str, activity: bool = True, reclaim: bool = True) -> Iterator[str]:
    """The bench profile in a profiles folder of its own, and a fresh SQLite warehouse; yields its URL."""
    with tempfile.TemporaryDirectory(prefix="zoom-sam-bench-day-") as tmp:
        folder = Path(tmp)
        (folder / "bench.yaml").write_text(PROFILE.format(
            warehouse=WAREHOUSE_CONN, activity=str(activity).lower(), shards=1, reclaim=str(reclaim).lower(), mode=mode))
        db = folder / "warehouse.db"
        env = {"ZOOM_SAM_PROFILES_DIR": str(folder),
               f"AIRFLOW_CONN_{WAREHOUSE_CONN.upper()}": json.dumps({"conn_type": "sqlite", "host": str(db)})}
        with _environ(env):
            yield f"sqlite:///{db}"


@contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# ---------------------------------------------------------------------- the children


def _child(arg: dict) -> dict:
    """One DAG run (``as_of``) or one activity shard (``shard`` of ``shards``), in this fresh process."""
    import logging

    logging.getLogger("zoom_sam").setLevel(logging.WARNING)
    samples: list[tuple[float, float]] = []
    threading.Thread(target=_sample_memory, args=(samples,), daemon=True).start()
    out = _shard(arg) if "shard" in arg else _dag_run(datetime.fromisoformat(arg["as_of"]))
    for task in out.get("tasks", ()):
        during = [mb for at, mb in samples if task["started"] - MEMORY_SAMPLE_S <= at <= task["finished"] + MEMORY_SAMPLE_S]
        task["peak_mb"] = max(during, default=None)
    return {**out, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _sample_memory(samples: list[tuple[float, float]]) -> None:
    """(time, resident MB) of this process every :data:`MEMORY_SAMPLE_S`: which task grew it."""
    while True:
        with open("/proc/self/status") as status:
            rss = next(line for line in status if line.startswith("VmRSS:"))
        samples.append((time.time(), int(rss.split()[1]) / 1024))
        time.sleep(MEMORY_SAMPLE_S)


def _dag_run(as_of: datetime) -> dict:
    from airflow.dag_processing.dagbag import DagBag

    from zoom_sam.warehouse.engine import get_engine

    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    started = time.monotonic()
    dag_run = bag.dags[DAG_ID].test(logical_date=as_of)
    wall = time.monotonic() - started
    engine = get_engine(WAREHOUSE_CONN)
    tasks = job_tasks(engine, dag_run.run_id)
    engine.dispose()
    return {"state": str(dag_run.state), "wall_s": wall, "tasks": tasks}


def _shard(arg: dict) -> dict:
    from zoom_sam.activity import shard
    from zoom_sam.hooks.zoom import ZoomHook
    from zoom_sam.process import GivenZoom
    from zoom_sam.warehouse.engine import get_engine

    engine = get_engine(WAREHOUSE_CONN)
    client = ZoomHook("zoom_bench").get_conn()
    started = time.time()
    summary = shard.run(_context(engine, shard=arg["shard"], shards=arg["shards"]), GivenZoom(client)).report
    client.close()
    engine.dispose()
    return {"summary": summary, "started": started, "finished": time.time()}


def _context(engine, **inputs):
    """The sharded sweep's context: the onboarding window of the last 30 days before the anchor."""
    from zoom_sam.process import context_for
    from zoom_sam.profiles import Profile

    profile = Profile(alias=ALIAS, zoom_conn_id="zoom_bench", analyze_activity_from=(ANCHOR - 30 * DAY).date())
    return context_for(engine, profile, ANCHOR, run_id="bench-shards", interval_start=ANCHOR - DAY, inputs=inputs)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.day", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--holders", type=int, default=HOLDERS, help="holders of the account (default 3,000)")
    parser.add_argument("--shards", type=int, default=SHARDS,
                        help="shard processes of the sharded sweep (default 4; 0: no sharded sweep)")
    parser.add_argument("--modes", default=",".join(MODES), help="reclaim modes to run (default: dry_run,automatic)")
    parser.add_argument("--days", type=int, choices=(1, 2), default=2,
                        help="1: the onboarding day only; 2: and the day after (default)")
    parser.add_argument("--unpaced", action="store_true",
                        help="memory only: no latency and limits no run reaches, so 100,000 holders take minutes")
    parser.add_argument("--unpaced-onboarding", action="store_true",
                        help="the onboarding day unpaced (its state, memory only), the day after at Zoom's pace")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(json.loads(args.child))))
    else:
        modes = tuple(m for m in args.modes.split(",") if m)
        if not modes or set(modes) - set(MODES):
            parser.error(f"--modes: a comma-separated list of {', '.join(MODES)}")
        measure(args.holders, args.shards, modes, args.days, args.unpaced, args.unpaced_onboarding)
