"""Approval mode: what the SAM manager is asked, what the answer decides, and what lets reclaim write.

The request is built from the warehouse alone (no Zoom call): the same selection the reclaim will
act on, counts and savings per model, where the run stands against the guards, one line per user
(cut at a size the form can show, and saying so), and a link to every candidate in the views.
The guards are checked before anyone is asked, so nobody approves a run that would be refused
anyway. Every candidate the request lists is stamped with the run (``approval_run_id``): an
answer speaks for those candidates and no others, so one opened after the request (a reconcile
cleared and re-run, another run's) is never written on it.

The approver answers Approve (all), Approve all but the listed users (``leave_out``: emails or
Zoom user ids), or Reject. :func:`decide` reads an answer strictly: a listed name that matches no
user of the request, Approve with users listed, or "all but" with nobody listed is *refused*
(nothing is approved), because a typo that silently matched nobody would write to the very user
the approver meant to keep. The decision is recorded on every candidate of the request (who, when,
what), and reclaim writes only for candidates whose recorded decision is ``approved`` and that the
answer it was handed approves again (:func:`approved_ids`).

Airflow records a response timeout as the operator's default answer, Reject, with no responder;
any answer without a responder counts as a timeout, so a timeout can never reclaim, whatever the
defaults say.
"""
from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from zoom_sam.errors import ZoomSamError
from zoom_sam.process import RunContext, Summary, ZoomAccess
from zoom_sam.reclaim import guards, report
from zoom_sam.reclaim.model import Candidate, run_mode
from zoom_sam.reclaim.plan import would_write
from zoom_sam.reclaim.selection import apply_exclusions, load_candidates
from zoom_sam.vocabulary import RECLAIMABLE_STATES, ApprovalDecision, ApprovalOption, JobStatus, Mode
from zoom_sam.warehouse.schema import removal_candidate

log = logging.getLogger(__name__)

# ``ctx.inputs`` keys: the approve task's answer (for its own answer step and for reclaim), its
# response timeout (the request tells the approver what no answer means), and where the views of
# the Airflow UI are (``[api] base_url`` + the plugin's prefix; the request links to them).
APPROVAL_ANSWER = "approval_answer"
RESPONSE_TIMEOUT = "response_timeout"
VIEWS_URL = "views_url"
# The form field of the request: the users "Approve all but the listed users" leaves out.
LEAVE_OUT = "leave_out"
# The candidates page of the views (zoom_sam/ui/pages.py, route ``candidates_page``).
CANDIDATES_PAGE = "/profiles/{alias}/candidates"
APPROVING = (ApprovalOption.APPROVE, ApprovalOption.APPROVE_ALL_BUT)
_SEPARATORS = re.compile(r"[\s,;]+")


class ApprovalRefused(ZoomSamError):
    """The answer cannot be read as one intent (an unknown user, Approve with users listed, ...):
    nothing is approved, every candidate of the request stays open.

    Not retryable: the answer is given; clearing the approve task asks again.
    """


@dataclass(frozen=True)
class ApprovalRequest:
    subject: str
    body: str
    candidates: tuple[Candidate, ...]

    @property
    def saving(self) -> Decimal:
        return sum((c.saving for c in self.candidates), Decimal(0))

    def counts(self) -> dict[str, Any]:
        return {"candidates": len(self.candidates), "users": len({c.user_id for c in self.candidates}),
                "saving": float(self.saving), "models": {m: n for m, n, _, _ in report.per_model(self.candidates)}}


@dataclass(frozen=True)
class Requested:
    """A candidate as an approval request listed it: enough to match the names an approver lists."""

    candidate_id: int
    user_id: str
    email: str
    software_model: str
    decision: str | None


@dataclass(frozen=True)
class Decision:
    """What one answer decided for the candidates of its request."""

    option: str | None
    by: str | None
    at: datetime | None
    approved: frozenset[int]
    left_out: frozenset[int]
    overall: ApprovalDecision
    left_out_users: tuple[str, ...] = ()

    def of(self, candidate_id: int) -> ApprovalDecision:
        if candidate_id in self.approved:
            return ApprovalDecision.APPROVED
        if candidate_id in self.left_out:
            return ApprovalDecision.LEFT_OUT
        return self.overall

    def describe(self) -> str:
        who = f"{self.by} at {self.at:%Y-%m-%d %H:%M:%S}Z" if self.by and self.at else "nobody (no answer in time)"
        if self.overall == ApprovalDecision.APPROVED:
            kept = (f"; left out by the approver, not changed and still open: {len(self.left_out)} subscription(s) of "
                    f"{', '.join(self.left_out_users)}" if self.left_out else "")
            return f"{self.option!r} by {who}: {len(self.approved)} subscription(s) approved{kept}"
        return f"{self.overall} by {who}: nothing is reclaimed, every candidate of the request stays open"


