"""Which candidates a reclaim run may touch, with the exclusion rules applied again.

Exclusions are re-applied at reclaim time, from the profile as it is now, because a SAM manager
who adds ``svc-*@example.com`` after last night's reconcile expects that nobody matching it is
downgraded this morning. The subscription's own ``excluded`` flag (set by the last download)
counts too.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine

from zoom_sam.licensing import identifier_exclusion, user_exclusion
from zoom_sam.reclaim.model import Candidate
from zoom_sam.warehouse.schema import UtcDateTime
from zoom_sam.warehouse.sql import run_sql

_AS_OF = UtcDateTime()


@dataclass(frozen=True)
class Selection:
    """The run's open candidates: those it may act on and those exclusions now protect."""

    eligible: tuple[Candidate, ...]
    excluded: tuple[tuple[Candidate, str], ...]  # (candidate, the rule that excludes it)


def load_candidates(engine: Engine, profile_alias: str, as_of: datetime) -> list[Candidate]:
    """This profile's open candidates of the reconcile that ran for ``as_of``."""
    with engine.connect() as conn:
        rows = run_sql(conn, "reclaim/select_candidates", {"profile_alias": profile_alias, "as_of": as_of})
        one = _Shared()
        return [_candidate(row._mapping, one) for row in rows]


class _Shared:
    """One object per distinct value: a run at size holds tens of thousands of candidates whose
    model, state, reason, as-of, cost and department repeat, each read as an object of its own."""

    def __init__(self) -> None:
        self._seen: dict[tuple[type, Any], Any] = {}

    def __call__(self, value: Any) -> Any:
        # Keyed with the type too: Decimal("1") == 1 == True, and each must stay what it is.
        return value if value is None else self._seen.setdefault((type(value), value), value)


def apply_exclusions(candidates: Sequence[Candidate], exclusions: Any) -> Selection:
    """Split candidates by the profile's exclusion rules (``profile.exclusions``) as they are now."""
    eligible, excluded = [], []
    for cand in candidates:
        rule = (
            user_exclusion(cand.user_attributes(), exclusions.users)
            or identifier_exclusion(cand.identifier, exclusions.identifiers)
            or ((cand.subscription_exclusion_rule or "excluded") if cand.subscription_excluded else None)
        )
        if rule:
            excluded.append((cand, rule))
        else:
            eligible.append(cand)
    return Selection(tuple(eligible), tuple(excluded))


def _candidate(row: Any, one: _Shared) -> Candidate:
    evidence = _json(row["evidence"]) or {}
    return Candidate(
        candidate_id=int(row["candidate_id"]),
        user_id=row["user_id"],
        identifier=one(row["identifier"]),
        email=row["email"],
        software_model=one(row["software_model"]),
        state=one(row["state"]),
        reason=one(row["reason"]),
        # text() results carry no column types: convert like the table's UtcDateTime would.
        evaluated_as_of=one(_AS_OF.process_result_value(row["evaluated_as_of"], None)),
        last_activity_at=evidence.get("last_activity_at"),
        inactive_days=evidence.get("inactive_days"),
        user_status=one(row["user_status"]),
        dept=one(row["dept"]),
        role_id=one(row["role_id"]),
        group_ids=one(tuple(str(g) for g in _json(row["group_ids"]) or ())),
        subscription_excluded=bool(row["subscription_excluded"]),
        subscription_exclusion_rule=one(row["subscription_exclusion_rule"]),
        unit_cost=one(Decimal(str(row["unit_cost"]))) if row["unit_cost"] is not None else None,
        currency=one(row["currency"]),
        approval_run_id=one(row["approval_run_id"]),
        approval_decision=one(row["approval_decision"]),
        approval_by=one(row["approval_by"]),
        approval_at=_AS_OF.process_result_value(row["approval_at"], None),
    )


def _json(value: Any) -> Any:
    # JSON columns come back decoded from the table, but as text through a text() query on SQLite.
    return json.loads(value) if isinstance(value, str) else value
