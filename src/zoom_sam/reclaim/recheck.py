"""The check against Zoom right before a reclaim: is the subscription still held and still unused?

The warehouse is as of last night; people host meetings, accept invitations and admins change
licences in between. A write happens only if Zoom says, now, what the plan assumed. Each of a
user's candidates is checked with the seven default scopes only:

* the user is in the state the candidate was made for: still a pending invitation for one, still
  active for a seat or add-on (an invitation accepted since is a person now): the user record;
* the user still holds the subscription, with the same capacity: ``GET /users/{id}/settings``;
* no hosting since the analysed window ended (the run's as-of) up to now: previous meetings for
  the seat and the large-meeting add-on, webinars for the seat and the webinar add-on (hosting is
  what counts). A meeting that started before the as-of and ended after it was not over when the
  activity was pulled, so it is hosting too; the date parameters are padded for every timezone;
* no upcoming scheduled meeting or webinar (Zoom's upcoming listing includes the live ones);
* last, for a seat: every add-on that needs the seat and that the user holds now is going in this
  run too. Downgrading the seat would take it along, so a seat whose add-on is kept (excluded,
  assigned since the reconcile, not idle, or skipped just now) is kept as well.

A failed check closes the candidate as ``closed_canceled`` (it was used) or ``closed_skipped``
(gone, changed, upcoming event, add-on kept, invitation not opted in) with the reason. The reads
stop as soon as every candidate of the user is decided, and are shared between a user's seat and
add-ons.

A dry run writes nothing, so nothing it read from Zoom would be fresh at a write: it applies the
rules the warehouse can decide (:func:`check_downloaded`) to the state the run's download read,
and leaves the reads to the real run, which makes them right before its writes.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from zoom_sam.activity.occurrences import running_after
from zoom_sam.activity.window import query_dates
from zoom_sam.licensing import Held, held_subscriptions, identifier_exclusion, needs_seat
from zoom_sam.reclaim.model import Candidate
from zoom_sam.rules import Rules
from zoom_sam.vocabulary import CandidateState, EventType, UserStatus
from zoom_sam.zoom.errors import ZoomNotFound

if TYPE_CHECKING:
    from zoom_sam.zoom.client import ZoomClient


@dataclass(frozen=True)
class Verdict:
    state: CandidateState   # closed_skipped or closed_canceled
    reason: str


@dataclass
class UserCheck:
    """The outcome of re-checking one user's candidates."""

    verdicts: dict[int, Verdict] = field(default_factory=dict)  # candidate_id -> why it stops here
    held: list[Held] = field(default_factory=list)             # what the user holds now
    # (event type, listing item) of the hosting or the scheduled event that stopped a candidate:
    # recorded as activity (seen_use.py), because the pull may never list it (see there).
    seen: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def go(self, cands: Iterable[Candidate]) -> list[Candidate]:
        """The candidates that passed every check."""
        return [c for c in cands if c.candidate_id not in self.verdicts]

    def stop(self, which: Iterable[Candidate], state: CandidateState, reason: str) -> None:
        for c in which:
            self.verdicts.setdefault(c.candidate_id, Verdict(state, reason))

    def left(self, cands: Iterable[Candidate], pred=lambda c: True) -> list[Candidate]:
        return [c for c in self.go(cands) if pred(c)]


def check_user(
    client: ZoomClient,
    cands: Sequence[Candidate],
    record: dict[str, Any] | None,
    *,
    excluded_identifiers: Sequence[str],
    rules: Rules,
) -> UserCheck:
    """Re-check one user's candidates (all of the same user) against Zoom."""
    out = UserCheck()
    if not _user_as_planned(out, cands, record):
        return out
    status = record.get("status")
    settings = None
    if status == UserStatus.ACTIVE:
        try:
            settings = client.get_user_settings(cands[0].user_id)
        except ZoomNotFound:
            out.stop(cands, CandidateState.CLOSED_SKIPPED, "gone: Zoom answers 1001 (user does not exist)")
            return out
    _holdings_as_planned(out, cands, held_subscriptions(record, settings), rules)
    if status == UserStatus.PENDING:  # an invitation cannot host: nothing more to check
        return out

    uid = cands[0].user_id
    as_of = cands[0].evaluated_as_of
    since, _ = query_dates(as_of)
    uses_meetings = out.left(cands, lambda c: c.is_seat or c.addon == "large_meeting")
    if uses_meetings:
        # Previous and upcoming meetings go out together: a re-check that passes needs both, and
        # one after the other they are two turns in the rate limiter's queue on the user's way to
        # its write. The upcoming read is in vain only when the user hosted since the as-of.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="zoom-sam-upcoming") as beside:
            upcoming_read = beside.submit(lambda: _first(client.list_meetings(uid, type="upcoming")))
            hosted = _first(m for m in client.list_meetings(uid, type="previous_meetings", from_=since)
                            if running_after(m, as_of))
            if hosted:
                out.seen.append((EventType.MEETING_HOSTED, hosted))
                out.stop(uses_meetings, CandidateState.CLOSED_CANCELED,
                         f"activity: hosted meeting {_describe(hosted)}, running after the analysed window ended "
                         f"{as_of:%Y-%m-%d %H:%M}Z")
            elif upcoming := upcoming_read.result():
                out.seen.append((EventType.MEETING_HOSTED, upcoming))
                out.stop(uses_meetings, CandidateState.CLOSED_SKIPPED, f"upcoming meeting {_describe(upcoming)}")

    uses_webinars = out.left(cands, lambda c: c.is_seat or c.addon == "webinar")
    if uses_webinars and (settings or {}).get("feature", {}).get("webinar"):
        since_as_of = [w for w in client.list_webinars(uid) if running_after(w, as_of)]
        if since_as_of:
            upcoming = {w.get("uuid") for w in client.list_webinars(uid, type="upcoming")}
            hosted = [w for w in since_as_of if w.get("uuid") not in upcoming]
            if hosted:
                out.seen.append((EventType.WEBINAR_HOSTED, hosted[0]))
                out.stop(uses_webinars, CandidateState.CLOSED_CANCELED,
                         f"activity: hosted webinar {_describe(hosted[0])}, running after the analysed window ended "
                         f"{as_of:%Y-%m-%d %H:%M}Z")
            else:
                out.seen.append((EventType.WEBINAR_HOSTED, since_as_of[0]))
                out.stop(uses_webinars, CandidateState.CLOSED_SKIPPED,
                         f"upcoming webinar {_describe(since_as_of[0])}")

    _keep_seat_for_its_addons(out, cands, excluded_identifiers)
    return out


