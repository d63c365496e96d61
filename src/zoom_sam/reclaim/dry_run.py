"""A dry run: the writes a real run would attempt, planned from the warehouse without a Zoom call.

A dry run writes nothing to Zoom, so nothing it could read would be fresh at the moment of a
write, which is what the live re-check reads exist for. It applies every re-check rule the
warehouse can decide (``recheck.check_downloaded``: still listed in the candidate's state, still
held, removable, a pending invitation's opt-in, a seat kept by its add-ons) to what this run's
download read, and records what a real run would send (``planned`` rows in ``reclaim_action``).
A real run makes its live re-checks first (hosting since the as-of, upcoming meetings and
webinars, the licence as it is then), so it may stop some of these writes; the report says so.
"""
from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from zoom_sam.reclaim.downloaded import Downloaded
from zoom_sam.reclaim.journal import Journal
from zoom_sam.reclaim.model import Action, Candidate, Result
from zoom_sam.reclaim.plan import plan_user
from zoom_sam.reclaim.recheck import check_downloaded
from zoom_sam.rules import Rules
from zoom_sam.vocabulary import CandidateState


def plan_dry_run(journal: Journal, eligible: Sequence[Candidate], downloaded: Downloaded, *,
                 excluded_identifiers: Sequence[str], rules: Rules) -> list[Result]:
    """The result a real run would reach for each candidate if its live re-check finds Zoom unchanged."""
    results: list[Result] = []
    plans: list[tuple[Candidate, list[Action]]] = []
    for user_id, group in groupby(eligible, key=lambda c: c.user_id):
        cands = list(group)
        check = check_downloaded(cands, downloaded.records.get(user_id), downloaded.held.get(user_id, ()),
                                 excluded_identifiers=excluded_identifiers, rules=rules)
        results += [Result(c, verdict.state, verdict.reason) for c in cands
                    if (verdict := check.verdicts.get(c.candidate_id)) is not None]
        go = check.go(cands)
        steps = plan_user(go)
        for c in go:
            actions = [a for owner, a in steps if owner is c]
            plans.append((c, actions))
            calls = "; then ".join(a.call for a in actions)
            results.append(Result(c, CandidateState.CLOSED_COMPLETE,
                                  f"would send {calls} if a real run's live re-check passes", actions))
    journal.planned(plans)
    return results
