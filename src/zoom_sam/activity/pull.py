"""pull_activity, as two library calls the DAG maps onto tasks.

:func:`pull_shard` (one mapped task per shard): plan the window from the coverage, read the
shard's holders and land their hosting. Every shard plans from the same coverage, which does not
move before all of them completed, so they read the same window; a retried shard plans it again.

:func:`complete_pull` (one task after all shards succeeded): joins the window to the coverage,
applies the retention, and sums the shards up. It is the only writer of ``activity_coverage``:
a failed or killed shard means it never runs, and the coverage stays where it was.
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from zoom_sam.activity import host_report
from zoom_sam.activity.coverage import advance_coverage, apply_retention, read_coverage
from zoom_sam.activity.holders import load_holders
from zoom_sam.activity.progress import api_delta
from zoom_sam.activity.shared_rate import SharedRate
from zoom_sam.activity.store import ActivityWriter
from zoom_sam.activity.sweep import SweepPlan, sweep
from zoom_sam.activity.window import Window, plan_window

log = logging.getLogger(__name__)

PER_USER = "per_user"
HOST_REPORT = host_report.SOURCE
SOURCES = (PER_USER, HOST_REPORT)


class ShardMismatch(RuntimeError):
    """The shards' results do not add up to one complete sweep of one window."""


def pull_shard(
    client: Any,
    engine: Engine,
    *,
    alias: str,
    as_of: datetime,
    interval_start: datetime | None,
    history_start: datetime,
    source: str = PER_USER,
    shard: int = 0,
    shards: int = 1,
    run_id: str = "",
    max_in_flight: int | None = None,
    batch_holders: int = 500,
) -> dict[str, Any]:
    """Sweep one shard's holders over the run's window; returns the shard's summary (an XCom).

    With several shards, the shards of ``run_id`` share the account's limits (``shared_rate``):
    ``client`` is built with the account's full limits and sends at its live share of them.
    """
    if source not in SOURCES:
        raise ValueError(f"activity source must be one of {SOURCES}, got {source!r}")
    before = client.stats()
    with engine.connect() as conn:
        coverage = read_coverage(conn, alias)
        holders = load_holders(conn, alias, shard=shard, shards=shards)
    window = plan_window(coverage, as_of=as_of, interval_start=interval_start, history_start=history_start,
                         day_precision=source == HOST_REPORT)
    log.info("pull_activity %s shard %d/%d as of %s: %s, %d holders, source %s", alias, shard + 1, shards,
             as_of.isoformat(), window.describe(), len(holders), source)
    summary: dict[str, Any] = {"shard": shard, "shards": shards, "source": source, "window_kind": window.kind,
                               "window_start": window.start.isoformat(), "window_end": window.end.isoformat()}
    if window.is_empty:
        log.info("nothing to read: the window is empty")
        return {**summary, "counts": {"holders": len(holders)}, "api": api_delta(client.stats(), before), "minimal": {}}
    plan = SweepPlan(alias, window, source)
    if coverage is not None and window.kind == "catch_up" and source == PER_USER:
        plan = dataclasses.replace(plan, history_from=coverage.covered_from, new_after=coverage.covered_to)
        fresh = sum(1 for h in holders if plan.window_for(h) is not window)
        if fresh:
            log.info("%d holder(s) became holders after the last completed sweep: each is read once from the "
                     "history start %s", fresh, coverage.covered_from.isoformat())
    if source == PER_USER:
        with _shared(client, engine, alias, run_id, shard, shards):
            counts = sweep(client, engine, holders, plan, max_in_flight=max_in_flight,
                           batch_holders=batch_holders).as_dict()
    else:
        counts = _host_report(client, engine, holders, plan, max_in_flight, batch_holders)
    return {**summary, "counts": counts, "api": api_delta(client.stats(), before), "minimal": minimal_calls(counts)}


def _shared(client: Any, engine: Engine, alias: str, run_id: str, shard: int, shards: int):
    """The live share of the account's limits for a shard of several; nothing to share for one."""
    if shards == 1:
        return contextlib.nullcontext()
    limits = client.config.limits
    return SharedRate(engine, {cat: client.limiter(cat) for cat in limits}, limits, alias=alias, run_id=run_id,
                      shard=shard, shards=shards)