def check_downloaded(
    cands: Sequence[Candidate],
    record: dict[str, Any] | None,
    held: Sequence[Held],
    *,
    excluded_identifiers: Sequence[str],
    rules: Rules,
) -> UserCheck:
    """The rules of :func:`check_user` that the warehouse can decide, on the state this run's
    download read (``record``: the user's status; ``held``: its active subscriptions), with no
    call to Zoom: what a dry run reports. Left to the live re-check of a real run, right before
    its writes: hosting since the as-of, upcoming meetings and webinars, changes since the download.
    """
    out = UserCheck()
    if _user_as_planned(out, cands, record):
        _holdings_as_planned(out, cands, held, rules)
        _keep_seat_for_its_addons(out, cands, excluded_identifiers)
    return out


def _user_as_planned(out: UserCheck, cands: Sequence[Candidate], record: dict[str, Any] | None) -> bool:
    """Still in the state each candidate was made for; False when none is left to check."""
    if record is None:
        out.stop(cands, CandidateState.CLOSED_SKIPPED, "gone: no longer listed as an active user or pending "
                 "invitation (deleted, deactivated, or the invitation was accepted)")
        return False
    status = record.get("status")
    for c in cands:
        wanted = UserStatus.PENDING if c.is_pending else UserStatus.ACTIVE
        if status != wanted:
            what = "the invitation was accepted or replaced" if c.is_pending else "it holds nothing to reclaim"
            out.stop([c], CandidateState.CLOSED_SKIPPED,
                     f"changed: the user was {wanted} at reconcile and is {status} now ({what})")
    return bool(out.left(cands))


def _holdings_as_planned(out: UserCheck, cands: Sequence[Candidate], held: Sequence[Held],
                         rules: Rules) -> None:
    """Still held, removable, and (a pending invitation) its rule opts in to removing it."""
    out.held = list(held)
    held_ids = {h.identifier for h in out.held}
    for c in cands:
        if c.identifier not in held_ids:
            now_held = ", ".join(sorted(held_ids)) or "nothing paid"
            out.stop([c], CandidateState.CLOSED_SKIPPED,
                     f"changed: no longer holds {c.identifier} (holds {now_held})")
        elif not c.is_seat and c.addon is None:
            out.stop([c], CandidateState.CLOSED_SKIPPED,
                     f"not reclaimable: zoom-sam has no removal for {c.identifier}")

    for c in out.left(cands, lambda c: c.is_seat and c.is_pending):
        if not rules.for_model(c.software_model).disassociate_pending_invitations:
            out.stop([c], CandidateState.CLOSED_SKIPPED,
                     "pending invitation: its rule does not set disassociate_pending_invitations")


def _keep_seat_for_its_addons(out: UserCheck, cands: Sequence[Candidate], excluded_identifiers: Sequence[str]) -> None:
    """Stop the seat when an add-on that needs it is held and not reclaimed with it in this run."""
    going = {c.identifier for c in out.go(cands)}
    seat = next((c for c in cands if c.is_seat and c.identifier in going), None)
    if seat is None or seat.is_pending:
        return
    kept = [h.identifier for h in out.held if h.identifier != seat.identifier and needs_seat(h.identifier)
            and h.identifier not in going]
    if kept:
        why = ", ".join(f"{i} (excluded by {rule})" if (rule := identifier_exclusion(i, excluded_identifiers))
                        else i for i in kept)
        out.stop([seat], CandidateState.CLOSED_SKIPPED, f"add-on kept: the seat carries {why}, which is not being "
                 "reclaimed in this run; downgrading the seat would remove it too")


def _first(items: Iterator[dict[str, Any]]) -> dict[str, Any] | None:
    return next(iter(items), None)


def _describe(item: dict[str, Any]) -> str:
    return f"{item.get('id')} '{item.get('topic', '')}' at {item.get('start_time')}"