def run(ctx: RunContext, zoom: ZoomAccess) -> Summary:
    """The approval request of this run: its report carries the counts, ``subject`` and ``body``.

    A run whose mode needs no answer (the profile changed since the DAG was parsed, a backfill, a
    run parameter) asks nobody: its report says ``not_asked`` and why. Raises GuardExceeded
    before asking when the run would be over a guard. The candidates asked about are stamped
    with the run in the same step, so the answer can only ever speak for them.
    """
    mode, why = run_mode(ctx.profile, ctx.run_type, ctx.options)
    if mode != Mode.APPROVAL:
        log.info("nobody is asked: %s", why)
        return Summary(report={"not_asked": True, "reason": why}, status=JobStatus.NOT_ASKED)
    request = approval_request(ctx, ctx.inputs.get(RESPONSE_TIMEOUT), ctx.inputs.get(VIEWS_URL))
    _stamp(ctx, request.candidates)
    counts = request.counts()
    return Summary(report={**counts, "subject": request.subject, "body": request.body}, counts=counts,
                   status=None if request.candidates else JobStatus.NOTHING_TO_APPROVE)


def approval_request(ctx: RunContext, timeout: timedelta | None, views_url: str | None = None) -> ApprovalRequest:
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
    users = len({c.user_id for c in cands})
    subject = (f"Reclaim {len(cands)} unused Zoom subscription(s) of {profile.display_name} ({profile.alias}), "
               f"saving {total} per year?")
    link = candidates_link(views_url, profile.alias, as_of, cands)
    waiting = (f"No answer within {_duration(timeout)} counts as Reject." if timeout else
               "There is no response timeout: the run waits for an answer.")
    shown = min(len(cands), report.TABLE_LIMIT)
    cut = (f"**The table lists {shown} of the {len(cands)} subscriptions of this request; the other "
           f"{len(cands) - shown} are part of it too" + (f" and all are on [the candidates page]({link})" if link else "")
           + " (and in the evidence query below).**\n\n" if len(cands) > shown else "")
    body = "\n\n".join([
        f"**{len(cands)} subscription(s) of {users} user(s)** found unused as of **{as_of:%Y-%m-%d %H:%M} UTC** by "
        f"the reconcile of this run (rules and exclusions of profile `{profile.alias}`), saving **{total}** per year.",
        "### Per software model\n\n" + report.model_table(cands),
        "### Guards\n\nChecked before asking; over either, nothing would be reclaimed.\n\n" + verdict.table(),
        "### All candidates\n\n" + (f"[Every candidate of this request, with its evidence]({link}) in the Zoom "
                                    "licenses view (candidates of this as-of)." if link else
                                    "The Zoom licenses view lists them under the profile's candidates (this as-of)."),
        "### Users\n\n" + cut + report.user_table(cands, limit=report.TABLE_LIMIT, rest="on the candidates page"),
        "### Evidence\n\nEach candidate's evidence (last activity, threshold, rule, analysed window, events seen) "
        "is in the warehouse; the reconcile task's log of this run summarises it:\n\n```sql\n"
        + report.evidence_query(profile.alias, as_of) + "\n```",
        f"### {ApprovalOption.APPROVE}\n\nEvery subscription listed here is reclaimed. Before any change each user "
        "is checked against Zoom again: still present, still holding the subscription, no meeting or webinar hosted "
        "since the as-of, none upcoming; otherwise the candidate is closed without a change. Add-ons are removed "
        "before the seat; every change is confirmed by reading Zoom back and recorded in `reclaim_action` with "
        "your name and the time of your answer. Excluded users are never touched, even if excluded after this "
        "request. Leave **Users to leave out** empty.",
        f"### {ApprovalOption.APPROVE_ALL_BUT}\n\nAs Approve, except for the users you list in **Users to leave "
        "out** (email or Zoom user id, one per line): none of their subscriptions is changed, and their candidates "
        "stay open, marked as left out by you; the next run asks about them again. A name that is not a user of "
        "this request refuses the whole answer: nothing is reclaimed, and the run's approve task fails saying "
        "which name; clear the task to be asked again.",
        f"### {ApprovalOption.REJECT}\n\nNothing is changed; the candidates stay open and the next run evaluates "
        f"them again. {waiting}",
    ])
    return ApprovalRequest(subject, body, cands)


