"""The synthetic account: every user and every hosted meeting follows from (seed, user index).

Nothing here is stored. A user is rebuilt from its index whenever it is needed and a meeting
from (user, day), so an account of 100,000 users costs a few arrays of status bits (see
``account.py``) rather than 100,000 dicts. Randomness comes from BLAKE2b and SplitMix64, not
from ``random``, because ``random``'s derived methods are only promised to be stable within one
Python version and the same seed has to give the same account on every machine.

Days are integers relative to the anchor day: day -1 is the day before the anchor, day 0 the
anchor day itself, day 3 three days after it.
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterator, NamedTuple

DAY = 86_400
M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
UPCOMING_HORIZON_DAYS = 45
MEETING_TYPE_IDS = (2, 8)
WEBINAR_TYPE_IDS = (5, 9)
PAID_ADDONS = ("webinar", "large_meeting", "zoom_events")


def mix64(x: int) -> int:
    """SplitMix64's finaliser: a fast, well-spread 64-bit hash of an integer."""
    x = (x + GOLDEN) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


class Draws:
    """A stream of uniform draws for one (seed, index, purpose), from BLAKE2b blocks.

    Each purpose has its own stream, so adding a draw to one aspect of a user (say, add-ons)
    does not reshuffle another (say, hosting history) of every user generated before.
    """

    __slots__ = ("_key", "_person", "_block", "_buf", "_pos")

    def __init__(self, seed: int, index: int, purpose: bytes) -> None:
        self._key = b"%d:%d:" % (seed, index)
        self._person = purpose
        self._block = 0
        self._buf = b""
        self._pos = 0

    def word(self) -> int:
        if self._pos >= len(self._buf):
            self._buf = hashlib.blake2b(self._key + b"%d" % self._block, digest_size=64, person=self._person).digest()
            self._block += 1
            self._pos = 0
        value = int.from_bytes(self._buf[self._pos : self._pos + 4], "big")
        self._pos += 4
        return value

    def u(self) -> float:
        return self.word() / 4294967296.0

    def below(self, n: int) -> int:
        return (self.word() * n) >> 32

    def between(self, lo: int, hi: int) -> int:
        return lo + self.below(hi - lo + 1)

    def pick(self, seq):
        return seq[self.below(len(seq))]

    def chance(self, p: float) -> bool:
        return self.u() < p

    def weighted(self, options):
        """``options`` is a sequence of (value, weight); weights need not sum to one."""
        total = sum(w for _, w in options)
        x = self.u() * total
        for value, weight in options:
            x -= weight
            if x < 0:
                return value
        return options[-1][0]


FIRST_NAMES = (
    "Ada", "Alan", "Amara", "Ana", "Ben", "Carla", "Chen", "Dana", "David", "Elena", "Emma", "Farah", "Felix",
    "Grace", "Hana", "Hugo", "Ines", "Ivan", "James", "Jin", "Julia", "Kai", "Kofi", "Lara", "Leo", "Lina",
    "Lucas", "Maya", "Mei", "Mohammed", "Nadia", "Noah", "Olga", "Omar", "Paula", "Priya", "Rafael", "Rosa",
    "Sam", "Sara", "Sofia", "Tariq", "Tom", "Uma", "Victor", "Wei", "Yara", "Yusuf", "Zoe", "Zain",
)
LAST_NAMES = (
    "Abe", "Adams", "Ahmed", "Alvarez", "Baker", "Berg", "Brown", "Chen", "Costa", "Diaz", "Dubois", "Evans",
    "Fischer", "Garcia", "Gupta", "Hall", "Ito", "Jensen", "Khan", "Kim", "Kowalski", "Lee", "Lopez", "Martin",
    "Meyer", "Moreau", "Mueller", "Nakamura", "Nguyen", "Novak", "Okafor", "Olsen", "Patel", "Perez", "Rossi",
    "Sato", "Schmidt", "Silva", "Singh", "Smith", "Suzuki", "Tanaka", "Taylor", "Torres", "Wang", "Weber",
    "Wilson", "Wong", "Yilmaz", "Zhang",
)
DEPTS = (
    "Engineering", "Sales", "Marketing", "Finance", "HR", "Support", "Legal", "Operations", "Product", "IT",
    "Research", "Facilities",
)
TIMEZONES = (
    "America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London", "Europe/Berlin",
    "Asia/Tokyo", "Asia/Singapore", "Australia/Sydney", "Asia/Kolkata", "America/Sao_Paulo",
)
CLIENT_VERSIONS = ("6.2.5.45780(mac)", "6.1.11.43002(win)", "6.3.0.52884(win)", "6.0.12.38850(mac)", "6.2.10.48030(linux)")
SERVICE_NAMES = ("recording", "scheduler", "webinar-ops", "training", "helpdesk", "townhall", "integration", "sales-demo")
ROOM_NAMES = ("Boardroom", "Huddle", "Lobby", "Training", "Conference")
MEETING_TOPICS = (
    "Weekly sync", "Customer call", "Sprint review", "1:1", "All hands", "Design review", "Interview",
    "Planning", "Standup", "Onboarding", "Vendor review", "Retro",
)
WEBINAR_TOPICS = ("Product update", "Quarterly results", "Customer training", "Partner briefing", "Town hall")

