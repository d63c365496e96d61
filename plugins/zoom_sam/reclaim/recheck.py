"""The check against Zoom right before a reclaim: is the subscription still held and still unused?

The warehouse is as of last night; people host meetings and admins change licences in between.
Each of a user's candidates is checked with the seven default scopes only:

* the user still exists and is active (or still a pending invitation): the user record;
* the user still holds the subscription, with the same capacity: ``GET /users/{id}/settings``;
  the same read tells which add-ons must go before the seat;
* no hosting since the analysed window (the run's as-of) up to now: previous meetings from the
  as-of for the seat and the large-meeting add-on, webinars for the seat and the webinar add-on
  (hosting is what counts, DESIGN.md);
* no upcoming scheduled meeting or webinar.

A failed check closes the candidate as ``closed_canceled`` (it was used) or ``closed_skipped``
(gone, changed, upcoming event, excluded add-on, invitation not opted in) with the reason. The
reads stop as soon as every candidate of the user is decided, and are shared between a user's
seat and add-ons.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from zoom_sam.licensing import Held, held_subscriptions, identifier_exclusion, threshold_for
from zoom_sam.reclaim.model import CLOSED_CANCELED, CLOSED_SKIPPED, Candidate
from zoom_sam.zoom.errors import ZoomNotFound


@dataclass(frozen=True)
class Verdict:
    state: str   # CLOSED_SKIPPED or CLOSED_CANCELED
    reason: str


@dataclass
class UserCheck:
    """The outcome of re-checking one user's candidates."""

    verdicts: dict[int, Verdict] = field(default_factory=dict)  # candidate_id -> why it stops here
    held: list[Held] = field(default_factory=list)             # what the user holds now

    def go(self, cands: Iterable[Candidate]) -> list[Candidate]:
        """The candidates that passed every check."""
        return [c for c in cands if c.candidate_id not in self.verdicts]

    def held_addons(self) -> list[str]:
        return [h.identifier.split(":", 1)[0] for h in self.held if h.identifier != "user_type:2"]


def check_user(
    client: Any,
    cands: Sequence[Candidate],
    record: dict[str, Any] | None,
    *,
    excluded_identifiers: Sequence[str],
    rules: Sequence[Any],
) -> UserCheck:
    """Re-check one user's candidates (all of the same user) against Zoom."""
    out = UserCheck()

    def stop(which: Iterable[Candidate], state: str, reason: str) -> None:
        for c in which:
            out.verdicts.setdefault(c.candidate_id, Verdict(state, reason))

    def left(pred=lambda c: True) -> list[Candidate]:
        return [c for c in out.go(cands) if pred(c)]

    if record is None:
        stop(cands, CLOSED_SKIPPED, "gone: no longer listed as an active user or pending invitation "
                                    "(deleted, deactivated, or the invitation was accepted)")
        return out
    status = record.get("status")
    if status not in ("active", "pending"):
        stop(cands, CLOSED_SKIPPED, f"changed: the user is {status} now and holds no subscription")
        return out

    settings = None
    if status == "active":
        try:
            settings = client.get_user_settings(cands[0].user_id)
        except ZoomNotFound:
            stop(cands, CLOSED_SKIPPED, "gone: Zoom answers 1001 (user does not exist)")
            return out
    out.held = held_subscriptions(record, settings)
    held_ids = {h.identifier for h in out.held}
    for c in cands:
        if c.identifier not in held_ids:
            now_held = ", ".join(sorted(held_ids)) or "nothing paid"
            stop([c], CLOSED_SKIPPED, f"changed: no longer holds {c.identifier} (holds {now_held})")
        elif not c.is_seat and c.addon is None:
            stop([c], CLOSED_SKIPPED, f"not reclaimable: zoom-sam has no removal for {c.identifier}")

    for c in left(lambda c: c.is_seat):
        protected = [h.identifier for h in out.held if identifier_exclusion(h.identifier, excluded_identifiers)]
        if protected:
            stop([c], CLOSED_SKIPPED, f"excluded add-on: the seat carries {', '.join(protected)}, "
                                      "which the exclusions keep")
        elif c.is_pending and not threshold_for(c.software_model, rules).disassociate_pending_invitations:
            stop([c], CLOSED_SKIPPED, "pending invitation: its rule does not set disassociate_pending_invitations")
    if status == "pending":  # an invitation cannot host: nothing more to check
        return out

    uid = cands[0].user_id
    as_of = cands[0].evaluated_as_of
    uses_meetings = left(lambda c: c.is_seat or c.addon == "large_meeting")
    if uses_meetings:
        hosted = _first(m for m in client.list_meetings(uid, type="previous_meetings", from_=as_of)
                        if _start(m) >= as_of)
        if hosted:
            stop(uses_meetings, CLOSED_CANCELED, f"activity: hosted meeting {_describe(hosted)} after the analysed "
                                                 f"window ended {as_of:%Y-%m-%d %H:%M}Z")
        else:
            upcoming = _first(client.list_meetings(uid, type="upcoming"))
            if upcoming:
                stop(uses_meetings, CLOSED_SKIPPED, f"upcoming meeting {_describe(upcoming)}")

    uses_webinars = left(lambda c: c.is_seat or c.addon == "webinar")
    if uses_webinars and (settings or {}).get("feature", {}).get("webinar"):
        since = [w for w in client.list_webinars(uid) if _start(w) >= as_of]
        if since:
            upcoming = {w.get("uuid") for w in client.list_webinars(uid, type="upcoming")}
            hosted = [w for w in since if w.get("uuid") not in upcoming]
            if hosted:
                stop(uses_webinars, CLOSED_CANCELED, f"activity: hosted webinar {_describe(hosted[0])} after the "
                                                     f"analysed window ended {as_of:%Y-%m-%d %H:%M}Z")
            else:
                stop(uses_webinars, CLOSED_SKIPPED, f"upcoming webinar {_describe(since[0])}")
    return out


def _first(items: Iterator[dict[str, Any]]) -> dict[str, Any] | None:
    return next(iter(items), None)


def _start(item: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(item["start_time"]).replace("Z", "+00:00"))


def _describe(item: dict[str, Any]) -> str:
    return f"{item.get('id')} '{item.get('topic', '')}' at {item.get('start_time')}"
