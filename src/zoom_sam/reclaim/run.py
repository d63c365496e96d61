"""The reclaim of one profile for one as-of: select, guard, re-check, write, confirm, account.

Order of events, and why:

1. select this run's open candidates and apply the exclusions as they are now (``selection``);
2. the guards, on everything the run would write, before the first call to Zoom (``guards``);
   in approval mode, the approval (``approval``);
3. only now a Zoom client: a run with nothing to do makes no call at all, which is also what
   makes re-running a completed reclaim free;
4. per user, concurrently under the client's limiters, starting as soon as the user listing (the
   records, with the default scopes) shows the user: resume an interrupted attempt, re-check,
   write, confirm (``execute``);
5. the seat writes confirmed by one fresh user listing when ``GET /users/{id}`` is not granted;
6. the as-of reconciled again when anything was reclaimed: the reclaimed subscriptions ended with
   their confirmation, so the position (realised and potential savings, assigned seats) agrees
   with Zoom the same day, and equals what a re-run of the date will write.

A dry run does 1 and 2, then plans from what this run's download read (``dry_run``) and makes no
Zoom call at all: the live re-check reads exist to make a write safe, and a dry run writes
nothing. It reports what a real run would attempt before its live re-checks (its ``planned``
rows in ``reclaim_action`` are the audit trail of the report); those may still stop some writes.
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from typing import Any

from sqlalchemy.engine import Engine

from zoom_sam.process import GivenZoom, RunContext
from zoom_sam.reclaim import guards, report
from zoom_sam.reclaim.budget import minimal_calls
from zoom_sam.reclaim.downloaded import Downloaded, load_downloaded
from zoom_sam.reclaim.dry_run import plan_dry_run
from zoom_sam.reclaim.execute import SETTLE_PAUSE_SECONDS, UserReclaim
from zoom_sam.reclaim.journal import Journal
from zoom_sam.reclaim.model import (
    ATTENTION_REQUIRED,
    CLOSED_CANCELED,
    CLOSED_COMPLETE,
    CLOSED_SKIPPED,
    MODES,
    Candidate,
    Result,
)
from zoom_sam.reclaim.plan import would_write
from zoom_sam.reclaim.selection import apply_exclusions, load_candidates
from zoom_sam.reclaim.users import UserRecords
from zoom_sam.reconcile import process as reconcile
from zoom_sam.rules import Rules
from zoom_sam.warehouse.jobs import Job
from zoom_sam.zoom.scopes import RECLAIM, describe_missing, missing_by_process

log = logging.getLogger(__name__)

STATES = (CLOSED_COMPLETE, CLOSED_SKIPPED, CLOSED_CANCELED, ATTENTION_REQUIRED)
# Passes over the users a pass left open (a write whose answer was lost, a read that failed)
# before the task gives up and leaves them to Airflow's retry.
SETTLE_ROUNDS = 3


class ReclaimNotApproved(RuntimeError):
    """Approval mode without an explicit Approve from a person: nothing is reclaimed."""


class ReclaimIncomplete(RuntimeError):
    """Some users could not be finished even after settling them again (Zoom stayed unreadable);
    a retry resumes them from the journal."""


@dataclass
class Outcome:
    """What one reclaim run did (or, dry run, would do)."""

    profile_alias: str
    as_of: datetime
    mode: str
    results: list[Result] = field(default_factory=list)
    excluded: list[tuple[Candidate, str]] = field(default_factory=list)
    guard: guards.GuardVerdict | None = None
    api: dict[str, Any] = field(default_factory=dict)
    minimal: dict[str, int] = field(default_factory=dict)   # the calls acting needs (``budget``)

    @property
    def dry_run(self) -> bool:
        return self.mode == "dry_run"

    @property
    def reclaimed(self) -> list[Candidate]:
        return [r.candidate for r in self.results if r.reclaimed]

    @property
    def unresolved(self) -> list[Result]:
        """Candidates left open: a write without a known outcome, or a user that failed."""
        return [r for r in self.results if r.state is None]

    def counts(self) -> dict[str, int]:
        states = Counter(r.state or "open" for r in self.results)
        return {
            "selected": len(self.results) + len(self.excluded),
            "excluded_now": len(self.excluded),
            **{s: states.get(s, 0) for s in (*STATES, "open")},
            "writes": sum(len(r.actions) for r in self.results if not self.dry_run),
            "errors": sum(1 for r in self.results if r.awaiting == "error"),
        }

    def summary(self) -> dict[str, Any]:
        """Small and JSON-ready: the task's XCom and the job_result counts."""
        savings = {m: {"subscriptions": n, "saving": float(s), "currency": cur}
                   for m, n, s, cur in report.per_model(self.reclaimed)}
        return {"profile_alias": self.profile_alias, "as_of": self.as_of.isoformat(), "mode": self.mode,
                "dry_run": self.dry_run, **self.counts(), "savings": savings,
                "guard_exceeded": bool(self.guard and self.guard.exceeded)}

    def render(self) -> str:
        """The report of the run for the task log (Markdown)."""
        verb = "would reclaim" if self.dry_run else "reclaimed"
        parts = [f"Reclaim of {self.profile_alias} as of {self.as_of:%Y-%m-%d %H:%M}Z, mode {self.mode}: "
                 f"{verb} {len(self.reclaimed)} of {len(self.results)} candidate(s)"
                 + (" -- DRY RUN, nothing was sent to Zoom. Planned from this run's download without reading Zoom: "
                    "a real run re-checks each user live first (hosting since the as-of, upcoming meetings and "
                    "webinars, the licence as it is then), which may stop some of these" if self.dry_run else "")]
        if self.reclaimed:
            parts.append(report.model_table(self.reclaimed))
        if self.results:
            parts.append(report.results_table(self.results, dry_run=self.dry_run))
        if self.excluded:
            parts.append("Excluded now (closed_skipped" + (" in a real run" if self.dry_run else "") + "): "
                         + ", ".join(f"{c.email} {c.software_model} ({rule})" for c, rule in self.excluded))
        if self.guard and self.guard.exceeded:
            parts.append("GUARD: " + self.guard.message(self.profile_alias))
        return "\n\n".join(parts)


