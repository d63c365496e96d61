"""One Zoom account's live state: the generated users plus whatever requests and tests changed.

Generated users are never stored. The account keeps, per status, a sorted array of the user
indexes in that status (listings page through it by index, so a deletion between two pages
neither repeats nor skips anyone) and an overlay of the users that were changed, added or
deleted. Reading a user means: the overlay's copy if there is one, else a fresh one from the
generator.

Everything a test may call is on this class; the HTTP handlers use the same methods.
"""
from __future__ import annotations

import bisect
import heapq
import threading
from array import array
from datetime import date, datetime, timedelta, timezone
from typing import Iterator

from .clock import SandboxClock
from .config import AccountConfig, as_utc
from .errors import user_not_found
from .generator import DAY, Generator, Instance, Profile, drop_addons, iso, meeting_capacity

STATUSES = ("active", "inactive", "pending")
KINDS = ("all", "meetings", "webinars")
NO_END = 1 << 40  # epoch seconds far beyond any meeting


class Account:
    def __init__(self, config: AccountConfig, anchor: datetime, clock: SandboxClock) -> None:
        self.config = config
        self.account_id = config.account_id
        self.anchor = anchor
        self.history_start = anchor - timedelta(days=config.history_days)
        self.clock = clock
        self._gen = Generator(config.seed, config.users, anchor, config.history_days, config.plan)
        self._lock = threading.RLock()
        self._by_status = {s: array("i") for s in STATUSES}
        for index in range(config.users):
            self._by_status[self._gen.status_and_type(index)[0]].append(index)
        self._next_index = config.users
        self._overlay: dict[int, Profile] = {}
        # Users as generated, kept from their first read (about 1 KB each): generating one costs
        # ~110 us, so a listing page of 300 generated anew would cost the sandbox 33 ms of CPU,
        # fewer pages a second than Zoom's Medium limit lets a client ask for. Never mutated:
        # a change copies the user into the overlay (``_mutable``).
        self._generated: dict[int, Profile] = {}
        self._deleted: set[int] = set()
        self._added_emails: dict[str, int] = {}
        self._reports: dict[tuple, tuple] = {}
        # Bumped by every change that can alter a report, so cached reports know they are stale.
        self.version = 0

    # --- lookup ---------------------------------------------------------------------------------

    def _exists(self, index: int) -> bool:
        return index not in self._deleted and (index < self.config.users or index in self._overlay)

    def _profile(self, index: int) -> Profile:
        p = self._overlay.get(index)
        if p is None:
            p = self._generated.get(index)
            if p is None:
                p = self._generated[index] = self._gen.profile(index)
        return p

    def find(self, ref: str) -> int | None:
        """The index of a user addressed by id or email, as Zoom's /users/{userId} accepts. Pending
        users have no id in any response, so they are only found by email."""
        with self._lock:
            if "@" in ref:
                email = ref.lower()
                index = self._added_emails.get(email)
                if index is None:
                    index = self._gen.index_in_email(email)
                    if index is None or index >= self.config.users:
                        return None
                if not self._exists(index) or self._profile(index).email != email:
                    return None
                return index
            index = self._gen.index_of_uid(ref)
            if index is None or not self._exists(index) or self._profile(index).status == "pending":
                return None
            return index

    def resolve(self, ref: str) -> Profile:
        """The user behind a request path, or Zoom's 404 1001."""
        with self._lock:
            index = self.find(ref)
            if index is None:
                raise user_not_found(ref)
            return self._profile(index)

    def _mutable(self, ref: str) -> Profile:
        index = self.find(ref)
        if index is None:
            raise KeyError(f"no user {ref!r} in account {self.account_id}")
        p = self._overlay.get(index)
        if p is None:
            p = self._overlay[index] = self._gen.profile(index)
            self._generated.pop(index, None)
        self.version += 1
        return p

    # --- reading, for tests ---------------------------------------------------------------------

    def total(self, status: str) -> int:
        return len(self._by_status[status])

    def users(self, status: str | None = None) -> Iterator[dict]:
        """Every user (or every user of one status) in listing order, each as GET /users shows it
        plus ``settings``: what GET /users/{id}/settings would return."""
        with self._lock:
            if status is None:
                indexes = list(heapq.merge(*self._by_status.values()))
            else:
                indexes = list(self._by_status[status])
        for index in indexes:
            with self._lock:
                if not self._exists(index):
                    continue
                p = self._profile(index)
                yield {**self.user_object(p), "settings": self.settings_object(p)}

    def user(self, ref: str) -> dict | None:
        """A user by id or email, as ``users()`` yields it, or None when there is no such user."""
        with self._lock:
            index = self.find(ref)
            if index is None:
                return None
            p = self._profile(index)
            return {**self.user_object(p), "settings": self.settings_object(p)}

    def instances(self, ref: str, start=None, end=None, kind: str = "all") -> list[dict]:
        """The user's meetings and/or webinars (past and upcoming, as listing items) that start in
        [start, end); ``kind`` is "all", "meetings" or "webinars"."""
        p = self.resolve(ref)
        lo = int(as_utc(start).timestamp()) if start is not None else None
        hi = int(as_utc(end).timestamp()) if end is not None else None
        return [self.instance_object(p, i) for i in self._visible(p, kind, lo, hi)]

    def hosted_uuids(self, ref: str, start, end, kind: str = "all") -> set[str]:
        """The uuids of the instances the user hosted (started in [start, end) and over by the
        sandbox's now): exactly what the listings and the host report count as hosting."""
        p = self.resolve(ref)
        now = self.clock.time()
        lo, hi = int(as_utc(start).timestamp()), int(as_utc(end).timestamp())
        return {i.uuid for i in self._visible(p, kind, lo, hi) if i.end <= now}

    def last_hosted(self, ref: str, kind: str = "all") -> datetime | None:
        p = self.resolve(ref)
        now = self.clock.time()
        ended = [i.start for i in self._visible(p, kind, None, None) if i.end <= now]
        return datetime.fromtimestamp(max(ended), tz=timezone.utc) if ended else None

    # --- changing, for tests and for the write endpoints ----------------------------------------

    def set_user_type(self, ref: str, user_type: int) -> None:
        """Change the plan type. Leaving the Licensed type drops the meeting add-ons."""
        with self._lock:
            p = self._mutable(ref)
            p.type = user_type
            if user_type == 2:
                p.feature["meeting_capacity"] = meeting_capacity(self.config.plan, 2)
            else:
                drop_addons(p.feature, self.config.plan)

    def set_feature(self, ref: str, name: str, value) -> None:
        """Set one ``feature`` setting as-is (no licence checks: tests build states with it).
        Enabling webinar or large_meeting without a capacity gives it 500, as Zoom never shows an
        enabled add-on without one."""
        with self._lock:
            p = self._mutable(ref)
            p.feature[name] = value
            if name in ("webinar", "large_meeting", "zoom_events"):
                if value:
                    p.feature.setdefault(f"{name}_capacity", 500)
                else:
                    p.feature.pop(f"{name}_capacity", None)

    def set_refusal(self, ref: str, code: int | None, message: str | None = None) -> None:
        """Make every write to this user (PATCH user, PATCH settings, DELETE) fail with Zoom error
        ``code`` (HTTP 400) and Zoom's message for it; None lifts the refusal."""
        with self._lock:
            self._mutable(ref).refusal = None if code is None else (code, message)

    def refusal(self, ref: str) -> tuple[int, str | None] | None:
        return self.resolve(ref).refusal

    def set_status(self, ref: str, status: str) -> None:
        """Move a user between statuses as Zoom does: an invitee accepting (pending -> active, the
        user gets its id), a deactivation (active -> inactive, which removes every licence: Basic,
        no add-ons) or a reactivation."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}")
        with self._lock:
            index = self.find(ref)
            if index is None:
                raise KeyError(f"no user {ref!r} in account {self.account_id}")
            p = self._mutable(ref)
            if p.status == status:
                return
            if status == "pending":
                raise ValueError("a user cannot go back to a pending invitation")
            self._by_status[p.status].remove(index)
            bisect.insort(self._by_status[status], index)
            p.status = status
            if status == "inactive":
                p.type = 1
                drop_addons(p.feature, self.config.plan)

    def delete_user(self, ref: str) -> None:
        with self._lock:
            index = self.find(ref)
            if index is None:
                raise KeyError(f"no user {ref!r} in account {self.account_id}")
            p = self._profile(index)
            self._by_status[p.status].remove(index)
            self._deleted.add(index)
            self._overlay.pop(index, None)
            self._generated.pop(index, None)
            self._added_emails.pop(p.email, None)
            self.version += 1

    def add_meeting(
        self,
        ref: str,
        start_time,
        duration: int = 30,
        type: int = 2,
        uuid: str | None = None,
        webinar: bool = False,
        topic: str | None = None,
    ) -> dict:
        """Record a meeting or webinar the user hosts at ``start_time`` (past or upcoming)."""
        with self._lock:
            p = self._mutable(ref)
            start = int(as_utc(start_time).timestamp())
            seq = len(p.extra)
            if webinar and type == 2:
                type = 5
            inst = Instance(
                start=start,
                duration=duration,
                participants=2,
                webinar=webinar,
                uuid=uuid or self._gen.added_uuid(p.index, seq, start),
                id=90_000_000_000 + p.index * 1000 + seq,
                type=type,
                topic=topic or ("Added webinar" if webinar else "Added meeting"),
                created=start - DAY,
            )
            p.extra.append(inst)
            return self.instance_object(p, inst)

    def add_user(
        self,
        email: str,
        type: int = 2,
        status: str = "active",
        created_at=None,
        features: dict | None = None,
        dept: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        role_id: str = "2",
        group_ids=(),
        last_login_time=None,
        timezone: str = "America/New_York",
    ) -> dict:
        """Add a user (``features`` as in ``set_feature``); returns it as ``user()`` would."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}")
        email = email.lower()
        with self._lock:
            if self.find(email) is not None:
                raise ValueError(f"{email} already exists in account {self.account_id}")
            index = self._next_index
            self._next_index += 1
            created = self.clock.time() if created_at is None else as_utc(created_at).timestamp()
            p = self._gen.custom_profile(
                index,
                email,
                type=type,
                status=status,
                created=int(created),
                dept=dept,
                first_name=first_name,
                last_name=last_name,
                role_id=role_id,
                group_ids=group_ids,
                timezone=timezone,
                last_login=None if last_login_time is None else int(as_utc(last_login_time).timestamp()),
            )
            self._overlay[index] = p
            self._added_emails[email] = index
            self._by_status[status].append(index)
            self.version += 1
            for name, value in (features or {}).items():
                self.set_feature(email, name, value)
            return self.user(email)

    def update_profile(self, ref: str, changes: dict) -> None:
        """Profile fields a PATCH /users/{userId} may change besides the type."""
        with self._lock:
            p = self._mutable(ref)
            for name, value in changes.items():
                setattr(p, name, value)

    def patch_settings(self, p: Profile, body: dict) -> None:
        """Store a settings change that passed validation (feature flags are validated by the
        handler; other groups are kept as sent, so a re-read shows them)."""
        with self._lock:
            q = self._mutable(p.email)
            for group, values in body.items():
                if group == "feature":
                    for name, value in values.items():
                        self.set_feature(q.email, name, value)
                else:
                    q.settings_extra.setdefault(group, {}).update(values)

    # --- listings -------------------------------------------------------------------------------

    def page_of_users(self, status: str, size: int, after: int = -1, offset: int | None = None) -> tuple[list[Profile], int]:
        """Up to ``size`` users of ``status``, from the first index above ``after`` (token paging)
        or from position ``offset`` (page_number paging), and the total."""
        with self._lock:
            indexes = self._by_status[status]
            pos = offset if offset is not None else bisect.bisect_right(indexes, after)
            return [self._profile(i) for i in indexes[pos : pos + size]], len(indexes)

    def _visible(self, p: Profile, kind: str, lo: int | None, hi: int | None) -> list[Instance]:
        """Instances the listings show, in time order. A webinar listing needs the webinar
        add-on, so webinars count only while the user holds it."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        lo = 0 if lo is None else lo  # the generator bounds itself by the history it drew
        hi = NO_END if hi is None else hi
        wanted = []
        if kind != "webinars":
            wanted.append(False)
        if kind != "meetings" and p.feature.get("webinar"):
            wanted.append(True)
        found: list[Instance] = []
        for webinar in wanted:
            found.extend(self._gen.instances(p, webinar, lo, hi))
            found.extend(i for i in p.extra if i.webinar == webinar and lo <= i.start < hi)
        found.sort()
        return found

    def listing(self, p: Profile, webinar: bool, lo: int | None, hi: int | None) -> list[Instance]:
        with self._lock:
            return self._visible(p, "webinars" if webinar else "meetings", lo, hi)

    def host_report(self, first: date, last: date) -> tuple[list[tuple[int, int, int, int]], list[int]]:
        """Per user, what it hosted (meetings + webinars, over by now) with a start in the days
        [first, last]: (rows of (index, meetings, minutes, participants) for hosts, indexes of
        active users who hosted nothing). Cached per window until the account changes or the
        clock passes the end of an instance in the window that was still running or to come."""
        lo = int(as_utc(first).timestamp())
        hi = int(as_utc(last).timestamp()) + DAY
        now = self.clock.time()
        key = (first, last)
        with self._lock:
            cached = self._reports.get(key)
            if cached is not None and cached[0] == self.version and now < cached[1]:
                return cached[2]
            version = self.version
            indexes = list(heapq.merge(self._by_status["active"], self._by_status["inactive"]))
        # Seconds of work at 100,000 users: done outside the lock so other requests keep flowing;
        # a change meanwhile leaves the result filed under the old version, hence recomputed.
        hosts, idle = [], []
        valid_until = float("inf")
        for index in indexes:
            p = self.profile_at(index)
            if p is None:
                continue
            done = []
            for i in self._visible(p, "all", lo, hi):
                if i.end <= now:
                    done.append(i)
                else:
                    valid_until = min(valid_until, i.end)
            if done:
                hosts.append((index, len(done), sum(i.duration for i in done), sum(i.participants for i in done)))
            elif p.status == "active":
                idle.append(index)
        with self._lock:
            if len(self._reports) >= 8:
                self._reports.clear()
            self._reports[key] = (version, valid_until, (hosts, idle))
        return hosts, idle

    def profile_at(self, index: int) -> Profile | None:
        with self._lock:
            return self._profile(index) if self._exists(index) else None

    # --- rendering ------------------------------------------------------------------------------

    def user_object(self, p: Profile, detail: bool = False) -> dict:
        """The user as GET /users lists it (``detail``: as GET /users/{userId} returns it)."""
        obj = {}
        if p.status != "pending":
            obj["id"] = p.uid
        obj.update(
            first_name=p.first_name,
            last_name=p.last_name,
            display_name=f"{p.first_name} {p.last_name}",
            email=p.email,
            type=p.type,
            pmi=p.pmi,
            timezone=p.timezone,
            verified=p.verified,
            dept=p.dept,
            created_at=iso(p.created),
            user_created_at=iso(p.created),
        )
        if p.last_login is not None:
            obj["last_login_time"] = iso(p.last_login)
            obj["last_client_version"] = p.client_version
        obj.update(language="en-US", status=p.status, role_id=p.role_id, group_ids=list(p.group_ids), im_group_ids=[])
        if detail:
            obj.update(
                role_name={"0": "Owner", "1": "Admin", "2": "Member"}.get(p.role_id, "Custom"),
                account_id=self.account_id,
                account_number=10_000_000 + self.config.seed,
                login_types=[100],
                use_pmi=False,
                personal_meeting_url=f"https://example.zoom.us/j/{p.pmi}",
                vanity_url="",
                phone_numbers=[],
                job_title="",
                location="",
                cluster="us05",
            )
        return obj

    def settings_object(self, p: Profile) -> dict:
        licensed = p.type == 2
        settings = {
            "schedule_meeting": {
                "host_video": True,
                "participants_video": False,
                "audio_type": "both",
                "join_before_host": False,
                "use_pmi_for_scheduled_meetings": False,
                "use_pmi_for_instant_meetings": False,
                "require_password_for_scheduling_new_meetings": True,
                "require_password_for_pmi_meetings": "jbh_only",
            },
            "in_meeting": {
                "e2e_encryption": False,
                "chat": True,
                "private_chat": True,
                "co_host": licensed,
                "polling": licensed,
                "breakout_room": True,
                "waiting_room": True,
                "screen_sharing": True,
                "who_can_share_screen": "host",
                "allow_live_streaming": licensed,
                "closed_caption": True,
            },
            "email_notification": {"jbh_reminder": True, "cancel_meeting_reminder": True},
            "recording": {
                "local_recording": True,
                "cloud_recording": licensed,
                "auto_recording": "none",
                "record_speaker_view": True,
                "record_gallery_view": True,
                "save_chat_text": True,
                "show_timestamp": True,
            },
            "telephony": {"third_party_audio": False, "show_international_numbers_link": True},
            "feature": dict(p.feature),
        }
        for group, values in p.settings_extra.items():
            settings.setdefault(group, {}).update(values)
        return settings

    def instance_object(self, p: Profile, i: Instance) -> dict:
        return {
            "uuid": i.uuid,
            "id": i.id,
            "host_id": p.uid,
            "topic": i.topic,
            "type": i.type,
            "start_time": iso(i.start),
            "duration": i.duration,
            "timezone": p.timezone,
            "created_at": iso(i.created),
            "join_url": f"https://example.zoom.us/j/{i.id}",
        }
