"""Approval mode: what the SAM manager is asked, and what counts as an answer that lets reclaim run.

The request is built from the warehouse alone (no Zoom call): the same selection the reclaim will
act on, counts and savings per model, one line per user, and where the evidence is. The guards
are checked before anyone is asked, so nobody approves a run that would be refused anyway.

Only an explicit Approve by a person lets the reclaim write. Airflow records a response timeout
as the operator's default answer with no responder; the approval step defaults to Reject, and
:func:`approved` also refuses any answer without a responder, so a timeout can never reclaim,
whatever the defaults say.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from zoom_sam.process import RunContext, Summary, ZoomAccess
from zoom_sam.reclaim import guards, report
from zoom_sam.reclaim.model import Candidate, run_mode
from zoom_sam.reclaim.plan import would_write
from zoom_sam.reclaim.selection import apply_exclusions, load_candidates
from zoom_sam.vocabulary import JobStatus, Mode

log = logging.getLogger(__name__)

APPROVE = "Approve"
# ``ctx.inputs`` keys: the approve task's answer (for reclaim) and its response timeout (for the
# request, which tells the approver what no answer means).
APPROVAL_ANSWER = "approval_answer"
RESPONSE_TIMEOUT = "response_timeout"


@dataclass(frozen=True)
class ApprovalRequest:
    subject: str
    body: str
    candidates: tuple[Candidate, ...]

    @property
    def saving(self) -> Decimal:
        return sum((c.saving for c in self.candidates), Decimal(0))

    def counts(self) -> dict[str, Any]:
        return {"candidates": len(self.candidates), "saving": float(self.saving),
                "models": {m: n for m, n, _, _ in report.per_model(self.candidates)}}


def run(ctx: RunContext, zoom: ZoomAccess) -> Summary:
    """The approval request of this run: its report carries the counts, ``subject`` and ``body``.

    A run whose mode needs no answer (the profile changed since the DAG was parsed, a backfill, a
    run parameter) asks nobody: its report says ``not_asked`` and why. Raises GuardExceeded before asking when
    the run would be over a guard.
    """
    mode, why = run_mode(ctx.profile, ctx.run_type, ctx.options)
    if mode != Mode.APPROVAL:
        log.info("nobody is asked: %s", why)
        return Summary(report={"not_asked": True, "reason": why}, status=JobStatus.NOT_ASKED)
    request = approval_request(ctx, ctx.inputs.get(RESPONSE_TIMEOUT))
    counts = request.counts()
    return Summary(report={**counts, "subject": request.subject, "body": request.body}, counts=counts,
                   status=None if request.candidates else JobStatus.NOTHING_TO_APPROVE)


def approval_request(ctx: RunContext, timeout: timedelta | None) -> ApprovalRequest:
    """The request for this run's candidates; raises GuardExceeded before asking when over a guard."""
    profile, as_of = ctx.profile, ctx.as_of
    selection = apply_exclusions(load_candidates(ctx.warehouse, profile.alias, as_of), profile.exclusions)
    cands = tuple(c for c in selection.eligible if would_write(c, ctx.rules))
    verdict = guards.evaluate(cands, guards.assigned_seats(ctx.warehouse, profile.alias),
                              max_per_run=profile.reclaim.max_per_run, max_fraction=profile.reclaim.max_fraction)
    if verdict.exceeded:
        raise guards.GuardExceeded(verdict.message(profile.alias))
    currencies = {c.currency for c in cands if c.currency}
    total = report.money(sum((c.saving for c in cands), Decimal(0)), currencies.pop() if len(currencies) == 1 else None)
    subject = (f"Reclaim {len(cands)} unused Zoom subscription(s) of {profile.display_name} ({profile.alias}), "
               f"saving {total} per year?")
    waiting = (f"No answer within {_duration(timeout)} counts as Reject." if timeout else
               "There is no response timeout: the run waits for an answer.")
    body = "\n\n".join([
        f"**{len(cands)} subscription(s)** found unused as of **{as_of:%Y-%m-%d %H:%M} UTC** by the reconcile of "
        f"this run (rules and exclusions of profile `{profile.alias}`).",
        "### Per software model\n\n" + report.model_table(cands),
        "### Users\n\n" + report.user_table(cands),
        "### Evidence\n\nEach candidate's evidence (last activity, threshold, rule, analysed window, events seen) "
        "is in the warehouse; the reconcile task's log of this run summarises it:\n\n```sql\n"
        + report.evidence_query(profile.alias, as_of) + "\n```",
        "### What Approve does\n\nBefore any change each user is checked against Zoom again: still present, still "
        "holding the subscription, no meeting or webinar hosted since the as-of, none upcoming; otherwise the "
        "candidate is closed without a change. Add-ons are removed before the seat; every change is confirmed by "
        "reading Zoom back and recorded in `reclaim_action`. Excluded users are never touched, even if excluded "
        "after this request.",
        f"### What Reject does\n\nNothing is changed; the candidates stay open and the next run evaluates them "
        f"again. {waiting}",
    ])
    return ApprovalRequest(subject, body, cands)


def approved(answer: Mapping[str, Any] | None) -> bool:
    """True only for an explicit Approve given by a person (never a timeout's default)."""
    if not answer:
        return False
    return (list(answer.get("chosen_options") or []) == [APPROVE] and bool(answer.get("responded_by_user"))
            and not answer.get("timedout"))


def _duration(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} hours" if hours < 48 else f"{hours / 24:g} days"
