"""One shard of the activity sweep: the holders of one shard, read over the run's window.

Every shard plans its window from the same coverage, which does not move before all of them
completed (:mod:`.completion` moves it), so they read the same window; a retried shard plans it
again. The shard and the number of shards come in ``ctx.inputs`` (``shard``, ``shards``; one
shard of one when absent). The returned report is what the completion sums up.
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
from typing import Any

from sqlalchemy.engine import Engine

from zoom_sam.activity import host_report
from zoom_sam.activity.coverage import read_coverage
from zoom_sam.activity.holders import load_holders
from zoom_sam.activity.progress import api_delta
from zoom_sam.activity.shared_rate import SharedRate
from zoom_sam.activity.sweep import SweepPlan, sweep
from zoom_sam.activity.window import plan_window
from zoom_sam.process import RunContext, Summary, ZoomAccess
from zoom_sam.profile_rows import first_as_of
from zoom_sam.profiles import activity_start
from zoom_sam.zoom.client import ZoomClient

log = logging.getLogger(__name__)

PER_USER = "per_user"


def run(ctx: RunContext, zoom: ZoomAccess, *, max_in_flight: int | None = None,
        batch_holders: int = 500) -> Summary:
    """Sweep one shard's holders over the run's window; the report is the shard's result (an XCom).

    With several shards, the shards of ``ctx.run_id`` share the account's limits (``shared_rate``):
    the client is built with the account's full limits and sends at its live share of them.
    """
    profile, engine = ctx.profile, ctx.warehouse
    alias, source = profile.alias, profile.activity_source
    shard, shards = ctx.inputs.get("shard", 0), ctx.inputs.get("shards", 1)
    client = zoom.client()
    before = client.stats()
    with engine.connect() as conn:
        history_start = activity_start(profile, first_as_of(conn, alias) or ctx.as_of)
        coverage = read_coverage(conn, alias)
        holders = load_holders(conn, alias, shard=shard, shards=shards)
    window = plan_window(coverage, as_of=ctx.as_of, interval_start=ctx.interval_start, history_start=history_start,
                         day_precision=source == host_report.SOURCE)
    log.info("pull_activity %s shard %d/%d as of %s: %s, %d holders, source %s", alias, shard + 1, shards,
             ctx.as_of.isoformat(), window.describe(), len(holders), source)
    result: dict[str, Any] = {"shard": shard, "shards": shards, "source": source, "window_kind": window.kind,
                              "window_start": window.start.isoformat(), "window_end": window.end.isoformat()}
    if window.is_empty:
        log.info("nothing to read: the window is empty")
        counts: dict[str, Any] = {"holders": len(holders)}
        minimal: dict[str, int] = {}
    else:
        plan = SweepPlan(alias, window, source)
        if coverage is not None and window.kind == "catch_up" and source == PER_USER:
            plan = dataclasses.replace(plan, history_from=coverage.covered_from, new_after=coverage.covered_to)
            fresh = sum(1 for h in holders if plan.window_for(h) is not window)
            if fresh:
                log.info("%d holder(s) became holders after the last completed sweep: each is read once from the "
                         "history start %s", fresh, coverage.covered_from.isoformat())
        if source == PER_USER:
            with _shared(client, engine, alias, ctx.run_id, shard, shards):
                counts = sweep(client, engine, holders, plan, max_in_flight=max_in_flight,
                               batch_holders=batch_holders).as_dict()
        else:
            counts = host_report.read_host_report(client, engine, holders, plan, max_in_flight, batch_holders)
        minimal = minimal_calls(counts)
    result.update(counts=counts, api=api_delta(client.stats(), before), minimal=minimal)
    return Summary(report=result, minimal=minimal,
                   counts={**counts, "shard": shard, "shards": shards, "window_kind": window.kind,
                           "window_start": result["window_start"], "window_end": result["window_end"]})


def _shared(client: ZoomClient, engine: Engine, alias: str, run_id: str, shard: int,
            shards: int) -> contextlib.AbstractContextManager[Any]:
    """The live share of the account's limits for a shard of several; nothing to share for one."""
    if shards == 1:
        return contextlib.nullcontext()
    limits = client.config.limits
    return SharedRate(engine, {cat: client.limiter(cat) for cat in limits}, limits, alias=alias, run_id=run_id,
                      shard=shard, shards=shards)


def minimal_calls(counts: dict[str, Any]) -> dict[str, int]:
    """The calls a sweep needed, per category: its listing pages (Medium) and report pages (Heavy)."""
    return {"Medium": counts.get("listing_pages_needed", 0), "Heavy": counts.get("report_pages_needed", 0)}
