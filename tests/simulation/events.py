"""How the simulated account changes from day to day: seeded, through the sandbox's Python API.

Every change is an :class:`Event` at a sandbox time; the driver advances the clock to it, applies
it, and has the ledger read the user again. Three sources of events:

* the day's ordinary life (:meth:`Life.day`): hires, invitations sent and accepted, leavers
  (deleted or deactivated), upgrades and downgrades, webinar and large-meeting add-ons granted and
  removed, transfers into an excluded department, and hosting: people host regularly,
  occasionally or not at all and switch between these (idle for weeks, then hosting again),
  meetings sometimes run across midnight UTC, some are scheduled days ahead; users live in
  timezones from UTC-10 to UTC+12;
* deliberate pressure on tomorrow's removal candidates (:meth:`Life.targeted`): a meeting or
  webinar across the next as-of, a meeting scheduled a few days ahead;
* deliberate changes between a run's download and its reclaim (:meth:`Life.between`): an
  invitation accepted, a meeting or webinar hosted (or still running at reclaim time), an add-on
  granted, all on subscriptions that are removal candidates of that run.

A user gets at most one licence or status change per day, so no change is invisible to the daily
download (a seat the run itself reclaimed and an admin gives back the same day is the deliberate
exception, :meth:`Life.relicense`).
"""
from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tests.simulation.ledger import SEAT, Holding, Ledger

TIMEZONES = ("Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Denver", "America/Chicago",
             "America/New_York", "America/Sao_Paulo", "UTC", "Europe/London", "Europe/Berlin", "Asia/Kolkata",
             "Asia/Singapore", "Asia/Tokyo", "Australia/Brisbane", "Pacific/Tarawa")
DEPTS = ("Engineering", "Sales", "Marketing", "Finance", "Support", "Product", "Legal")
EXCLUDED_DEPT = "Legal"
# Events per 100 users per day.
RATES = {"hire": 2.0, "invite": 1.0, "accept": 0.6, "delete": 0.6, "deactivate": 0.6, "upgrade": 1.5,
         "downgrade": 0.5, "grant_webinar": 1.0, "revoke_webinar": 0.3, "grant_large_meeting": 0.6,
         "revoke_large_meeting": 0.2, "transfer": 0.1}
PRESSURE = 0.3  # the share of tomorrow's (and of this run's) candidates that deliberate events hit
BEHAVIOURS = (("regular", 0.25, 30), ("occasional", 0.04, 30), ("idle", 0.0, 40))  # name, meetings/day, weight
SWITCH = 0.03  # chance per day that a user's hosting habit changes
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str
    email: str
    args: dict = field(default_factory=dict)