# Recency of the last hosted meeting, in days before the anchor: about half of the hosts hosted in
# the last week, the rest spread over the stale bands reclamation rules care about.
RECENCY = (((0, 6), 50), ((7, 29), 10), ((30, 59), 10), ((60, 119), 7), ((120, 399), 3))
WEBINAR_RECENCY = (((0, 6), 35), ((7, 29), 10), ((30, 59), 10), ((60, 119), 12), ((120, 399), 8))


class Hosting(NamedTuple):
    """Hosting on the days first..last (inclusive): a day has an instance when its hash falls
    under ``rate`` (a 24-bit threshold), and ``sure`` always has one, so the recency class a user
    was drawn into holds exactly."""

    key: int
    first: int
    last: int
    rate: int
    sure: int


class Instance(NamedTuple):
    start: int  # epoch seconds
    duration: int  # minutes
    participants: int
    webinar: bool
    uuid: str
    id: int
    type: int
    topic: str
    created: int

    @property
    def end(self) -> int:
        return self.start + self.duration * 60


@dataclass(slots=True)
class Profile:
    """Everything about one user except its meetings, which follow from ``hosting``."""

    index: int
    uid: str
    email: str
    first_name: str
    last_name: str
    status: str
    type: int
    kind: str  # person | service | room
    dept: str
    role_id: str
    group_ids: tuple[str, ...]
    timezone: str
    pmi: int
    verified: int
    created: int  # epoch seconds
    last_login: int | None
    client_version: str
    feature: dict
    refusal: tuple[int, str | None] | None = None
    hosting: tuple[Hosting, ...] = ()
    webinar_hosting: tuple[Hosting, ...] = ()
    extra: list[Instance] = field(default_factory=list)
    settings_extra: dict = field(default_factory=dict)


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def meeting_capacity(plan: str, user_type: int) -> int:
    return (100 if plan == "pro" else 300) if user_type == 2 else 100


def new_feature(plan: str, user_type: int) -> dict:
    return {
        "meeting_capacity": meeting_capacity(plan, user_type),
        "large_meeting": False,
        "webinar": False,
        "zoom_events": False,
        "zoom_phone": False,
        "cn_meeting": False,
        "in_meeting": False,
        "concurrent_meeting": "None",
        "zoom_whiteboard": False,
        "zoom_iq_for_sales": False,
    }


def drop_addons(feature: dict, plan: str) -> None:
    """What a downgrade does to settings: the meeting add-ons need a Licensed seat and go with it.
    Zoom Phone is a separate product licence and stays (a sandbox reading of an undocumented case)."""
    for name in PAID_ADDONS:
        feature[name] = False
        feature.pop(f"{name}_capacity", None)
    feature["meeting_capacity"] = meeting_capacity(plan, 1)


