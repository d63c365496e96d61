"""The simulation's ground truth, kept apart from zoom-sam: who held what since when, who hosted when.

Everything here is read from the sandbox's own account (``Account.user`` / ``Account.instances``),
never from the warehouse, and is re-read right after each change the driver or a reclaim makes,
so the time a holding starts or ends is the sandbox time of the change itself.

* A holding is one subscription identifier held by one warehouse key (the Zoom user id, or the
  email while the user is a pending invitation), continuously: a key change (an invitation
  accepted) or a gap ends it and a later grant is a new holding. Identifiers are named as
  src/zoom_sam/licensing.py names them (``user_type:2``, ``webinar:500``, ``large_meeting:1000``, ...).
* ``first_seen`` is the as-of of the first run whose download happened while the holding was held.
* Hosting is every meeting and webinar instance the sandbox shows, kept once seen: the sandbox
  hides a user's webinars while the add-on is not held, but webinars hosted earlier stay hosted
  (scheduled webinars after the add-on ended are dropped: they will not take place).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

SEAT = "user_type:2"
CAPACITY_FLAGS = ("webinar", "large_meeting", "zoom_events")
PLAIN_PAID_FLAGS = ("zoom_phone",)
WEBINAR_TYPES = (5, 6, 9)


def utc(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


def held_identifiers(user: dict) -> set[str]:
    """What a sandbox user (as ``Account.user`` returns it) holds, per the licensing semantics of docs/reconcile.md."""
    if user["type"] != 2 or user["status"] not in ("active", "pending"):
        return set()
    held = {SEAT}
    if user["status"] == "active":
        feature = user["settings"]["feature"]
        for flag in CAPACITY_FLAGS:
            if feature.get(flag) is True:
                capacity = feature.get(f"{flag}_capacity")
                held.add(f"{flag}:{capacity}" if capacity else flag)
        held.update(flag for flag in PLAIN_PAID_FLAGS if feature.get(flag) is True)
    return held


def user_key(user: dict) -> str:
    return user.get("id") or user["email"].lower()


@dataclass
class Holding:
    key: str
    email: str
    identifier: str
    start: datetime
    end: datetime | None = None
    first_seen: datetime | None = None  # as-of of the first run whose download saw it

    @property
    def addon(self) -> str | None:
        return None if self.identifier == SEAT else self.identifier.split(":", 1)[0]


@dataclass(frozen=True)
class Instance:
    uuid: str
    start: datetime
    end: datetime
    webinar: bool


@dataclass
class UserTruth:
    email: str
    key: str
    status: str
    type: int
    created: datetime
    dept: str
    role_id: str
    group_ids: tuple[str, ...]
    timezone: str
    refusal: bool
    exists: bool = True


@dataclass
class Ledger:
    history_start: datetime
    users: dict[str, UserTruth] = field(default_factory=dict)
    holdings: list[Holding] = field(default_factory=list)
    open: dict[tuple[str, str], Holding] = field(default_factory=dict)  # (email, identifier)
    open_by_email: dict[str, dict[str, Holding]] = field(default_factory=dict)  # email -> identifier -> holding
    hosting: dict[str, dict[str, Instance]] = field(default_factory=dict)  # email -> uuid -> instance
    keys: dict[str, str] = field(default_factory=dict)  # every key a user ever had -> email
    first_as_of: datetime | None = None
    snapshots: dict[datetime, set[tuple[str, str]]] = field(default_factory=dict)  # as-of -> (key, identifier)

    # ------------------------------------------------------------------ observing the sandbox

    def sync(self, account, emails: Iterable[str], now: datetime) -> None:
        """Bring the ledger in line with the sandbox for these users, as of sandbox time ``now``."""
        for email in emails:
            email = email.lower()
            user = account.user(email)
            truth = self.users.get(email)
            if user is None:
                if truth is not None:
                    truth.exists = False
                held, key = set(), None
            else:
                key = user_key(user)
                self.keys[key] = email
                self.users[email] = UserTruth(
                    email, key, user["status"], user["type"], utc(user["user_created_at"]), user.get("dept") or "",
                    str(user.get("role_id") or ""), tuple(user.get("group_ids") or ()), user["timezone"],
                    account.refusal(email) is not None)
                held = held_identifiers(user)
            for identifier in sorted(set(self.open_by_email.get(email, ())) | held):  # a stable order, run to run
                current = self.open.get((email, identifier))
                if current is not None and (identifier not in held or current.key != key):
                    self._end(current, now)
                    current = None
                if current is None and identifier in held:
                    holding = Holding(key, email, identifier, now)
                    self.holdings.append(holding)
                    self.open[(email, identifier)] = holding
                    self.open_by_email.setdefault(email, {})[identifier] = holding

    def _end(self, holding: Holding, now: datetime) -> None:
        holding.end = now
        del self.open[(holding.email, holding.identifier)]
        del self.open_by_email[holding.email][holding.identifier]
        if holding.addon == "webinar":  # scheduled webinars go with the add-on
            hosted = self.hosting.get(holding.email, {})
            for uuid in [u for u, i in hosted.items() if i.webinar and i.start > now]:
                del hosted[uuid]

    def observe_hosting(self, account, email: str, start: datetime, end: datetime | None = None) -> None:
        """Record every instance the sandbox shows for the user starting in [start, end)."""
        for kind, webinar in (("meetings", False), ("webinars", True)):
            for item in account.instances(email, start, end, kind=kind):
                self.record_instance(email, item, webinar)

    def record_instance(self, email: str, item: dict, webinar: bool | None = None) -> None:
        start = utc(item["start_time"])
        if webinar is None:
            webinar = item["type"] in WEBINAR_TYPES
        self.hosting.setdefault(email.lower(), {})[item["uuid"]] = Instance(
            item["uuid"], start, start + timedelta(minutes=int(item["duration"])), webinar)

    def downloaded(self, as_of: datetime) -> None:
        """A run's download just read the account: what it should have landed, and first sightings."""
        if self.first_as_of is None:
            self.first_as_of = as_of
        for holding in self.open.values():
            if holding.first_seen is None:
                holding.first_seen = as_of
        self.snapshots[as_of] = {(h.key, h.identifier) for h in self.open.values()}

    # ------------------------------------------------------------------ reading

    def clock_start(self, holding: Holding) -> datetime | None:
        """When the inactivity clock of a holding starts (None: no download has seen it yet)."""
        if holding.first_seen is None:
            return None
        starts = [self.history_start, self.users[holding.email].created]
        if holding.first_seen > self.first_as_of:
            starts.append(holding.first_seen)
        return max(starts)

    def instances(self, email: str) -> list[Instance]:
        return list(self.hosting.get(email, {}).values())

    def email_of(self, ref: str) -> str | None:
        """The user a request path names (an id, or an email)."""
        return ref.lower() if "@" in ref else self.keys.get(ref)

    def holding(self, email: str, identifier: str) -> Holding | None:
        return self.open.get((email, identifier))

    def held_by(self, email: str) -> list[Holding]:
        return list(self.open_by_email.get(email, {}).values())