class Life:
    """The seeded source of events; it reads the ledger to pick plausible subjects."""

    def __init__(self, seed: int, ledger: Ledger, population: int) -> None:
        self.rng = random.Random(seed)
        self.ledger = ledger
        self.scale = population / 100
        self.habit: dict[str, str] = {}
        self.reserved: dict[str, datetime] = {}     # left alone until then (the guard scenario's users)
        self.no_webinar_grants: set[str] = set()    # users whose generated webinars must stay hidden
        self.hired = 0

    # ------------------------------------------------------------------ helpers

    def _count(self, kind: str) -> int:
        rate = RATES[kind] * self.scale
        return int(rate) + (self.rng.random() < rate - int(rate))

    def _free(self, email: str, as_of: datetime) -> bool:
        return self.reserved.get(email, as_of) <= as_of

    def reserve(self, email: str, until: datetime) -> None:
        """No event touches the user before ``until``: no hosting, no licence change, no pressure."""
        self.reserved[email] = until

    def _users(self, as_of: datetime, *, status: str | None = None, types: Iterable[int] = (1, 2),
               taken: set[str]) -> list[str]:
        return sorted(u.email for u in self.ledger.users.values()
                      if u.exists and u.email not in taken and (status is None or u.status == status)
                      and u.type in types and u.role_id != "0" and not u.refusal and self._free(u.email, as_of))

    def _pick(self, candidates: list[str], taken: set[str]) -> str | None:
        candidates = [c for c in candidates if c not in taken]
        if not candidates:
            return None
        email = self.rng.choice(candidates)
        taken.add(email)
        return email

    def _habit(self, email: str) -> str:
        if email not in self.habit:
            self.habit[email] = self.rng.choices([b[0] for b in BEHAVIOURS], [b[2] for b in BEHAVIOURS])[0]
        elif self.rng.random() < SWITCH:
            self.habit[email] = self.rng.choice([b[0] for b in BEHAVIOURS if b[0] != self.habit[email]])
        return self.habit[email]

    def _holds(self, email: str, addon: str | None) -> bool:
        return any(h.addon == addon for h in self.ledger.held_by(email))

    # ------------------------------------------------------------------ ordinary life

    def day(self, as_of: datetime, taken: set[str]) -> list[Event]:
        """The ordinary events of the day starting at ``as_of`` (after its run), at their times."""
        rng = self.rng
        calendar = as_of + timedelta(hours=2)  # when the day's meetings are put in the calendar

        def at() -> datetime:
            return as_of + timedelta(hours=2, minutes=rng.randrange(5, 21 * 60))

        events: list[Event] = []
        for _ in range(self._count("hire")):
            self.hired += 1
            licensed = rng.random() < 0.6
            service = rng.random() < 0.05
            email = f"{'svc-' if service else ''}hire{self.hired:05d}@sim.example.com"
            features = {}
            if licensed and rng.random() < 0.15:
                features["webinar"] = True
            events.append(Event(at(), "hire", email, {"type": 2 if licensed else 1, "features": features,
                                                      "dept": rng.choice(DEPTS), "timezone": rng.choice(TIMEZONES)}))
        for _ in range(self._count("invite")):
            self.hired += 1
            events.append(Event(at(), "invite", f"invitee{self.hired:05d}@sim.example.com",
                                {"type": 2 if rng.random() < 0.7 else 1, "timezone": rng.choice(TIMEZONES)}))
        simple = (("accept", {"status": "pending"}), ("delete", {"status": "active"}),
                  ("deactivate", {"status": "active"}), ("upgrade", {"status": "active", "types": (1,)}),
                  ("downgrade", {"status": "active", "types": (2,)}), ("transfer", {"status": "active"}))
        for kind, where in simple:
            for _ in range(self._count(kind)):
                email = self._pick(self._users(as_of, taken=taken, **where), taken)
                if email:
                    events.append(Event(at(), kind, email, {"dept": EXCLUDED_DEPT} if kind == "transfer" else {}))
        for addon in ("webinar", "large_meeting"):
            holders = [e for e in self._users(as_of, status="active", types=(2,), taken=taken) if self._holds(e, addon)]
            others = [e for e in self._users(as_of, status="active", types=(2,), taken=taken)
                      if not self._holds(e, addon) and not self._holds(e, "zoom_events")
                      and (addon != "webinar" or e not in self.no_webinar_grants)]
            for _ in range(self._count(f"grant_{addon}")):
                email = self._pick(others, taken)
                if email:
                    capacity = rng.choice((500, 1000))
                    events.append(Event(at(), "grant", email, {"flag": addon, "capacity": capacity}))
            for _ in range(self._count(f"revoke_{addon}")):
                email = self._pick(holders, taken)
                if email:
                    events.append(Event(at(), "revoke", email, {"flag": addon}))
        events += self._hosting(as_of, calendar)
        return sorted(events, key=lambda e: e.at)

    def _hosting(self, as_of: datetime, calendar: datetime) -> list[Event]:
        rng = self.rng
        events = []
        for email in self._users(as_of, status="active", taken=set()):
            rate = dict((b[0], b[1]) for b in BEHAVIOURS)[self._habit(email)]
            if rng.random() < rate:
                start = as_of + timedelta(hours=2, minutes=rng.randrange(10, 22 * 60, 5))
                events.append(Event(calendar, "meeting", email,
                                    {"start": start, "duration": rng.randrange(15, 95, 5), "webinar": False}))
                if rng.random() < 0.1:
                    ahead = start + rng.randrange(2, 11) * DAY
                    events.append(Event(calendar, "meeting", email, {"start": ahead, "duration": 30, "webinar": False}))
            if rate and self._holds(email, "webinar") and rng.random() < 0.08:
                start = as_of + timedelta(hours=rng.randrange(3, 22))
                events.append(Event(calendar, "meeting", email, {"start": start, "duration": 60, "webinar": True}))
        return events

    # ------------------------------------------------------------------ deliberate pressure

    def targeted(self, as_of: datetime, tomorrow: list[Holding]) -> list[Event]:
        """Hosting aimed at subscriptions that would be removal candidates of tomorrow's run."""
        rng = self.rng
        calendar = as_of + timedelta(hours=2)
        targets = [h for h in tomorrow if self.ledger.users[h.email].status == "active"
                   and self._free(h.email, as_of + DAY)]
        events = []
        for holding in [h for h in targets if rng.random() < PRESSURE]:
            webinar = holding.addon == "webinar"
            if rng.random() < 0.7:  # across tomorrow's as-of: live at the download, over by the reclaim
                start = as_of + DAY - timedelta(minutes=rng.randrange(10, 45, 5))
                end = as_of + DAY + timedelta(minutes=rng.randrange(10, 50, 5))
                events.append(Event(calendar, "meeting", holding.email, {
                    "start": start, "duration": int((end - start).total_seconds() // 60), "webinar": webinar}))
            else:  # scheduled a few days ahead: protects the subscription at reclaim time
                start = as_of + rng.randrange(2, 6) * DAY + timedelta(hours=rng.randrange(1, 23))
                events.append(Event(calendar, "meeting", holding.email, {"start": start, "duration": 30,
                                                                         "webinar": webinar}))
        return events

    def between(self, as_of: datetime, candidates: list[Holding], reclaim_at: datetime) -> list[Event]:
        """Changes after the download of the run of ``as_of`` and before its reclaim."""
        rng = self.rng
        events = []
        candidates = [h for h in candidates if self._free(h.email, as_of + DAY)]
        for holding in [h for h in candidates if rng.random() < PRESSURE]:
            user = self.ledger.users[holding.email]
            at = as_of + timedelta(minutes=rng.randrange(10, 30))
            if user.status == "pending":
                events.append(Event(at, "accept", holding.email))
            elif holding.identifier == SEAT and rng.random() < 0.25 and not self._holds(holding.email, "webinar") \
                    and holding.email not in self.no_webinar_grants:
                events.append(Event(at, "grant", holding.email, {"flag": "webinar", "capacity": 500}))
            elif rng.random() < 0.3:  # still running when the reclaim re-checks
                events.append(Event(at, "meeting", holding.email, {
                    "start": at, "duration": int((reclaim_at - at).total_seconds() // 60) + 30,
                    "webinar": holding.addon == "webinar"}))
            else:  # hosted and over before the reclaim
                events.append(Event(at + timedelta(minutes=15), "meeting", holding.email, {
                    "start": at, "duration": 10, "webinar": holding.addon == "webinar"}))
        return sorted(events, key=lambda e: e.at)

    def relicense(self, at: datetime, downgraded: Iterable[str], share: float) -> list[Event]:
        """An admin gives back ``share`` of the seats the run reclaimed, the same day."""
        return [Event(at, "upgrade", email) for email in sorted(downgraded) if self.rng.random() < share]


def apply(event: Event, account) -> dict | None:
    """Make the change in the sandbox; returns the instance of a meeting event. Events whose subject
    changed since they were drawn (deleted earlier that day, say) are dropped."""
    user = account.user(event.email)
    kind, args = event.kind, event.args
    if kind in ("hire", "invite"):
        if user is not None:
            return None
        account.add_user(event.email, type=args["type"], status="active" if kind == "hire" else "pending",
                         created_at=event.at, features=args.get("features"), dept=args.get("dept"),
                         timezone=args["timezone"])
        return None
    if user is None:
        return None
    if kind == "meeting":
        return account.add_meeting(event.email, args["start"], duration=args["duration"], webinar=args["webinar"])
    if kind == "accept" and user["status"] == "pending":
        account.set_status(event.email, "active")
    elif kind == "delete":
        account.delete_user(event.email)
    elif kind == "deactivate" and user["status"] == "active":
        account.set_status(event.email, "inactive")
    elif kind == "upgrade" and user["status"] == "active" and user["type"] != 2:
        account.set_user_type(event.email, 2)
    elif kind == "downgrade" and user["type"] == 2:
        account.set_user_type(event.email, 1)
    elif kind == "transfer":
        account.update_profile(event.email, {"dept": args["dept"]})
    elif kind == "grant" and user["status"] == "active" and user["type"] == 2:
        account.set_feature(event.email, args["flag"], True)
        account.set_feature(event.email, f"{args['flag']}_capacity", args["capacity"])
    elif kind == "revoke":
        account.set_feature(event.email, args["flag"], False)
    return None