def minimal_calls(counts: dict[str, Any]) -> dict[str, int]:
    """The calls a sweep needed, per category: its listing pages (Medium) and report pages (Heavy)."""
    return {"Medium": counts.get("listing_pages_needed", 0), "Heavy": counts.get("report_pages_needed", 0)}


def _host_report(client, engine, holders, plan: SweepPlan, max_in_flight, batch_holders) -> dict[str, Any]:
    """Webinars per user first (to subtract them from the report's counts), then the report day by day."""
    webinar_holders = [h for h in holders if h.webinar]
    webinars = sweep(client, engine, webinar_holders, dataclasses.replace(plan, meetings=False),
                     max_in_flight=max_in_flight, batch_holders=batch_holders)
    with engine.connect() as conn:
        per_day = host_report.webinars_by_day(conn, plan.alias, plan.window)
    writer = ActivityWriter(engine, plan.alias, batch_holders=batch_holders)
    report = host_report.land_host_report(client, writer, plan.window, {h.user_id for h in holders}, per_day,
                                          alias=plan.alias)
    counts = webinars.as_dict()
    counts.update(report)
    counts.update(holders=len(holders), holders_done=len(holders), meeting_events=report["report_meetings"])
    return counts


def complete_pull(
    engine: Engine,
    shard_results: Sequence[dict[str, Any]],
    *,
    alias: str,
    as_of: datetime,
    run_id: str,
    retention_days: int,
) -> dict[str, Any]:
    """After every shard completed: advance the coverage, apply the retention, sum the shards."""
    window = _common_window(shard_results)
    source = shard_results[0]["source"]
    with engine.begin() as conn:
        if not window.is_empty:
            advance_coverage(conn, alias, window, source=source, run_id=run_id)
        retention = apply_retention(conn, alias, as_of=as_of, retention_days=retention_days)
        coverage = read_coverage(conn, alias)
    totals = _sum([r["counts"] for r in shard_results])
    api = _sum([r["api"] for r in shard_results])
    minimal = _sum([r.get("minimal", {}) for r in shard_results])  # shards of an older zoom-sam had none
    summary = {
        "window_kind": window.kind, "window_start": window.start.isoformat(), "window_end": window.end.isoformat(),
        "source": source, "shards": len(shard_results), "counts": totals, "api": api, "minimal": minimal,
        "covered_from": coverage.covered_from.isoformat() if coverage else None,
        "covered_to": coverage.covered_to.isoformat() if coverage else None,
        "retention_cutoff": retention.cutoff.isoformat(), "events_purged": retention.events_purged,
    }
    log.info("activity of %s as of %s: %s; coverage now [%s, %s); %d events purged before %s", alias,
             as_of.isoformat(), window.describe(), summary["covered_from"], summary["covered_to"],
             retention.events_purged, summary["retention_cutoff"])
    return summary


def _common_window(results: Sequence[dict[str, Any]]) -> Window:
    """The window every holder of every shard completed (the intersection of the shards' windows)."""
    if not results:
        raise ShardMismatch("no shard results: pull_activity cannot complete a sweep nobody ran")
    shards = {r["shards"] for r in results}
    seen = sorted(r["shard"] for r in results)
    if len(shards) != 1 or seen != list(range(shards.pop())):
        raise ShardMismatch(f"shard results {seen} do not make one complete sweep; re-run the sweep_activity tasks")
    start = max(datetime.fromisoformat(r["window_start"]) for r in results)
    end = min(datetime.fromisoformat(r["window_end"]) for r in results)
    return Window(start, end, results[0]["window_kind"])


def _sum(dicts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Numbers add up (nested dicts too); lists are concatenated."""
    out: dict[str, Any] = {}
    for d in dicts:
        for key, value in d.items():
            if isinstance(value, dict):
                out[key] = _sum([out.get(key, {}), value])
            elif isinstance(value, list):
                out[key] = out.get(key, []) + value
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                out[key] = round(out.get(key, 0) + value, 3)
    return out
