"""The calls a real reclaim needs: the re-check, the writes and the confirmations of the users it acts on.

Per user acted on, with the seven default scopes (``GET /users/{id}`` adds one Light read before
and one after instead of the listing):

* the record (status, ``type``): one user listing before the writes for the whole run, ``users /
  300`` Medium pages (pending users listed too when an invitation is among the candidates), and
  after them the pages on which that listing showed the seats to confirm (only known once the
  listing has run, so :func:`minimal_calls` leaves them out and the run adds them), or the whole
  listing again when an invitation is removed: its absence is its confirmation, and no single
  page shows that (:func:`confirmed_by_listing`);
* an active user: its settings (Medium); previous and upcoming meetings (2 Medium) when the seat
  or the large-meeting add-on goes; the webinar listing (Medium) when the seat or the webinar
  add-on goes and the user holds the add-on;
* the writes: ``PATCH settings`` per add-on (Medium), ``PATCH type 1`` or the ``DELETE`` of an
  invitation (Light), then one settings read confirming the add-ons are gone (Medium).

That is the cost when every re-check passes. A re-check that stops early (hosting since the
as-of, an upcoming meeting, a change) reads less and writes nothing, so a real run's calls may
stay under it; the one read beyond it (upcoming webinars, made only when a webinar ran after the
as-of) always ends in no write. A dry run needs none of it: it makes no call.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import groupby

from zoom_sam.reclaim.downloaded import Downloaded
from zoom_sam.reclaim.model import Candidate
from zoom_sam.reclaim.plan import would_write
from zoom_sam.rules import Rules
from zoom_sam.vocabulary import UserStatus
from zoom_sam.zoom.budget import pages


def minimal_calls(eligible: Sequence[Candidate], downloaded: Downloaded, *, per_user: bool,
                  rules: Rules, page_size: int) -> dict[str, int]:
    """Calls per rate-limit category of acting on every user of ``eligible`` (see the module
    docstring), but for the pages read again after the writes."""
    calls: Counter = Counter()
    pending = False
    _, whole = confirmed_by_listing(eligible, rules)
    for user_id, group in groupby(eligible, key=lambda c: c.user_id):
        cands = list(group)
        if per_user:
            calls["Light"] += 1
        if cands[0].is_pending:
            pending = True
            calls["Light"] += len(_seat_writes(cands, rules)) * (1 + per_user)
            continue
        addons = [c for c in cands if c.addon is not None]
        seat = any(c.is_seat for c in cands)
        calls["Medium"] += 1
        if seat or any(c.addon == "large_meeting" for c in addons):
            calls["Medium"] += 2
        if (seat or any(c.addon == "webinar" for c in addons)) and downloaded.holds(user_id, "webinar"):
            calls["Medium"] += 1
        calls["Medium"] += len(addons) + (1 if addons else 0)
        if seat:
            calls["Light"] += 1 + per_user
    if not per_user and eligible:
        listing = pages(downloaded.users_by_status.get(UserStatus.ACTIVE, 0), page_size)
        if pending:
            listing += pages(downloaded.users_by_status.get(UserStatus.PENDING, 0), page_size)
        calls["Medium"] += listing * (2 if whole else 1)
    return dict(calls)


def confirmed_by_listing(eligible: Sequence[Candidate], rules: Rules) -> tuple[set[str], bool]:
    """The users whose records a run without ``GET /users/{id}`` reads again after its writes (those
    with a seat it would write), and whether it reads the whole listing for them: it does when an
    invitation is removed, else only the pages that showed them."""
    seats = _seat_writes(eligible, rules)
    return {c.user_id for c in seats}, any(c.is_pending for c in seats)


def _seat_writes(cands: Sequence[Candidate], rules: Rules) -> list[Candidate]:
    return [c for c in cands if c.is_seat and would_write(c, rules)]
