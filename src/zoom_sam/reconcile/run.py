"""The reconcile entry point: one profile, one as-of, one transaction.

The work is a fixed sequence of set-based statements (``src/zoom_sam/include/sql/reconcile/``); nothing here
reads subscriptions or events into Python, so memory does not grow with the account:

1. ``reconcile_rule``: the rule and counted hosting of every model held or entitled (rules.py);
2. ``evaluate``: the verdict on every active subscription (``reconcile_evaluation``): last
   activity, idle days, and candidate / used / new_account / insufficient_history / excluded;
3. the verdict copied to ``software_subscription`` (last_activity_at, inactive_days), and the
   removal candidates brought in line with it: canceled (used again), skipped (no longer held,
   excluded, ...), refreshed (still a candidate) or opened;
4. the license position and the threshold simulation of the as-of, replaced.

Step 3 only moves forward in time: a run whose as-of is older than one already reconciled for the
profile (a backfill, a cleared old run) writes its position and simulation, which are history,
but leaves subscriptions and candidates as the newer run left them.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from zoom_sam.reconcile.rules import write_rules
from zoom_sam.warehouse.schema import (
    activity_coverage,
    license_position,
    reconcile_evaluation,
    reconcile_rule,
    removal_candidate,
    threshold_simulation,
)
from zoom_sam.warehouse.sql import run_sql

log = logging.getLogger(__name__)

MODES = ("dry_run", "approval", "automatic")
VERDICTS = ("candidate", "used", "new_account", "new_subscription", "kept_by_addon", "insufficient_history",
            "excluded")
OPEN_STATES = ("ready", "awaiting_approval", "attention_required")
DISTRIBUTION_DAYS = (30, 60, 90, 120)


def reconcile(engine: Engine, profile_alias: str, as_of: datetime, *, mode: str, run_id: str) -> dict[str, Any]:
    """Reconcile one profile as of ``as_of`` (aware; the run's data_interval_end); returns a summary.

    ``mode`` is the profile's reclaim mode: new candidates are ``awaiting_approval`` in
    ``approval`` mode, ``ready`` otherwise. ``run_id`` is recorded on the candidates it opens.
    Running it again for the same as-of on the same data changes no candidate and no subscription.
    """
    if mode not in MODES:
        raise ValueError(f"reclaim mode {mode!r} is not one of {', '.join(MODES)}")
    if as_of.tzinfo is None:
        raise ValueError(f"as_of {as_of!r} must be timezone-aware (UTC)")
    as_of = as_of.astimezone(timezone.utc)
    params = {
        "profile_alias": profile_alias,
        "as_of": as_of,
        "now": datetime.now(timezone.utc),
        "run_id": run_id,
        "new_state": "awaiting_approval" if mode == "approval" else "ready",
        # The year the run's interval belongs to: the as-of is its exclusive end, so the run
        # ending at 1 January 00:00 still reports the whole previous year.
        "year_start": datetime((as_of - timedelta(microseconds=1)).year, 1, 1, tzinfo=timezone.utc),
        **{f"since_{days}": as_of - timedelta(days=days) for days in DISTRIBUTION_DAYS},
    }
    with engine.begin() as conn:
        latest = conn.execute(
            sa.select(sa.func.max(reconcile_rule.c.as_of)).where(reconcile_rule.c.profile_alias == profile_alias)
        ).scalar_one()
        superseded = latest is not None and latest > as_of
        models = write_rules(conn, profile_alias, as_of)
        conn.execute(reconcile_evaluation.delete().where(reconcile_evaluation.c.profile_alias == profile_alias))
        run_sql(conn, "reconcile/evaluate", params)
        # The verdicts were just rewritten wholesale: fresh planner statistics, or PostgreSQL plans
        # every later statement for the row count it saw last (none on a first run) and can pick a
        # nested loop that is quadratic in the candidates. (Both back ends take the same statement.)
        conn.execute(sa.text(f"ANALYZE {reconcile_evaluation.name}"))
        changes = dict.fromkeys(("closed_canceled", "closed_skipped", "refreshed", "opened"), 0)
        if not superseded:
            run_sql(conn, "reconcile/update_subscriptions", params)
            changes["closed_canceled"] = run_sql(conn, "reconcile/cancel_candidates", params).rowcount
            changes["closed_skipped"] = run_sql(conn, "reconcile/skip_candidates", params).rowcount
            changes["refreshed"] = run_sql(conn, "reconcile/refresh_candidates", params).rowcount
            changes["opened"] = run_sql(conn, "reconcile/open_candidates", params).rowcount
        for table, statement in ((license_position, "reconcile/position"),
                                 (threshold_simulation, "reconcile/simulation")):
            conn.execute(table.delete().where(table.c.profile_alias == profile_alias, table.c.as_of == as_of))
            run_sql(conn, statement, params)
        verdicts = dict.fromkeys(VERDICTS, 0) | dict(conn.execute(
            sa.select(reconcile_evaluation.c.status, sa.func.count())
            .where(reconcile_evaluation.c.profile_alias == profile_alias)
            .group_by(reconcile_evaluation.c.status)
        ).all())
        open_now = dict.fromkeys(OPEN_STATES, 0) | dict(conn.execute(
            sa.select(removal_candidate.c.state, sa.func.count())
            .where(removal_candidate.c.profile_alias == profile_alias, removal_candidate.c.state.in_(OPEN_STATES))
            .group_by(removal_candidate.c.state)
        ).all())
        covered_from, covered_to = conn.execute(
            sa.select(sa.func.max(activity_coverage.c.covered_from), sa.func.min(activity_coverage.c.covered_to))
            .where(activity_coverage.c.profile_alias == profile_alias)
        ).one()
    summary = {
        "profile_alias": profile_alias,
        "as_of": as_of.isoformat(),
        "mode": mode,
        "superseded": superseded,
        "models": models,
        "subscriptions": sum(verdicts.values()),
        "verdicts": verdicts,
        "insufficient_history": verdicts["insufficient_history"],
        "candidates": {**changes, "open": open_now},
        "coverage": {"from": _iso(covered_from), "to": _iso(covered_to)},
    }
    _log(summary)
    return summary


def _iso(value: Any) -> str | None:
    """Coverage bounds arrive as UtcDateTime (aware) through the typed select; None when absent."""
    return value.isoformat() if value is not None else None


def _log(summary: dict[str, Any]) -> None:
    verdicts, changes = summary["verdicts"], summary["candidates"]
    log.info(
        "reconciled %s as of %s: %d subscriptions of %d models; %s",
        summary["profile_alias"], summary["as_of"], summary["subscriptions"], summary["models"],
        ", ".join(f"{n} {v}" for v, n in verdicts.items()),
    )
    if summary["superseded"]:
        log.info("a later as-of is already reconciled: position and simulation written, candidates left alone")
    else:
        log.info(
            "candidates: %d opened, %d refreshed, %d closed_canceled, %d closed_skipped; open now %s",
            changes["opened"], changes["refreshed"], changes["closed_canceled"], changes["closed_skipped"],
            changes["open"],
        )
    if verdicts["new_subscription"] or verdicts["kept_by_addon"]:
        log.info(
            "spared: %d subscription(s) assigned within their threshold (their clock starts at the snapshot "
            "that first saw them), %d seat(s) kept because their holder's add-on is not a candidate",
            verdicts["new_subscription"], verdicts["kept_by_addon"],
        )
    if summary["insufficient_history"]:
        log.warning(
            "%d subscriptions not judged, insufficient history: the analysed activity (%s to %s) does not "
            "span their threshold window; they are not candidates until it does",
            summary["insufficient_history"], summary["coverage"]["from"], summary["coverage"]["to"],
        )
