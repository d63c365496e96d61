"""What the views read from a profile's warehouse: plain functions of a connection, no web types.

Each function runs one statement of ``src/zoom_sam/include/sql/ui/`` and returns JSON-ready rows:
text statements come back untyped (SQLite gives timestamps as text, JSON as text, booleans as 0/1;
PostgreSQL gives naive timestamps and Decimals), so every value is read through the type of the
warehouse column it comes from (:func:`typed`). The routes in ``api.py`` and ``pages.py`` only
choose the function and shape the answer.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoom_sam.vocabulary import JobStatus
from zoom_sam.warehouse.migrate import recorded_version
from zoom_sam.warehouse.schema import (
    UtcDateTime,
    activity_coverage,
    entitlement,
    exclusion_rule,
    job_result,
    license_position,
    reclaim_action,
    removal_candidate,
    software_model,
    software_subscription,
    threshold_simulation,
    unrecognized_subscription_identifier,
)
from zoom_sam.warehouse.sql import run_sql

# ``LIMIT`` of an export: every row of the filter (PostgreSQL refuses a NULL or negative limit).
EVERY_ROW = sys.maxsize
EARLIEST = datetime(1, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(9999, 12, 31, tzinfo=timezone.utc)

# The last-activity buckets of license_position (reconcile/position.sql), as the charts label them.
LAST_ACTIVITY_BUCKETS = {"dist_0_30": "0-30", "dist_30_60": "30-60", "dist_60_90": "60-90",
                         "dist_90_120": "90-120", "dist_120_plus": "120+", "dist_never": "never"}

_UTC = UtcDateTime()


def typed(kind: sa.types.TypeEngine | None, value: Any) -> Any:
    """A value of a column of type ``kind`` as JSON-ready Python: aware UTC ISO text, parsed JSON,
    bool, float for amounts (a count or figure computed by the statement has no column: as is)."""
    if value is None:
        return None
    if isinstance(kind, UtcDateTime):
        return _UTC.process_result_value(value, None).isoformat()
    if isinstance(kind, sa.JSON):
        return json.loads(value) if isinstance(value, str) else value
    if isinstance(kind, sa.Boolean):
        return bool(value)
    if isinstance(kind, sa.Numeric) or isinstance(value, Decimal):  # SQLite gives a whole amount as an int
        return float(value)
    return value


def _select(conn: Connection, name: str, params: dict[str, Any], *tables: sa.Table) -> list[dict[str, Any]]:
    """The rows of ``ui/<name>.sql``, each value typed by the column of that name in ``tables``
    (the first table naming it wins: ``active`` is a flag in one table and a count in another)."""
    kinds: dict[str, sa.types.TypeEngine] = {}
    for table in tables:
        for column in table.columns:
            kinds.setdefault(column.name, column.type)
    return [{k: typed(kinds.get(k), v) for k, v in row.items()}
            for row in run_sql(conn, f"ui/{name}", params).mappings()]


def has_schema(conn: Connection) -> bool:
    """Whether any zoom-sam run created its tables in this warehouse (a fresh one has none)."""
    return recorded_version(conn) > 0


@dataclass(frozen=True)
class Paging:
    """Which rows of a filtered list: one page, or all of them (``size=None``, for exports)."""

    page: int = 1
    size: int | None = 50

    def params(self) -> dict[str, int]:
        if self.size is None:
            return {"limit": EVERY_ROW, "offset": 0}
        return {"limit": self.size, "offset": (self.page - 1) * self.size}


def _paged(conn: Connection, name: str, params: dict[str, Any], paging: Paging, key: str,
           *tables: sa.Table) -> tuple[int, list[dict]]:
    """Run a paged statement (a ``total`` column beside the page's columns, ``key`` NULL when the
    page is empty); returns the total and the page's rows without ``total``."""
    rows = _select(conn, name, {**params, **paging.params()}, *tables)
    total = int(rows[0]["total"]) if rows else 0
    return total, [{k: v for k, v in row.items() if k != "total"} for row in rows if row[key] is not None]


# --- a profile's state --------------------------------------------------------------------------

def latest_jobs(conn: Connection, alias: str) -> dict[str, dict[str, Any]]:
    """task_id -> its latest job_result (run, as-of, status, finish, duration, counts, API figures)."""
    return {row.pop("task_id"): row for row in _select(conn, "latest_jobs", {"profile_alias": alias}, job_result)}


def coverage(conn: Connection, alias: str) -> dict[str, str] | None:
    """The activity history complete for every source, or None before the first pull."""
    row = _select(conn, "coverage", {"profile_alias": alias}, activity_coverage)[0]
    if row["covered_from"] is None:
        return None
    return {"from": row["covered_from"], "to": row["covered_to"]}


def state_of(last_runs: dict[str, dict[str, Any]], positioned: bool) -> str:
    """never_run (no task recorded), failing (a task's latest run failed), healthy (a position
    exists and nothing's latest run failed) or validated (runs happened, no position yet)."""
    if not last_runs:
        return "never_run"
    if any(run["status"] == JobStatus.FAILED for run in last_runs.values()):
        return "failing"
    return "healthy" if positioned else "validated"


# --- the profile's related lists ------------------------------------------------------------------

def software_models(conn: Connection, alias: str) -> list[dict[str, Any]]:
    return _select(conn, "software_models", {"profile_alias": alias}, software_model)


def exclusion_rules(conn: Connection, alias: str) -> list[dict[str, Any]]:
    return _select(conn, "exclusion_rules", {"profile_alias": alias}, exclusion_rule)


def entitlements(conn: Connection, alias: str) -> list[dict[str, Any]]:
    return _select(conn, "entitlements", {"profile_alias": alias}, entitlement)


