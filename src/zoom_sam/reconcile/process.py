"""The reconcile process: one profile, one as-of, one transaction.

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

Reconcile never calls Zoom. A reclaim that ended subscriptions runs it again with its own context,
so the as-of's position agrees with Zoom the same day.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from zoom_sam.errors import ZoomSamError
from zoom_sam.process import RunContext, Summary, ZoomAccess
from zoom_sam.reconcile.rules import write_rules
from zoom_sam.vocabulary import OPEN_STATES, CandidateState, JobStatus, Mode, Verdict
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

DISTRIBUTION_DAYS = (30, 60, 90, 120)
CANDIDATE_CHANGES = (CandidateState.CLOSED_CANCELED.value, CandidateState.CLOSED_SKIPPED.value, "refreshed", "opened")


def run(ctx: RunContext, zoom: ZoomAccess) -> Summary:
    """Reconcile ``ctx.profile`` as of ``ctx.as_of`` (aware; the run's data_interval_end).

    The profile's reclaim mode decides the state of new candidates: ``awaiting_approval`` in
    approval mode, ``ready`` otherwise; ``ctx.run_id`` is recorded on the candidates it opens.
    Running it again for the same as-of on the same data changes no candidate and no subscription.
    """
    if ctx.as_of.tzinfo is None:
        raise ZoomSamError(f"as_of {ctx.as_of!r} must be timezone-aware (UTC)")
    alias = ctx.profile.alias
    mode = Mode(ctx.profile.reclaim.mode)
    as_of = ctx.as_of.astimezone(timezone.utc)
    new_state = CandidateState.AWAITING_APPROVAL if mode == Mode.APPROVAL else CandidateState.READY
    params = {
        "profile_alias": alias,
        "as_of": as_of,
        "now": datetime.now(timezone.utc),
        "run_id": ctx.run_id,
        "new_state": new_state.value,
        # The year the run's interval belongs to: the as-of is its exclusive end, so the run
        # ending at 1 January 00:00 still reports the whole previous year.
        "year_start": datetime((as_of - timedelta(microseconds=1)).year, 1, 1, tzinfo=timezone.utc),
        **{f"since_{days}": as_of - timedelta(days=days) for days in DISTRIBUTION_DAYS},
    }
    with ctx.warehouse.begin() as conn:
        latest = conn.execute(
            sa.select(sa.func.max(reconcile_rule.c.as_of)).where(reconcile_rule.c.profile_alias == alias)
        ).scalar_one()
        superseded = latest is not None and latest > as_of
        models = write_rules(conn, alias, as_of, ctx.rules)
        conn.execute(reconcile_evaluation.delete().where(reconcile_evaluation.c.profile_alias == alias))
        run_sql(conn, "reconcile/evaluate", params)
        # The verdicts were just rewritten wholesale: fresh planner statistics, or PostgreSQL plans
        # every later statement for the row count it saw last (none on a first run) and can pick a
        # nested loop that is quadratic in the candidates. (Both back ends take the same statement.)
        conn.execute(sa.text(f"ANALYZE {reconcile_evaluation.name}"))
        changes = dict.fromkeys(CANDIDATE_CHANGES, 0)
        if not superseded:
            run_sql(conn, "reconcile/update_subscriptions", params)
            changes[CandidateState.CLOSED_CANCELED] = run_sql(conn, "reconcile/cancel_candidates", params).rowcount
            changes[CandidateState.CLOSED_SKIPPED] = run_sql(conn, "reconcile/skip_candidates", params).rowcount
            changes["refreshed"] = run_sql(conn, "reconcile/refresh_candidates", params).rowcount
            changes["opened"] = run_sql(conn, "reconcile/open_candidates", params).rowcount
        for table, statement in ((license_position, "reconcile/position"),
                                 (threshold_simulation, "reconcile/simulation")):
            conn.execute(table.delete().where(table.c.profile_alias == alias, table.c.as_of == as_of))
            run_sql(conn, statement, params)
        verdicts = {v.value: 0 for v in Verdict} | dict(conn.execute(
            sa.select(reconcile_evaluation.c.status, sa.func.count())
            .where(reconcile_evaluation.c.profile_alias == alias)
            .group_by(reconcile_evaluation.c.status)
        ).all())
        open_now = {s.value: 0 for s in OPEN_STATES} | dict(conn.execute(
            sa.select(removal_candidate.c.state, sa.func.count())
            .where(removal_candidate.c.profile_alias == alias,
                   removal_candidate.c.state.in_([s.value for s in OPEN_STATES]))
            .group_by(removal_candidate.c.state)
        ).all())
        covered_from, covered_to = conn.execute(
            sa.select(sa.func.max(activity_coverage.c.covered_from), sa.func.min(activity_coverage.c.covered_to))
            .where(activity_coverage.c.profile_alias == alias)
        ).one()
    report = {
        "profile_alias": alias,
        "as_of": as_of.isoformat(),
        "mode": mode.value,
        "superseded": superseded,
        "models": models,
        "subscriptions": sum(verdicts.values()),
        "verdicts": verdicts,
        "insufficient_history": verdicts[Verdict.INSUFFICIENT_HISTORY],
        "candidates": {**changes, "open": open_now},
        "coverage": {"from": _iso(covered_from), "to": _iso(covered_to)},
    }
    _log(report)
    return _summary(report)


def _summary(report: dict[str, Any]) -> Summary:
    """The job_result of the run: its counts, and ``insufficient_history`` when some went unjudged."""
    counts = {
        "subscriptions": report["subscriptions"],
        **report["verdicts"],
        **{f"candidates_{k}": v for k, v in report["candidates"].items() if k != "open"},
        **{f"open_{k}": v for k, v in report["candidates"]["open"].items()},
        "superseded": report["superseded"],
    }
    if not report["insufficient_history"]:
        return Summary(report=report, counts=counts)
    return Summary(
        report=report, counts=counts, status=JobStatus.INSUFFICIENT_HISTORY,
        message=(f"{report['insufficient_history']} subscriptions not judged: the analysed activity "
                 f"({report['coverage']['from']} to {report['coverage']['to']}) does not span their threshold window"),
    )


def _iso(value: Any) -> str | None:
    """Coverage bounds arrive as UtcDateTime (aware) through the typed select; None when absent."""
    return value.isoformat() if value is not None else None


def _log(report: dict[str, Any]) -> None:
    verdicts, changes = report["verdicts"], report["candidates"]
    log.info(
        "reconciled %s as of %s: %d subscriptions of %d models; %s",
        report["profile_alias"], report["as_of"], report["subscriptions"], report["models"],
        ", ".join(f"{n} {v}" for v, n in verdicts.items()),
    )
    if report["superseded"]:
        log.info("a later as-of is already reconciled: position and simulation written, candidates left alone")
    else:
        log.info(
            "candidates: %d opened, %d refreshed, %d closed_canceled, %d closed_skipped; open now %s",
            changes["opened"], changes["refreshed"], changes[CandidateState.CLOSED_CANCELED],
            changes[CandidateState.CLOSED_SKIPPED], changes["open"],
        )
    if verdicts[Verdict.NEW_SUBSCRIPTION] or verdicts[Verdict.KEPT_BY_ADDON]:
        log.info(
            "spared: %d subscription(s) assigned within their threshold (their clock starts at the snapshot "
            "that first saw them), %d seat(s) kept because their holder's add-on is not a candidate",
            verdicts[Verdict.NEW_SUBSCRIPTION], verdicts[Verdict.KEPT_BY_ADDON],
        )
    if report["insufficient_history"]:
        log.warning(
            "%d subscriptions not judged, insufficient history: the analysed activity (%s to %s) does not "
            "span their threshold window; they are not candidates until it does",
            report["insufficient_history"], report["coverage"]["from"], report["coverage"]["to"],
        )
