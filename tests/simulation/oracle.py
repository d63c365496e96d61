"""Whether each write Zoom received was right, judged from the ledger alone (never zoom-sam's code).

A subscription (a holding of the ledger) is *eligible* for removal by the run with as-of ``A`` at
the moment of a write when all of these hold (docs/reconcile.md and docs/reclaim.md):

* it is held at that moment by the key the write names (a pending invitation by its email);
* it is a modelled subscription (the seat, ``webinar:<C>``, ``large_meeting:<C>``) and its
  threshold ``T`` is its rule's (first matching fnmatch pattern; 60 days without one);
* the user is not excluded (email, user_id, dept, group_id, role_id patterns as the profile has
  them now) and the identifier is not excluded;
* a pending invitation's seat only when its rule sets ``disassociate_pending_invitations``;
* a seat only when every add-on on it (webinar, large meeting, Zoom Events: a downgrade takes
  them along) is eligible itself: a seat is kept by an add-on that is excluded, unmodelled,
  assigned too recently or in use;
* its clock started at least ``T`` days before ``A``: clock start = latest of the analysed history
  start, the user's creation (or invitation), and, for a holding first seen after the profile's
  first snapshot, the as-of of the first run whose download saw it. This also makes an account
  younger than ``T`` never eligible, and a holding no download has seen yet never eligible;
* no instance of the kind that counts for its model (seat: meetings and webinars; webinar add-on:
  webinars; large-meeting add-on: meetings) starts after ``A - T``: not in the threshold window
  before the as-of (exactly ``T`` days before is outside it), not since the as-of (a meeting that
  started before the as-of and ends after it included), and none scheduled to come.

Writes are right when:

* ``PATCH /users/{id} {"type": 1}``: the user is active and its seat is eligible;
* ``PATCH /users/{id}/settings {"feature": {<flag>: false}}`` (webinar, large_meeting): the user
  holds the add-on and it is eligible (on its own, or as part of an eligible seat, which implies
  it);
* ``DELETE /users/{email}?action=disassociate``: the user is still a pending invitation and its
  seat is eligible;
* and the run respects the blast-radius guards: counting, as docs/reclaim.md does, users whose licensing
  changes (``max_per_run``) and every subscription removed per model over the model's assigned
  subscriptions at the download (``max_fraction``), add-ons removed with their seat included. A run
  whose eligible plan at the download already exceeds a guard must write nothing; a run whose
  writes exceed one is wrong whatever the plan said.

Anything else sent to Zoom's write endpoints is wrong.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from urllib.parse import unquote

from tests.simulation.ledger import SEAT, Holding, Ledger

DEFAULT_THRESHOLD = 60
REMOVABLE = ("webinar", "large_meeting")
SEAT_ADDONS = ("webinar", "large_meeting", "zoom_events")  # add-ons a downgrade to Basic takes along
WRITES = ("PATCH", "POST", "PUT", "DELETE")


@dataclass(frozen=True)
class Rule:
    model: str | None
    threshold_days: int
    disassociate: bool


@dataclass(frozen=True)
class Verdict:
    ok: bool
    why: str


@dataclass(frozen=True)
class Write:
    method: str
    path: str
    status: int | None
    email: str | None
    what: str          # downgrade | remove_<flag> | disassociate | other
    verdict: Verdict

    def describe(self) -> str:
        return f"{self.method} {self.path} ({self.email}, HTTP {self.status}): {self.verdict.why}"


def model_of(identifier: str) -> str | None:
    if identifier == SEAT:
        return "zoom_meetings_licensed"
    kind, _, capacity = identifier.partition(":")
    if kind in REMOVABLE and capacity:
        return f"zoom_{kind}_{capacity}"
    return None


def counted_kinds(identifier: str) -> tuple[bool, ...]:
    """Which instances count as use: (True,) webinars, (False,) meetings, or both."""
    if identifier.startswith("webinar:"):
        return (True,)
    if identifier.startswith("large_meeting:"):
        return (False,)
    return (False, True)


class Oracle:
    def __init__(self, ledger: Ledger, profile) -> None:
        self.ledger = ledger
        self.profile = profile

    # ------------------------------------------------------------------ the profile's rules

    def rule(self, identifier: str) -> Rule:
        model = model_of(identifier)
        if model is None:
            return Rule(None, DEFAULT_THRESHOLD, False)
        for rule in self.profile.rules:
            if fnmatchcase(model, rule.software_model):
                return Rule(model, rule.last_activity_threshold_days, rule.disassociate_pending_invitations)
        return Rule(model, DEFAULT_THRESHOLD, False)

    def user_excluded(self, email: str) -> bool:
        user = self.ledger.users[email]
        for rule in self.profile.exclusions.users:
            values = {"email": [email], "user_id": [user.key], "dept": [user.dept], "role_id": [user.role_id],
                      "group_id": list(user.group_ids)}[rule.field]
            pattern = rule.pattern.lower() if rule.field == "email" else rule.pattern
            if any(v and fnmatchcase(v, pattern) for v in values):
                return True
        return False

    def identifier_excluded(self, identifier: str) -> bool:
        return any(fnmatchcase(identifier, p) for p in self.profile.exclusions.identifiers)

    # ------------------------------------------------------------------ eligibility

    def eligible(self, holding: Holding | None, as_of: datetime) -> Verdict:
        """Whether ``holding`` may be removed by the run of ``as_of``, with the ledger as it is now."""
        if holding is None or holding.end is not None:
            return Verdict(False, "not held")
        user = self.ledger.users[holding.email]
        rule = self.rule(holding.identifier)
        if rule.model is None:
            return Verdict(False, f"{holding.identifier} is not a modelled subscription")
        if self.user_excluded(holding.email):
            return Verdict(False, "user excluded")
        if self.identifier_excluded(holding.identifier):
            return Verdict(False, "identifier excluded")
        if holding.identifier == SEAT:
            if user.status == "pending" and not rule.disassociate:
                return Verdict(False, "pending invitation without disassociate_pending_invitations")
            for addon in self.ledger.held_by(holding.email):
                if addon.addon in SEAT_ADDONS and not (kept := self.eligible(addon, as_of)).ok:
                    return Verdict(False, f"kept by its add-on {addon.identifier}: {kept.why}")
        window_start = as_of - timedelta(days=rule.threshold_days)
        clock = self.ledger.clock_start(holding)
        if clock is None:
            return Verdict(False, "no download has seen it yet")
        if clock > window_start:
            return Verdict(False, f"clock started {clock:%Y-%m-%d %H:%M}, less than {rule.threshold_days} days before")
        kinds = counted_kinds(holding.identifier)
        used = [i for i in self.ledger.instances(holding.email) if i.webinar in kinds and i.start > window_start]
        if used:
            first = min(used, key=lambda i: i.start)
            return Verdict(False, f"{'webinar' if first.webinar else 'meeting'} {first.start:%Y-%m-%d %H:%M}-"
                                  f"{first.end:%H:%M} within {rule.threshold_days} days of the as-of or later")
        return Verdict(True, f"idle since {clock:%Y-%m-%d} or earlier, threshold {rule.threshold_days} days")

    def plan(self, as_of: datetime) -> list[Holding]:
        """Every holding eligible now for the run of ``as_of``."""
        return [h for h in list(self.ledger.open.values()) if self.eligible(h, as_of).ok]

    # ------------------------------------------------------------------ guards

    def removals(self, plan: Iterable[Holding]) -> tuple[set[str], Counter]:
        """(users whose licensing changes, subscriptions removed per model) if ``plan`` is reclaimed:
        a seat takes the modelled add-ons its user holds along."""
        plan = list(plan)
        removed = {(h.email, h.identifier) for h in plan}
        for h in plan:
            if h.identifier == SEAT:
                removed |= {(a.email, a.identifier) for a in self.ledger.held_by(h.email) if a.addon}
        per_model = Counter(m for _, i in removed if (m := model_of(i)) is not None)
        return {e for e, _ in removed}, per_model

    def assigned(self, as_of: datetime) -> Counter:
        return Counter(m for _, i in self.ledger.snapshots[as_of] if (m := model_of(i)) is not None)

    def guard_breach(self, users: set[str], per_model: Counter, as_of: datetime, reclaim) -> str | None:
        if len(users) > reclaim.max_per_run:
            return f"{len(users)} users > max_per_run {reclaim.max_per_run}"
        assigned = self.assigned(as_of)
        for model, n in sorted(per_model.items()):
            if n / max(n, assigned.get(model, 0)) > reclaim.max_fraction:
                return f"{model}: {n} of {assigned.get(model, 0)} > max_fraction {reclaim.max_fraction:g}"
        return None

    # ------------------------------------------------------------------ writes

    def judge(self, records: Sequence, as_of: datetime, plan_breach: str | None) -> list[Write]:
        """Judge a run's writes (request log records) against the ledger as it was before them."""
        writes = [self._judge_one(r, as_of) for r in records if r.method in WRITES and r.path.startswith("/v2/")]
        removed: set[tuple[str, str]] = set()
        for w in writes:
            if w.what in ("downgrade", "disassociate"):
                removed |= {(w.email, h.identifier) for h in self.ledger.held_by(w.email)}
            elif w.what.startswith("remove_") and (addon := self._addon(w.email, w.what.removeprefix("remove_"))):
                removed.add((w.email, addon.identifier))
        users = {w.email for w in writes if w.email}
        per_model = Counter(m for _, i in removed if (m := model_of(i)) is not None)
        breach = plan_breach or self.guard_breach(users, per_model, as_of, self.profile.reclaim)
        if breach:
            return [Write(w.method, w.path, w.status, w.email, w.what, Verdict(False, f"guard: {breach}"))
                    for w in writes]
        return writes

    def _judge_one(self, record, as_of: datetime) -> Write:
        parts = record.path.split("/")  # ['', 'v2', 'users', ref, ('settings')]
        ref = unquote(parts[3]) if len(parts) > 3 and parts[2] == "users" else ""
        email = self.ledger.email_of(ref) if ref else None
        body = json.loads(record.body) if record.body else {}

        def write(what: str, verdict: Verdict) -> Write:
            return Write(record.method, record.path, record.status, email, what, verdict)

        if email is None or email not in self.ledger.users:
            return write("other", Verdict(False, f"names no user the account ever had ({ref!r})"))
        user = self.ledger.users[email]
        seat = self.ledger.holding(email, SEAT)
        if record.method == "PATCH" and len(parts) == 4:
            if body != {"type": 1}:
                return write("other", Verdict(False, f"unexpected body {body}"))
            if user.status != "active" or seat is None or seat.key != ref:
                return write("downgrade", Verdict(False, f"user is {user.status}, seat held: {seat is not None}"))
            return write("downgrade", self.eligible(seat, as_of))
        if record.method == "PATCH" and len(parts) == 5 and parts[4] == "settings":
            feature = body.get("feature") if set(body) == {"feature"} else None
            if not isinstance(feature, dict) or len(feature) != 1 or list(feature.values()) != [False] \
                    or next(iter(feature)) not in REMOVABLE:
                return write("other", Verdict(False, f"unexpected settings body {body}"))
            flag = next(iter(feature))
            addon = self._addon(email, flag)
            if addon is None:
                return write(f"remove_{flag}", Verdict(False, f"{flag} not held"))
            own = self.eligible(addon, as_of)
            if own.ok:
                return write(f"remove_{flag}", own)
            with_seat = self.eligible(seat, as_of)
            if with_seat.ok:
                return write(f"remove_{flag}", Verdict(True, f"with the eligible seat ({own.why})"))
            return write(f"remove_{flag}", Verdict(False, f"add-on: {own.why}; seat: {with_seat.why}"))
        disassociate = record.query.get("action", "disassociate") == "disassociate"
        if record.method == "DELETE" and len(parts) == 4 and disassociate:
            if user.status != "pending" or seat is None or seat.key != ref.lower():
                return write("disassociate", Verdict(False, f"disassociates a user who is {user.status}"))
            return write("disassociate", self.eligible(seat, as_of))
        return write("other", Verdict(False, "not a reclaim write"))

    def _addon(self, email: str, flag: str) -> Holding | None:
        return next((h for h in self.ledger.held_by(email) if h.addon == flag), None)