def reclaim(
    engine: Engine,
    profile: Any,
    *,
    as_of: datetime,
    run_id: str,
    client_factory: Callable[[], Any],
    approved: bool = False,
    mode: str | None = None,
    settle_pause: float = SETTLE_PAUSE_SECONDS,
) -> Outcome:
    """Reclaim the profile's open candidates of the reconcile for ``as_of`` in its reclaim mode.

    ``client_factory`` builds the Zoom client, only when a real run has something to check.
    ``mode`` overrides the profile's (``model.run_mode``: a backfill plans as a dry run).
    ``approved`` must be True in approval mode (a person chose Approve). Raises
    :class:`~zoom_sam.reclaim.guards.GuardExceeded`, :class:`ReclaimNotApproved` (nothing done)
    or :class:`ReclaimIncomplete` (after recording everything that did complete).
    """
    mode = mode or profile.reclaim.mode
    if mode not in MODES:
        raise ValueError(f"reclaim mode {mode!r} is not one of {', '.join(MODES)}")
    alias = profile.alias
    outcome = Outcome(alias, as_of, mode)
    selection = apply_exclusions(load_candidates(engine, alias, as_of), profile.exclusions)
    outcome.excluded = list(selection.excluded)
    outcome.guard = guards.evaluate(
        [c for c in selection.eligible if would_write(c, profile.rules)], guards.assigned_seats(engine, alias),
        max_per_run=profile.reclaim.max_per_run, max_fraction=profile.reclaim.max_fraction,
    )
    if outcome.guard.exceeded and not outcome.dry_run:
        raise guards.GuardExceeded(outcome.guard.message(alias))
    if mode == "approval" and not approved:
        raise ReclaimNotApproved(
            f"reclaim of {alias} as of {as_of:%Y-%m-%d}: no Approve from a person; nothing was reclaimed and the "
            "candidates stay open")
    journal = Journal(engine, alias, run_id)
    if not outcome.dry_run:
        for cand, rule in selection.excluded:
            journal.close(cand, CLOSED_SKIPPED, f"excluded at reclaim time by {rule}")
    if selection.eligible:
        downloaded = load_downloaded(engine, alias, as_of)
        if outcome.dry_run:
            outcome.results = plan_dry_run(journal, profile, selection.eligible, downloaded)
        else:
            with client_factory() as client:
                _reclaim_users(client, journal, profile, selection.eligible, downloaded, outcome, settle_pause)
                outcome.api = client.stats()
    if not outcome.dry_run and outcome.reclaimed:
        # The reclaimed subscriptions ended: the as-of's verdicts and position are recomputed from
        # the warehouse as it is now, exactly what a re-run of this date's reconcile will find.
        with engine.connect() as conn:
            rules = Rules.recorded(conn, alias)
        reconcile.run(RunContext(profile=profile, warehouse=engine, as_of=as_of, run_id=run_id, job=Job(),
                                 rules=rules), GivenZoom())
    log.info("%s", outcome.render())
    if outcome.unresolved:
        raise ReclaimIncomplete(
            f"{len(outcome.unresolved)} candidate(s) could not be finished; everything else is recorded. A retry "
            "resumes from the journal, reading each user's state first and never re-sending blindly: "
            + "; ".join(f"{r.candidate.email} {r.candidate.software_model}: {r.detail}" for r in outcome.unresolved[:10]))
    return outcome


def _reclaim_users(client: Any, journal: Journal, profile: Any, eligible: tuple[Candidate, ...],
                   downloaded: Downloaded, outcome: Outcome, settle_pause: float) -> None:
    missing = missing_by_process(client.granted_scopes)
    if RECLAIM in missing:
        raise PermissionError(
            f"reclaim of {profile.alias} cannot write to Zoom: {describe_missing({RECLAIM: missing[RECLAIM]})}; "
            "add them to the Zoom app (nothing was changed)")
    records = UserRecords(client)
    outcome.minimal = minimal_calls(eligible, downloaded, per_user=records.per_user, rules=profile.rules,
                                    page_size=client.config.page_size)
    statuses = ["active"] + (["pending"] if any(c.is_pending for c in eligible) else [])
    worker = UserReclaim(client, journal, records, settle_pause=settle_pause,
                         excluded_identifiers=profile.exclusions.identifiers, rules=profile.rules)
    units = [list(group) for _, group in groupby(eligible, key=lambda c: c.user_id)]
    by_user = {unit[0].user_id: unit for unit in units}
    # The first round starts on each user as soon as the listing shows its record (or ends without
    # it), so the listing's sequential pages overlap the re-checks instead of preceding them.
    todo: Any = (by_user[key] for key in records.stream(by_user, statuses))
    users = len(units)
    results: dict[int, Result] = {}
    for round_ in range(1, SETTLE_ROUNDS + 1):
        for done, (_, unit_results) in enumerate(client.map_concurrent(worker, todo), start=1):
            results.update((r.candidate.candidate_id, r) for r in unit_results)
            if done % 100 == 0:
                log.info("reclaim: %d of %d users done", done, users)
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