def candidates_link(views_url: str | None, alias: str, as_of: datetime, cands: Sequence[Candidate]) -> str | None:
    """The candidates page filtered to this run's as-of (and their state, when they share one)."""
    if views_url is None:
        return None
    query = {"as_of": f"{as_of.astimezone(timezone.utc):%Y-%m-%dT%H:%M:%SZ}"}
    states = {c.state for c in cands}
    if len(states) == 1:
        query["state"] = states.pop()
    return f"{views_url.rstrip('/')}{CANDIDATES_PAGE.format(alias=alias)}?{urlencode(query)}"


def answer(ctx: RunContext, zoom: ZoomAccess) -> Summary:
    """The answer to this run's request (``ctx.inputs[APPROVAL_ANSWER]``), recorded on every candidate
    the request listed. Its report's ``approved`` counts what reclaim may write.

    Raises :class:`ApprovalRefused` after recording ``refused`` on them when the answer cannot be
    read as one intent.
    """
    requested = requested_candidates(ctx.warehouse, ctx.profile.alias, ctx.run_id)
    event = ctx.inputs.get(APPROVAL_ANSWER) or {}
    try:
        decision = decide(event, requested)
    except ApprovalRefused as refused:
        _record(ctx, requested, Decision(_option(event), _person(event), _time(event), frozenset(), frozenset(),
                                         ApprovalDecision.REFUSED))
        raise ApprovalRefused(f"{refused} Nothing is reclaimed and the {len(requested)} candidate(s) of the request "
                              "stay open; clear the approve task to be asked again.") from None
    _record(ctx, requested, decision)
    log.info("approval of %s as of %s: %s", ctx.profile.alias, ctx.as_of.date(), decision.describe())
    # The answer's row replaces the request's in job_result (one row per task): it says again what was asked.
    counts = {"requested": len(requested), "models": dict(Counter(r.software_model for r in requested)),
              "approved": len(decision.approved), "left_out": len(decision.left_out),
              "decision": str(decision.overall), "answered_by": decision.by,
              "answered_at": decision.at.isoformat() if decision.at else None}
    return Summary(report=counts, counts=counts, message=decision.describe())


def decide(event: Mapping[str, Any], requested: Sequence[Requested]) -> Decision:
    """What ``event`` (Airflow's HITL answer) decides for the ``requested`` candidates.

    Raises :class:`ApprovalRefused` when it cannot be read as exactly one intent.
    """
    option, by, at = _option(event), _person(event), _time(event)
    everyone = frozenset(r.candidate_id for r in requested)
    if event.get("timedout") or not by:
        return Decision(option, None, at, frozenset(), frozenset(), ApprovalDecision.TIMED_OUT)
    chosen = list(event.get("chosen_options") or [])
    if len(chosen) != 1 or chosen[0] not in list(ApprovalOption):
        raise ApprovalRefused(f"the answer chose {chosen!r}; exactly one of {[str(o) for o in ApprovalOption]} is "
                              "understood.")
    if option == ApprovalOption.REJECT:
        return Decision(option, by, at, frozenset(), frozenset(), ApprovalDecision.REJECTED)
    listed = _listed(event.get("params_input"))
    if option == ApprovalOption.APPROVE and listed:
        raise ApprovalRefused(f"the answer is {option!r} but lists users to leave out ({', '.join(listed)}); choose "
                              f"{ApprovalOption.APPROVE_ALL_BUT!r} to leave them out, or empty the list to approve all.")
    if option == ApprovalOption.APPROVE_ALL_BUT and not listed:
        raise ApprovalRefused(f"the answer is {option!r} but lists nobody to leave out.")
    by_name: dict[str, set[int]] = {}
    for r in requested:
        for key in {r.email.casefold(), r.user_id.casefold()}:
            by_name.setdefault(key, set()).add(r.candidate_id)
    matches = {name: by_name.get(name.casefold(), set()) for name in listed}
    unknown = [name for name, ids in matches.items() if not ids]
    if unknown:
        raise ApprovalRefused(f"the answer leaves out {', '.join(unknown)}, who {'is' if len(unknown) == 1 else 'are'} "
                              "not a user of this request (email or Zoom user id).")
    left_out = frozenset().union(*matches.values()) if matches else frozenset()
    return Decision(option, by, at, everyone - left_out, left_out, ApprovalDecision.APPROVED, tuple(listed))


def approved(answer: Mapping[str, Any] | None) -> bool:
    """True only for an approving option given by a person (never a timeout's default)."""
    if not answer:
        return False
    return (list(answer.get("chosen_options") or []) in [[o] for o in APPROVING]
            and bool(answer.get("responded_by_user")) and not answer.get("timedout"))


