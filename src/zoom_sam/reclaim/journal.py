"""The exactly-once journal of reclaim writes (``reclaim_action``) and the candidate closings.

Every write to Zoom is bracketed by two warehouse transactions: the intent (``requested``) is
committed before the request leaves, the outcome after the answer. A task killed in between
leaves a ``requested`` row behind; the next attempt finds it and reads the user's state in Zoom
to learn whether the write happened, instead of sending it again on a guess. The last outcome of
a candidate and its closing share one transaction, so a candidate never shows ``closed_complete``
without its journal saying so, nor the reverse; the same transaction ends the subscription.

Dry runs write ``planned`` rows (``dry_run`` true), which is the audit trail of what a real run
would have sent; they never mix with the real rows (``dry_run`` is part of the unique key).

No candidate is reclaimed by two runs: every real write for a candidate first claims it for the
run, compare-and-set (``src/zoom_sam/include/sql/reclaim/claim_candidate.sql``), in the transaction of the
write. An intent is written only while the candidate is still open and no other run holds a
fresh claim; otherwise :class:`CandidateTaken` says which run has it, and the caller sends
nothing. The reclaim task also runs under the profile's ``state`` lock; the claim is what still
holds when two reclaims meet without it. A claim expires after :data:`CLAIM_LEASE` without a
write, so a run that died for good does not keep its candidates: the next run takes them over and
settles any intent left without outcome by reading Zoom first.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from zoom_sam.errors import RetryableError
from zoom_sam.reclaim.model import PLANNED, REQUESTED, Action, Candidate
from zoom_sam.vocabulary import RECLAIMABLE_STATES, CandidateState
from zoom_sam.warehouse.schema import reclaim_action, removal_candidate
from zoom_sam.warehouse.sql import run_sql, run_sql_many
from zoom_sam.warehouse.upsert import upsert

MESSAGE_LIMIT = 1000
# Far longer than any pause between two writes of a live run for one candidate.
CLAIM_LEASE = timedelta(hours=1)


@dataclass(frozen=True)
class Closing:
    """A candidate to close with what confirmed (or contradicted) its final write."""

    cand: Candidate
    action: Action
    confirmation: str
    state: CandidateState
    reason: str


class CandidateTaken(RetryableError):
    """Another run holds the candidate (or it was closed meanwhile): nothing is written for it.

    Retryable: a later attempt finds the candidate closed, or takes it over once the claim expired.
    """


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Journal:
    """Reads and writes ``reclaim_action`` rows and closes candidates, for one profile and run."""

    def __init__(self, engine: Engine, profile_alias: str, run_id: str) -> None:
        self.engine = engine
        self.profile_alias = profile_alias
        self.run_id = run_id

    def entries(self, candidate_id: int) -> dict[str, dict[str, Any]]:
        """The real (not dry-run) journal rows of a candidate, by action."""
        t = reclaim_action
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t).where(
                    t.c.profile_alias == self.profile_alias,
                    t.c.candidate_id == candidate_id,
                    t.c.dry_run.is_(False),
                )
            ).mappings()
            return {row["action"]: dict(row) for row in rows}

    def intent(self, cand: Candidate, action: Action, previous: dict[str, Any] | None) -> None:
        """Commit the intent to send ``action`` (before the request leaves), once the candidate is this run's.

        Raises :class:`CandidateTaken` when it is closed or another run holds it: the request
        must not be sent.
        """
        attempts = (previous or {}).get("attempts") or 0
        now = _now()
        row = self._row(cand, action, dry_run=False)
        row.update(status=REQUESTED, requested_at=now, completed_at=None, http_status=None, zoom_code=None,
                   zoom_message=None, confirmation=None, attempts=attempts + 1)
        with self.engine.begin() as conn:
            self._claim(conn, cand, now, open_only=True)
            upsert(conn, reclaim_action, [row], key=_KEY)

    def outcome(
        self,
        cand: Candidate,
        action: Action,
        status: str,
        *,
        http_status: int | None = None,
        zoom_code: int | None = None,
        message: str | None = None,
        confirmation: str | None = None,
        close: tuple[CandidateState, str] | None = None,
    ) -> None:
        """Record the outcome of ``action``; ``close=(state, reason)`` closes its candidate too."""
        t = reclaim_action
        now = _now()
        with self.engine.begin() as conn:
            self._claim(conn, cand, now, open_only=False)
            conn.execute(
                t.update()
                .where(
                    t.c.profile_alias == self.profile_alias,
                    t.c.candidate_id == cand.candidate_id,
                    t.c.action == action.name,
                    t.c.dry_run.is_(False),
                )
                .values(status=status, http_status=http_status, zoom_code=zoom_code,
                        zoom_message=_clip(message), confirmation=_clip(confirmation, 400),
                        completed_at=now, run_id=self.run_id)
            )
            if close:
                self._close(conn, cand, *close, now=now)

    def confirm(self, cand: Candidate, action: Action, confirmation: str) -> None:
        """Attach what a re-read confirmed to an action that already succeeded."""
        now = _now()
        with self.engine.begin() as conn:
            self._claim(conn, cand, now, open_only=False)
            run_sql(conn, "reclaim/confirm_action", {**self._claim_params(cand, now, open_only=False),
                                                     "action": action.name, "confirmation": _clip(confirmation, 400)})

    def confirm_and_close(self, closings: Sequence[Closing]) -> None:
        """Attach each confirmation and close each candidate, all in one transaction and one driver
        call per statement: the seats the listing after a run confirmed, hundreds at a time."""
        if not closings:
            return
        now = _now()
        params = [{**self._claim_params(c.cand, now, open_only=False), **self._close_params(c.cand, c.state, c.reason, now),
                   "action": c.action.name, "confirmation": _clip(c.confirmation, 400)} for c in closings]
        with self.engine.begin() as conn:
            claimed = run_sql_many(conn, "reclaim/claim_candidate", params).rowcount
            if not (conn.dialect.supports_sane_multi_rowcount and claimed == len(closings)):
                for c in closings:  # one at a time: which one another run holds, and CandidateTaken for it
                    self._claim(conn, c.cand, now, open_only=False)
            run_sql_many(conn, "reclaim/confirm_action", params)
            run_sql_many(conn, "reclaim/close_candidate", params)
            run_sql_many(conn, "reclaim/end_subscription", params)

    def planned(self, plans: Iterable[tuple[Candidate, list[Action]]]) -> None:
        """Dry run: record what a real run would send for each candidate, in batched transactions
        (a dry run at size plans tens of thousands; one transaction each took most of its time)."""
        now = _now()
        rows = (
            {**self._row(cand, action, dry_run=True), "status": PLANNED, "requested_at": now, "completed_at": now,
             "http_status": None, "zoom_code": None, "zoom_message": action.call, "confirmation": None, "attempts": 0}
            for cand, actions in plans for action in actions
        )
        upsert(self.engine, reclaim_action, rows, key=_KEY)

    def close(self, cand: Candidate, state: CandidateState, reason: str) -> bool:
        """Move an open candidate to ``state``; False when it was no longer open."""
        now = _now()
        with self.engine.begin() as conn:
            self._claim(conn, cand, now, open_only=False)
            return self._close(conn, cand, state, reason, now=now)

    def _claim(self, conn: Connection, cand: Candidate, now: datetime, *, open_only: bool) -> None:
        """Compare-and-set the candidate's claim for this run, in the caller's transaction."""
        if run_sql(conn, "reclaim/claim_candidate", self._claim_params(cand, now, open_only=open_only)).rowcount == 1:
            return
        c = removal_candidate.c
        state, claimed_by, claimed_at = conn.execute(
            sa.select(c.state, c.claimed_by, c.claimed_at).where(c.candidate_id == cand.candidate_id)).one()
        if state not in RECLAIMABLE_STATES:
            why = f"is {state} already" + (f" (claimed by run {claimed_by})" if claimed_by else "")
        else:
            why = f"is being reclaimed by run {claimed_by} (claimed {claimed_at:%Y-%m-%d %H:%M:%S}Z)"
        raise CandidateTaken(f"candidate {cand.candidate_id} ({cand.email} {cand.software_model}) {why}; run "
                             f"{self.run_id} leaves it alone and sends nothing to Zoom for it")

    def _claim_params(self, cand: Candidate, now: datetime, *, open_only: bool) -> dict[str, Any]:
        return {"profile_alias": self.profile_alias, "candidate_id": cand.candidate_id, "run_id": self.run_id,
                "now": now, "stale_before": now - CLAIM_LEASE, "open_only": open_only}

    def _close_params(self, cand: Candidate, state: CandidateState, reason: str, now: datetime) -> dict[str, Any]:
        return {"profile_alias": self.profile_alias, "candidate_id": cand.candidate_id, "user_id": cand.user_id,
                "identifier": cand.identifier, "state": state, "close_reason": _clip(reason, 400), "now": now,
                "closed_at": None if state == CandidateState.ATTENTION_REQUIRED else now}

    def _close(self, conn: Connection, cand: Candidate, state: CandidateState, reason: str, *, now: datetime) -> bool:
        params = self._close_params(cand, state, reason, now)
        closed = run_sql(conn, "reclaim/close_candidate", params).rowcount == 1
        if closed and state == CandidateState.CLOSED_COMPLETE:
            run_sql(conn, "reclaim/end_subscription", params)
        return closed

    def _row(self, cand: Candidate, action: Action, *, dry_run: bool) -> dict[str, Any]:
        # Only this run's request counts: a candidate keeps the stamp of an older request after
        # the profile left approval mode, and that answer is not what this write rests on.
        approval = cand.approval_run_id == self.run_id
        return {
            "profile_alias": self.profile_alias,
            "candidate_id": cand.candidate_id,
            "action": action.name,
            "dry_run": dry_run,
            "run_id": self.run_id,
            "user_id": cand.user_id,
            "email": cand.email,
            "software_model": cand.software_model,
            "approval_decision": cand.approval_decision if approval else None,
            "approval_by": cand.approval_by if approval else None,
            "approval_at": cand.approval_at if approval else None,
        }


_KEY = ("profile_alias", "candidate_id", "action", "dry_run")


def _clip(text: str | None, limit: int = MESSAGE_LIMIT) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"
