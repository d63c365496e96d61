"""The reclaim of one profile for one as-of: select, guard, re-check, write, confirm, account.

Order of events, and why:

1. select this run's open candidates and apply the exclusions as they are now (``selection``);
2. in approval mode, the answer: only candidates this run's request listed and the answer
   approved stay (``approval``), so neither a candidate opened after the request nor a user the
   approver left out is written; candidates with nothing to write, which no request lists, are
   closed as in automatic mode; then the guards, on everything the run would write, before the
   first call to Zoom (``guards``);
3. only now a Zoom client: a run with nothing to do makes no call at all, which is also what
   makes re-running a completed reclaim free;
4. per user, concurrently under the client's limiters, starting as soon as the user listing (the
   records, with the default scopes) shows the user: resume an interrupted attempt, re-check,
   write, confirm (``execute``);
5. the seat writes confirmed, when ``GET /users/{id}`` is not granted, by reading again the
   pages of the user listing that showed them;
6. the as-of reconciled again when anything was reclaimed: the reclaimed subscriptions ended with
   their confirmation, so the position (realised and potential savings, assigned seats) agrees
   with Zoom the same day, and equals what a re-run of the date will write.

A dry run does 1 and 2, then plans from what this run's download read (``dry_run``) and makes no
Zoom call at all: the live re-check reads exist to make a write safe, and a dry run writes
nothing. It reports what a real run would attempt before its live re-checks (its ``planned``
rows in ``reclaim_action`` are the audit trail of the report); those may still stop some writes.

Every rule lookup uses ``ctx.rules``, the rules the run's download recorded, so a profile file
edited after the reconcile cannot make reclaim judge a candidate by other rules than it was made by.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import replace
from itertools import groupby
from typing import TYPE_CHECKING

from zoom_sam.errors import RetryableError, ZoomSamError
from zoom_sam.process import RunContext, Summary, ZoomAccess
from zoom_sam.reclaim import guards
from zoom_sam.reclaim.approval import APPROVAL_ANSWER, approved, approved_ids
from zoom_sam.reclaim.budget import confirmed_by_listing, minimal_calls
from zoom_sam.reclaim.downloaded import load_downloaded
from zoom_sam.reclaim.dry_run import plan_dry_run
from zoom_sam.reclaim.execute import SETTLE_PAUSE_SECONDS, UserReclaim
from zoom_sam.reclaim.journal import Journal
from zoom_sam.reclaim.model import Candidate, Result, run_mode
from zoom_sam.reclaim.outcome import Outcome
from zoom_sam.reclaim.plan import would_write
from zoom_sam.reclaim.selection import apply_exclusions, load_candidates
from zoom_sam.reclaim.users import UserRecords
from zoom_sam.reconcile import process as reconcile
from zoom_sam.vocabulary import CandidateState, JobStatus, Mode, UserStatus
from zoom_sam.warehouse.jobs import Job
from zoom_sam.zoom.budget import pages
from zoom_sam.zoom.errors import ZoomMissingScopes
from zoom_sam.zoom.scopes import RECLAIM, describe_missing, missing_by_process

if TYPE_CHECKING:
    from zoom_sam.zoom.client import ZoomClient

log = logging.getLogger(__name__)

# Passes over the users a pass left open (a write whose answer was lost, a read that failed)
# before the task gives up and leaves them to Airflow's retry.
SETTLE_ROUNDS = 3


class ReclaimNotApproved(ZoomSamError):
    """Approval mode without an explicit Approve from a person: nothing is reclaimed.

    Not retryable: the answer of this run is given; a retry would read the same answer.
    """


class ReclaimIncomplete(RetryableError):
    """Some users could not be finished even after settling them again (Zoom stayed unreadable);
    a retry resumes them from the journal."""


def run(ctx: RunContext, zoom: ZoomAccess) -> Summary:
    """Reclaim in the mode :func:`~zoom_sam.reclaim.model.run_mode` decides for this run.

    A profile that reclaims nothing (any more) ends as ``disabled``, its reason the message.
    """
    mode, why = run_mode(ctx.profile, ctx.run_type, ctx.options)
    log.info("reclaim: %s", why)
    if mode is None:
        return Summary(status=JobStatus.DISABLED, message=why)
    return reclaim(ctx, zoom, mode).process_summary()


def reclaim(ctx: RunContext, zoom: ZoomAccess, mode: Mode, *, settle_pause: float = SETTLE_PAUSE_SECONDS) -> Outcome:
    """Reclaim the profile's open candidates of the reconcile for ``ctx.as_of`` in ``mode``.

    In approval mode ``ctx.inputs`` must carry a person's approving answer (:func:`approved`), and
    only the candidates it approves are acted on; the others stay open, untouched. Raises
    :class:`~zoom_sam.reclaim.guards.GuardExceeded`, :class:`ReclaimNotApproved` (nothing done)
    or :class:`ReclaimIncomplete` (after recording everything that did complete).
    """
    profile, engine, alias = ctx.profile, ctx.warehouse, ctx.profile.alias
    outcome = Outcome(alias, ctx.as_of, mode)
    selection = apply_exclusions(load_candidates(engine, alias, ctx.as_of), profile.exclusions)
    outcome.excluded = list(selection.excluded)
    if mode == Mode.APPROVAL:
        answer = ctx.inputs.get(APPROVAL_ANSWER)
        if not approved(answer):
            raise ReclaimNotApproved(
                f"reclaim of {alias} as of {ctx.as_of:%Y-%m-%d}: no Approve from a person; nothing was reclaimed and "
                "the candidates stay open")
        # A candidate with nothing to write (an invitation its rule leaves alone) was never asked
        # about: it is closed as in automatic mode instead of waiting for an answer that never comes.
        ids = approved_ids(engine, alias, ctx.run_id, answer)
        answered = {c.candidate_id for c in selection.eligible if c.candidate_id in ids or not would_write(c, ctx.rules)}
        outcome.not_approved = [c for c in selection.eligible if c.candidate_id not in answered]
        selection = replace(selection, eligible=tuple(c for c in selection.eligible if c.candidate_id in answered))
    outcome.guard = guards.evaluate(
        [c for c in selection.eligible if would_write(c, ctx.rules)], guards.assigned_seats(engine, alias),
        max_per_run=profile.reclaim.max_per_run, max_fraction=profile.reclaim.max_fraction,
    )
    if outcome.guard.exceeded and not outcome.dry_run:
        raise guards.GuardExceeded(outcome.guard.message(alias))
    journal = Journal(engine, alias, ctx.run_id)
    if not outcome.dry_run:
        for cand, rule in selection.excluded:
            journal.close(cand, CandidateState.CLOSED_SKIPPED, f"excluded at reclaim time by {rule}")
    if selection.eligible:
        if outcome.dry_run:
            outcome.results = plan_dry_run(journal, selection.eligible, load_downloaded(engine, alias, ctx.as_of),
                                           excluded_identifiers=profile.exclusions.identifiers, rules=ctx.rules)
        else:
            client = zoom.client()
            _reclaim_users(client, journal, ctx, selection.eligible, outcome, settle_pause)
            outcome.api = client.stats()
    if not outcome.dry_run and outcome.reclaimed:
        _reconcile_again(ctx, zoom)
    log.info("%s", outcome.render())
    if outcome.unresolved:
        raise ReclaimIncomplete(
            f"{len(outcome.unresolved)} candidate(s) could not be finished; everything else is recorded. A retry "
            "resumes from the journal, reading each user's state first and never re-sending blindly: "
            + "; ".join(f"{r.candidate.email} {r.candidate.software_model}: {r.detail}" for r in outcome.unresolved[:10]))
    return outcome


def _reconcile_again(ctx: RunContext, zoom: ZoomAccess) -> None:
    """The reclaimed subscriptions ended: the as-of's verdicts and position are recomputed from the
    warehouse as it is now, exactly what a re-run of this date's reconcile will find."""
    reconcile.run(replace(ctx, job=Job()), zoom)


