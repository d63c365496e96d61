"""The completion of the activity sweep, once every shard succeeded: coverage, retention, totals.

It is the only writer of ``activity_coverage``: a failed or killed shard means it never runs, and
the coverage stays where it was. The shards' results (their reports) come in
``ctx.inputs["shard_results"]``; it makes no Zoom call, and the job record's ``api`` and
``minimal`` are the shards' summed up, so the sweep's cost reads in one row.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from zoom_sam.activity.coverage import advance_coverage, apply_retention, read_coverage
from zoom_sam.activity.window import Window
from zoom_sam.errors import ZoomSamError
from zoom_sam.process import RunContext, Summary, ZoomAccess

log = logging.getLogger(__name__)


class ShardMismatch(ZoomSamError):
    """The shards' results do not add up to one complete sweep of one window: only running the
    sweep's shards again fixes that, not a retry of the completion."""


def run(ctx: RunContext, zoom: ZoomAccess) -> Summary:
    """Advance the coverage by the window every shard completed, apply the retention, sum the shards."""
    shard_results: Sequence[dict[str, Any]] = ctx.inputs.get("shard_results", ())
    alias = ctx.profile.alias
    window = _common_window(shard_results)
    source = shard_results[0]["source"]
    with ctx.warehouse.begin() as conn:
        if not window.is_empty:
            advance_coverage(conn, alias, window, source=source, run_id=ctx.run_id)
        retention = apply_retention(conn, alias, as_of=ctx.as_of, retention_days=ctx.profile.activity_retention_days)
        coverage = read_coverage(conn, alias)
    totals = _sum([r["counts"] for r in shard_results])
    api = _sum([r["api"] for r in shard_results])
    minimal = _sum([r.get("minimal", {}) for r in shard_results])  # shards of an older zoom-sam had none
    outcome = {
        "window_kind": window.kind, "window_start": window.start.isoformat(), "window_end": window.end.isoformat(),
        "source": source, "shards": len(shard_results),
        "covered_from": coverage.covered_from.isoformat() if coverage else None,
        "covered_to": coverage.covered_to.isoformat() if coverage else None,
        "retention_cutoff": retention.cutoff.isoformat(), "events_purged": retention.events_purged,
    }
    log.info("activity of %s as of %s: %s; coverage now [%s, %s); %d events purged before %s", alias,
             ctx.as_of.isoformat(), window.describe(), outcome["covered_from"], outcome["covered_to"],
             retention.events_purged, outcome["retention_cutoff"])
    report = {**outcome, "api": api, "holders": totals.get("holders", 0),
              "events": totals.get("meeting_events", 0) + totals.get("webinar_events", 0),
              "holders_not_found": totals.get("holders_not_found", 0)}
    return Summary(report=report, counts={**totals, **outcome}, api=api, minimal=minimal)


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