def approved_ids(engine: Engine, profile_alias: str, run_id: str, answer: Mapping[str, Any]) -> frozenset[int]:
    """The candidates reclaim may write for: listed in this run's request, approved by ``answer`` read
    again, and recorded ``approved`` by the approve task. Any disagreement writes nothing for them.

    Raises :class:`ApprovalRefused` when ``answer`` no longer reads as one intent against the request.
    """
    requested = requested_candidates(engine, profile_alias, run_id)
    decision = decide(answer, requested)
    return frozenset(r.candidate_id for r in requested
                     if r.candidate_id in decision.approved and r.decision == ApprovalDecision.APPROVED)


def requested_candidates(engine: Engine, profile_alias: str, run_id: str) -> list[Requested]:
    """Every candidate this run's approval request listed (open or closed since)."""
    c = removal_candidate.c
    with engine.connect() as conn:
        rows = conn.execute(sa.select(c.candidate_id, c.user_id, c.email, c.software_model, c.approval_decision)
                            .where(c.profile_alias == profile_alias, c.approval_run_id == run_id)
                            .order_by(c.candidate_id))
        return [Requested(r.candidate_id, r.user_id, r.email, r.software_model, r.approval_decision) for r in rows]


def _stamp(ctx: RunContext, cands: Sequence[Candidate]) -> None:
    """Stamp the request's candidates with the run, in one transaction with forgetting what an
    earlier request of the same run stamped (the approve task cleared and asking again) on the
    candidates still open: only the new request's candidates may count as listed. Closed
    candidates keep the approval their reclaim rested on."""
    c, now = removal_candidate.c, datetime.now(timezone.utc)
    open_ = c.state.in_([s.value for s in RECLAIMABLE_STATES])
    with ctx.warehouse.begin() as conn:
        conn.execute(removal_candidate.update()
                     .where(c.profile_alias == ctx.profile.alias, c.approval_run_id == ctx.run_id, open_)
                     .values(approval_run_id=None, approval_requested_at=None, approval_decision=None,
                             approval_by=None, approval_at=None, updated_at=now))
        for ids in _chunks([cand.candidate_id for cand in cands]):
            conn.execute(removal_candidate.update()
                         .where(c.profile_alias == ctx.profile.alias, c.candidate_id.in_(ids), open_)
                         .values(approval_run_id=ctx.run_id, approval_requested_at=now, approval_decision=None,
                                 approval_by=None, approval_at=None, updated_at=now))


def _record(ctx: RunContext, requested: Sequence[Requested], decision: Decision) -> None:
    """The decision for each candidate of the request, who gave it and when; a candidate a later
    request of another run stamped meanwhile is that request's, and left alone."""
    c, now = removal_candidate.c, datetime.now(timezone.utc)
    by_decision: dict[ApprovalDecision, list[int]] = {}
    for r in requested:
        by_decision.setdefault(decision.of(r.candidate_id), []).append(r.candidate_id)
    with ctx.warehouse.begin() as conn:
        for word, all_ids in by_decision.items():
            for ids in _chunks(all_ids):
                conn.execute(removal_candidate.update()
                             .where(c.profile_alias == ctx.profile.alias, c.approval_run_id == ctx.run_id,
                                    c.candidate_id.in_(ids))
                             .values(approval_decision=word.value, approval_by=decision.by,
                                     approval_at=decision.at, updated_at=now))


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    """Whole-set updates in slices that stay far below every back end's limit of bound values."""
    return [ids[i:i + size] for i in range(0, len(ids), size)]


def _listed(params_input: Any) -> list[str]:
    """The names the approver listed to leave out, split and de-duplicated, in their order."""
    params = params_input or {}
    if not isinstance(params, Mapping) or set(params) - {LEAVE_OUT}:
        raise ApprovalRefused(f"the answer's form fields {sorted(params) if isinstance(params, Mapping) else params!r} "
                              f"are not understood; only {LEAVE_OUT!r} is.")
    value = params.get(LEAVE_OUT) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApprovalRefused(f"{LEAVE_OUT!r} must be a list of emails or Zoom user ids, not {value!r}.")
    return list(dict.fromkeys(name for v in value for name in _SEPARATORS.split(v) if name))


def _option(event: Mapping[str, Any]) -> str | None:
    chosen = list(event.get("chosen_options") or [])
    return chosen[0] if len(chosen) == 1 else None


def _person(event: Mapping[str, Any]) -> str | None:
    """Who answered, as ``name (id)``; None for Airflow's timeout default (no responder)."""
    user = event.get("responded_by_user")
    if not user:
        return None
    if not isinstance(user, Mapping):
        return str(user)[:250]
    user_id, name = user.get("id"), user.get("name")
    text = f"{name} ({user_id})" if name and user_id and name != user_id else str(user_id or name or "")
    return text[:250] or None


def _time(event: Mapping[str, Any]) -> datetime | None:
    value = event.get("responded_at")
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return None


def _duration(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} hours" if hours < 48 else f"{hours / 24:g} days"