class Generator:
    def __init__(self, seed: int, users: int, anchor: datetime, history_days: int, plan: str) -> None:
        self.seed = seed
        self.users = users
        self.anchor_ts = int(anchor.timestamp())
        self.history_days = history_days
        self.plan = plan
        self._class_key = mix64(seed * 0x100000001B3 ^ 0xC1A55)
        self._group_ids = tuple(self._token(b"group", i, 16) for i in range(8))
        self._custom_roles = tuple(self._token(b"role", i, 16) for i in range(3))

    def _token(self, purpose: bytes, i: int, nbytes: int) -> str:
        raw = hashlib.blake2b(b"%d:%d" % (self.seed, i), digest_size=nbytes, person=purpose).digest()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    # --- identity -------------------------------------------------------------------------------

    def status_and_type(self, index: int) -> tuple[str, int]:
        """Cheap on purpose: the account computes this for every index at start-up."""
        if index == 0:
            return "active", 2  # the account owner
        x = mix64(self._class_key ^ index)
        u = (x >> 11) / 9007199254740992.0
        if u < 0.03:
            return "pending", 2 if (x & 0xFF) < 102 else 1  # ~40% of invitations hold a seat
        if u < 0.06:
            return "inactive", 1
        if u < 0.41:
            return "active", 2
        if u < 0.435:
            return "active", 4
        if u < 0.45:
            return "active", 99
        return "active", 1

    def uid(self, index: int) -> str:
        """A Zoom-looking 22-character id that encodes its index, so looking a user up by id needs
        no table: 12 hash bytes, then the index masked with a hash of those."""
        head = hashlib.blake2b(b"%d:%d" % (self.seed, index), digest_size=12, person=b"uid").digest()
        tail = (index ^ self._uid_mask(head)).to_bytes(4, "big")
        return base64.urlsafe_b64encode(head + tail).rstrip(b"=").decode()

    @staticmethod
    def _uid_mask(head: bytes) -> int:
        return int.from_bytes(hashlib.blake2b(head, digest_size=4, person=b"uidmask").digest(), "big")

    def index_of_uid(self, uid: str) -> int | None:
        if len(uid) != 22:
            return None
        try:
            raw = base64.urlsafe_b64decode(uid + "==")
        except (ValueError, TypeError):
            return None
        if len(raw) != 16:
            return None
        index = int.from_bytes(raw[12:], "big") ^ self._uid_mask(raw[:12])
        return index if self.uid(index) == uid else None

    @staticmethod
    def index_in_email(email: str) -> int | None:
        """Generated emails end in the zero-padded index: ``<something>NNNNNN@example.com``."""
        local, _, domain = email.partition("@")
        digits = len(local) - len(local.rstrip("0123456789"))
        if domain != "example.com" or digits < 6:
            return None
        return int(local[-digits:])

    # --- users ----------------------------------------------------------------------------------

    def profile(self, index: int) -> Profile:
        status, user_type = self.status_and_type(index)
        d = Draws(self.seed, index, b"user")
        first, last = d.pick(FIRST_NAMES), d.pick(LAST_NAMES)
        kind = "person"
        if index == 0:
            role = "0"
        else:
            role = d.weighted((("2", 95), ("1", 2), (self._custom_roles, 3)))
            if isinstance(role, tuple):
                role = d.pick(role)
        if status == "active" and user_type == 2 and index != 0:
            kind = d.weighted((("person", 98), ("service", 1), ("room", 1)))
        if kind == "service":
            name = d.pick(SERVICE_NAMES)
            first, last, local = "Service", name.replace("-", " ").title(), f"svc-{name}"
        elif kind == "room":
            name = d.pick(ROOM_NAMES)
            first, last, local = "Zoom Room", f"{name} {d.between(1, 9)}", f"room.{name.lower()}"
        else:
            local = f"{first}.{last}".lower()
        email = f"{local}{index:06d}@example.com"
        groups = tuple(sorted({d.pick(self._group_ids) for _ in range(d.weighted(((0, 30), (1, 50), (2, 20))))}))

        if status == "pending":
            created_day = -d.between(1, 30) if d.chance(0.4) else -d.between(31, 300)
        elif d.chance(0.05):
            created_day = -d.between(1, 30)  # new accounts, younger than any reclamation threshold
        else:
            created_day = -31 - int(d.u() ** 1.5 * 2170)
        created = self.anchor_ts + created_day * DAY + d.below(DAY)

        feature = new_feature(self.plan, user_type)
        p = Profile(
            index=index,
            uid=self.uid(index),
            email=email,
            first_name=first,
            last_name=last,
            status=status,
            type=user_type,
            kind=kind,
            dept=d.pick(DEPTS),
            role_id=role,
            group_ids=groups,
            timezone=d.pick(TIMEZONES),
            pmi=d.between(2_000_000_000, 9_999_999_999),
            verified=0 if d.chance(0.05) else 1,
            created=created,
            last_login=None,
            client_version=d.pick(CLIENT_VERSIONS),
            feature=feature,
        )
        if kind == "room":
            p.refusal = (200, None)
        elif status == "active" and user_type == 2 and d.chance(0.003):
            p.refusal = (1108, None)
        if status == "active" and user_type == 2 and kind != "room":
            self._addons(index, feature)
        self._history(p, created_day)
        return p

    def _addons(self, index: int, feature: dict) -> None:
        d = Draws(self.seed, index, b"addons")
        if d.chance(0.10):
            feature["webinar"] = True
            feature["webinar_capacity"] = d.weighted(((500, 60), (1000, 30), (3000, 10)))
        if d.chance(0.03):
            feature["large_meeting"] = True
            feature["large_meeting_capacity"] = d.weighted(((500, 70), (1000, 30)))
        if d.chance(0.02):
            feature["zoom_phone"] = True
        if not feature["webinar"] and d.chance(0.01):
            feature["zoom_events"] = True  # Zoom refuses Webinar and Zoom Events on one user (1204/1205)
            feature["zoom_events_capacity"] = 500

    def _history(self, p: Profile, created_day: int) -> None:
        """Hosting, upcoming meetings and the last login, drawn together so they agree."""
        d = Draws(self.seed, p.index, b"hosting")
        first = max(created_day, -self.history_days)
        can_host = p.kind != "room" and p.status != "pending" and p.type in (1, 2)
        key = mix64(self._class_key ^ (p.index << 20) ^ 0x4D)
        wkey = mix64(key ^ 0x57)
        if not can_host:
            p_host = 0.0
        elif p.status == "inactive":
            p_host = 0.5
        elif p.type == 1:
            p_host = 0.12
        elif p.kind == "service":
            p_host = 0.5
        else:
            p_host = 0.8
        hosting: list[Hosting] = []
        last_day = None
        if d.chance(p_host):
            if p.status == "inactive":
                ago = d.between(60, self.history_days - 1)  # deactivated since
            else:
                lo, hi = d.weighted(RECENCY)
                ago = d.between(lo, min(hi, self.history_days - 1))
            last_day = -1 - ago
            if last_day < first:  # a younger account: its last meeting falls after its creation
                last_day = d.between(first, -1)
            rate = d.pick((0.02, 0.05, 0.1) if p.type == 1 else (0.05, 0.1, 0.2, 0.35, 0.5, 0.7))
            hosting.append(Hosting(key, first, last_day, int(rate * (1 << 24)), last_day))

        if p.status == "active" and can_host:
            if last_day is None:
                p_up = 0.04 if p.type == 2 else 0.0
            else:
                p_up = 0.35 if last_day >= -30 else 0.08
            if d.chance(p_up):
                soonest = d.between(1, 20)
                hosting.append(
                    Hosting(mix64(key ^ 0x55), soonest, UPCOMING_HORIZON_DAYS, int(0.15 * (1 << 24)), soonest)
                )
        p.hosting = tuple(hosting)

        if p.feature.get("webinar") and d.chance(0.75):
            lo, hi = d.weighted(WEBINAR_RECENCY)
            wlast = -1 - d.between(lo, min(hi, self.history_days - 1))
            if wlast < first:
                wlast = d.between(first, -1)
            rate = d.pick((0.02, 0.05, 0.1))
            webinars = [Hosting(wkey, first, wlast, int(rate * (1 << 24)), wlast)]
            if d.chance(0.2):
                soonest = d.between(1, 30)
                webinars.append(Hosting(mix64(wkey ^ 0x55), soonest, UPCOMING_HORIZON_DAYS, int(0.05 * (1 << 24)), soonest))
            p.webinar_hosting = tuple(webinars)

        if p.status == "pending":
            return
        if last_day is not None:
            login_day = min(-1, last_day + d.between(0, 2))
        elif p.status == "inactive":
            login_day = -d.between(60, 400)
        else:
            login_day = d.weighted(((-d.between(1, 60), 70), (-d.between(61, 400), 20), (None, 10)))
        if login_day is not None:
            p.last_login = max(p.created, self.anchor_ts + login_day * DAY + d.below(DAY))

    def custom_profile(self, index: int, email: str, **fields) -> Profile:
        """A user added by a test: nothing is drawn except what it did not specify."""
        user_type = fields.pop("type")
        p = Profile(
            index=index,
            uid=self.uid(index),
            email=email,
            first_name=fields.pop("first_name") or email.split("@")[0].split(".")[0].title(),
            last_name=fields.pop("last_name") or "Sandbox",
            status=fields.pop("status"),
            type=user_type,
            kind="person",
            dept=fields.pop("dept") or "",
            role_id=fields.pop("role_id"),
            group_ids=tuple(fields.pop("group_ids")),
            timezone=fields.pop("timezone"),
            pmi=Draws(self.seed, index, b"user").between(2_000_000_000, 9_999_999_999),
            verified=1,
            created=fields.pop("created"),
            last_login=fields.pop("last_login"),
            client_version=CLIENT_VERSIONS[0],
            feature=new_feature(self.plan, user_type),
        )
        if fields:
            raise TypeError(f"unknown user fields {sorted(fields)}")
        return p

    # --- meetings -------------------------------------------------------------------------------

    def added_uuid(self, index: int, seq: int, start: int) -> str:
        raw = hashlib.blake2b(b"%d:%d:%d:%d" % (self.seed, index, seq, start), digest_size=16, person=b"added").digest()
        return base64.b64encode(raw).decode()

    def instances(self, p: Profile, webinar: bool, lo: int, hi: int) -> Iterator[Instance]:
        """Generated instances that start in [lo, hi) (epoch seconds), in time order."""
        plans = p.webinar_hosting if webinar else p.hosting
        if not plans:
            return
        d_lo = (lo - self.anchor_ts) // DAY
        d_hi = (hi - 1 - self.anchor_ts) // DAY
        for h in plans:
            for day in range(max(d_lo, h.first), min(d_hi, h.last) + 1):
                x = mix64(h.key ^ ((day * GOLDEN) & M64))
                if day != h.sure and (x >> 40) >= h.rate:
                    continue
                inst = self._instance(p, h, webinar, day, x)
                if lo <= inst.start < hi:
                    yield inst

    def _instance(self, p: Profile, h: Hosting, webinar: bool, day: int, x: int) -> Instance:
        y = mix64(x ^ 0x1D)
        start = self.anchor_ts + day * DAY + (8 + (y & 0xF) % 11) * 3600 + ((y >> 4) & 3) * 900
        if webinar:
            duration = 30 + ((y >> 6) % 5) * 15
        else:
            duration = 15 + ((y >> 6) % 22) * 5
        recurring = ((y >> 20) & 7) == 0
        types = WEBINAR_TYPE_IDS if webinar else MEETING_TYPE_IDS
        number = mix64(h.key ^ 0x5E) if recurring else (y >> 24)
        topics = WEBINAR_TOPICS if webinar else MEETING_TOPICS
        uuid = base64.b64encode(x.to_bytes(8, "big") + mix64(y).to_bytes(8, "big")).decode()
        return Instance(
            start=start,
            duration=duration,
            participants=2 + (y >> 12) % 39,
            webinar=webinar,
            uuid=uuid,
            id=10_000_000_000 + number % 89_999_999_999,
            type=types[1] if recurring else types[0],
            topic=topics[(y >> 28) % len(topics)],
            created=start - (1 + (y >> 40) % 14) * DAY - ((y >> 48) % 12) * 3600,
        )