def unrecognized(conn: Connection, alias: str) -> list[dict[str, Any]]:
    return _select(conn, "unrecognized", {"profile_alias": alias}, unrecognized_subscription_identifier)


def jobs(conn: Connection, alias: str, paging: Paging) -> tuple[int, list[dict[str, Any]]]:
    return _paged(conn, "jobs", {"profile_alias": alias}, paging, "run_id", job_result)


# --- license position -------------------------------------------------------------------------------

def as_ofs(conn: Connection, alias: str) -> list[str]:
    """The as-ofs with a license position, newest first."""
    return [row["as_of"] for row in _select(conn, "as_ofs", {"profile_alias": alias}, license_position)]


def position(conn: Connection, alias: str, as_of: datetime) -> list[dict[str, Any]]:
    """Each model's position at ``as_of``, in the words of the views (docs/ui.md, "The position").

    ``used`` is the stored ``active``; ``realised_savings`` the stored ``actual_savings``;
    ``over_licensed`` and ``true_up`` are seats, from purchased against the cost basis
    (assigned minus excluded), the same comparison that gives the stored costs.
    """
    models = []
    for row in _select(conn, "position", {"profile_alias": alias, "as_of": as_of}, license_position):
        basis = row["assigned"] - row["excluded"]
        models.append({
            "software_model": row["software_model"], "purchased": row["purchased"], "assigned": row["assigned"],
            "used": row["active"], "stale": row["stale"], "excluded": row["excluded"],
            "reclaimable": row["reclaimable"], "over_licensed": max(row["purchased"] - basis, 0),
            "true_up": max(basis - row["purchased"], 0), "potential_savings": row["potential_savings"],
            "realised_savings": row["actual_savings"], "threshold_days": row["threshold_days"],
            "unit_cost": row["unit_cost"], "currency": row["currency"],
            "over_licensed_cost": row["over_licensed_cost"], "true_up_cost": row["true_up_cost"],
            "last_activity": {label: row[column] for column, label in LAST_ACTIVITY_BUCKETS.items()},
        })
    return models


def position_history(conn: Connection, alias: str, as_of: datetime) -> list[dict[str, Any]]:
    return [{"as_of": r["as_of"], "software_model": r["software_model"], "assigned": r["assigned"], "used": r["active"]}
            for r in _select(conn, "position_history", {"profile_alias": alias, "as_of": as_of}, license_position)]


def simulation(conn: Connection, alias: str, as_of: datetime) -> list[dict[str, Any]]:
    return [{"software_model": r["software_model"], "threshold_days": r["threshold_days"], "stale": r["candidates"],
             "potential_savings": r["potential_savings"]}
            for r in _select(conn, "simulation", {"profile_alias": alias, "as_of": as_of}, threshold_simulation)]


# --- filtered lists -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SubscriptionFilter:
    q: str = ""
    software_model: str = ""
    state: str = ""  # active | ended | '' (both)
    last_activity_before: datetime | None = None

    def params(self) -> dict[str, Any]:
        escaped = self.q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return {"q_pattern": f"%{escaped}%" if self.q else "", "software_model": self.software_model,
                "include_active": self.state != "ended", "include_ended": self.state != "active",
                "last_activity_before": self.last_activity_before or LATEST}


def subscriptions(conn: Connection, alias: str, where: SubscriptionFilter, paging: Paging) -> tuple[int, list[dict]]:
    return _paged(conn, "subscriptions", {"profile_alias": alias, **where.params()}, paging, "user_id",
                  software_subscription)


@dataclass(frozen=True)
class CandidateFilter:
    state: str = ""
    software_model: str = ""
    reason: str = ""
    as_of: datetime | None = None

    def params(self) -> dict[str, Any]:
        return {"state": self.state, "software_model": self.software_model, "reason": self.reason,
                "as_of_from": self.as_of or EARLIEST, "as_of_to": self.as_of or LATEST}


_CANDIDATE_COLUMNS = ("candidate_id", "user_id", "identifier", "email", "software_model", "state", "reason",
                      "threshold_days", "opened_as_of", "evaluated_as_of", "evidence")
# candidates.sql's action columns -> the names of reclaim_action they carry.
_ACTION_COLUMNS = {"action_id": "action_id", "action_run_id": "run_id", "action": "action", "action_status": "status",
                   **{c: c for c in ("dry_run", "http_status", "zoom_code", "zoom_message", "requested_at",
                                     "completed_at", "attempts", "confirmation")}}


def candidates(conn: Connection, alias: str, where: CandidateFilter, paging: Paging) -> tuple[int, list[dict]]:
    """Candidates with their evidence, the re-check's closing outcome (``recheck``, None while
    nothing closed it), the approval request that listed them and its answer (``approval``: None
    outside approval mode; ``decision`` None while unanswered) and their reclaim actions, oldest first."""
    total, rows = _paged(conn, "candidates", {"profile_alias": alias, **where.params()}, paging, "candidate_id",
                         removal_candidate, reclaim_action)
    found: dict[int, dict[str, Any]] = {}
    for row in rows:
        candidate = found.get(row["candidate_id"])
        if candidate is None:
            candidate = found[row["candidate_id"]] = {c: row[c] for c in _CANDIDATE_COLUMNS}
            candidate["recheck"] = None if row["close_reason"] is None else {
                "state": row["state"], "close_reason": row["close_reason"], "closed_at": row["closed_at"]}
            candidate["approval"] = None if row["approval_run_id"] is None else {
                "run_id": row["approval_run_id"], "decision": row["approval_decision"], "by": row["approval_by"],
                "at": row["approval_at"]}
            candidate["actions"] = []
        if row["action_id"] is not None:
            candidate["actions"].append({name: row[column] for column, name in _ACTION_COLUMNS.items()})
    return total, list(found.values())