def _records_and_budget(client: ZoomClient, ctx: RunContext, eligible: tuple[Candidate, ...],
                        statuses: list[str]) -> tuple[UserRecords, dict[str, int]]:
    """Where the user records come from, and the run's minimal calls. What this run's download read
    serves both (the listing's pages are asked all at once when their count is known) and is let go
    here: not kept while tens of thousands of users are written."""
    downloaded = load_downloaded(ctx.warehouse, ctx.profile.alias, ctx.as_of)
    page_size = client.config.page_size
    records = UserRecords(client, {s: pages(downloaded.users_by_status.get(s, 0), page_size) for s in statuses})
    return records, minimal_calls(eligible, downloaded, per_user=records.per_user, rules=ctx.rules,
                                  page_size=page_size)


def _reclaim_users(client: ZoomClient, journal: Journal, ctx: RunContext, eligible: tuple[Candidate, ...],
                   outcome: Outcome, settle_pause: float) -> None:
    missing = missing_by_process(client.granted_scopes)
    if RECLAIM in missing:
        raise ZoomMissingScopes(
            message=f"reclaim of {ctx.profile.alias} cannot write to Zoom: "
            f"{describe_missing({RECLAIM: missing[RECLAIM]})}; add them to the Zoom app (nothing was changed)",
            missing=missing[RECLAIM], processes={RECLAIM: missing[RECLAIM]})
    statuses = [UserStatus.ACTIVE] + ([UserStatus.PENDING] if any(c.is_pending for c in eligible) else [])
    records, outcome.minimal = _records_and_budget(client, ctx, eligible, statuses)
    worker = UserReclaim(client, journal, records, settle_pause=settle_pause,
                         excluded_identifiers=ctx.profile.exclusions.identifiers, rules=ctx.rules)
    units = [list(group) for _, group in groupby(eligible, key=lambda c: c.user_id)]
    by_user = {unit[0].user_id: unit for unit in units}
    # The first round starts on each user as soon as the listing shows its record (or ends without
    # it), so the listing's sequential pages overlap the re-checks instead of preceding them.
    todo: Iterable[list[Candidate]] = (by_user[key] for key in records.stream(by_user, statuses))
    users = len(units)
    confirmed, whole = confirmed_by_listing(eligible, ctx.rules)
    results: dict[int, Result] = {}
    for round_ in range(1, SETTLE_ROUNDS + 1):
        for done, (_, unit_results) in enumerate(client.map_concurrent(worker, todo), start=1):
            results.update((r.candidate.candidate_id, r) for r in unit_results)
            if done % 100 == 0:
                log.info("reclaim: %d of %d users done", done, users)
        if round_ == 1 and not records.per_user and not whole:
            # Known only now: on which pages the listing showed the seats to confirm.
            outcome.minimal["Medium"] = outcome.minimal.get("Medium", 0) + records.pages_holding(confirmed)
        awaiting = [r for r in results.values() if r.awaiting]
        results.update((r.candidate.candidate_id, r) for r in worker.confirm_after_run(awaiting))
        # Still open: a write Zoom's state shows was not applied after its answer was lost, or a
        # user whose reads failed. Settled now, in this try, by the same resume -> re-check ->
        # write path, so a lost answer does not cost a failed task and a retry minutes later.
        again = {r.candidate.user_id for r in results.values() if r.state is None}
        if not again or round_ == SETTLE_ROUNDS:
            break
        log.info("reclaim: %d user(s) left open after round %d (lost answers or failed reads); settling them "
                 "again after %.0f s", len(again), round_, settle_pause)
        time.sleep(settle_pause)
        todo = [unit for unit in units if unit[0].user_id in again]
        users = len(todo)
        records.prefetch(again, statuses)
    outcome.results = list(results.values())
