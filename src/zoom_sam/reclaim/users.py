"""Where reclaim reads a user's record (status and ``type``) from, with the scopes it has.

``GET /users/{id}`` needs ``user:read:user:admin``, which a customer does not grant by default.
Without it the record comes from ``GET /users?status=...`` (the seven default scopes): one
listing serves every candidate of the run, so it costs ``account users / 300`` calls however
many candidates there are, instead of one call each. The listing keeps only the users asked for,
and of each only what reclaim decides on (:data:`KEPT_FIELDS`): a real reclaim at 100,000 holders
writes to tens of thousands of users and reads their records twice (before and after the writes).
After the writes only the pages that showed the written users are read again: a day that
downgrades eight seats of a 27-page account reads at most eight pages, not 27, after its last
write, when nothing else can overlap them.
"""
from __future__ import annotations

import logging
import sys
import threading
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import closing
from typing import TYPE_CHECKING, Any

from zoom_sam.zoom.errors import ZoomNotFound
from zoom_sam.zoom.scopes import USER_READ

if TYPE_CHECKING:
    from zoom_sam.zoom.client import ZoomClient

log = logging.getLogger(__name__)

# What the re-check and the confirmation read from a record (the key names the user); Zoom's user
# object has twenty fields more.
KEPT_FIELDS = ("status", "type")


class UserRecords:
    """User records by warehouse key (the Zoom id; the email for pending invitations)."""

    def __init__(self, client: ZoomClient, expected_pages: Mapping[str, int] | None = None) -> None:
        self.client = client
        # Pages of the listing per status as this run's download counted them: asked all at once,
        # not page 1 first, so the listing costs one round trip instead of two.
        self.expected_pages = dict(expected_pages or {})
        self.per_user = client.has_scope(USER_READ)
        self._snapshot: dict[str, dict[str, Any]] = {}
        # Where the last listing showed each key: (status, page number); kept after the snapshot
        # is let go, for reading the written users' pages again.
        self._pages: dict[str, tuple[str, int]] = {}
        self._lock = threading.Lock()

    @property
    def source(self) -> str:
        """How records are read, as the audit trail words it."""
        return "GET /users/{id}" if self.per_user else "GET /users listing"

    def prefetch(self, keys: Iterable[str], statuses: Iterable[str]) -> None:
        """Take the listing snapshot of ``keys`` (no-op when records are read per user)."""
        for _ in self.stream(keys, statuses):
            pass

    def stream(self, keys: Iterable[str], statuses: Iterable[str]) -> Iterator[str]:
        """Take the listing snapshot of ``keys``, yielding each key as soon as :meth:`get` knows its
        record (the listing reached it) or its absence (the listing ended without it): the caller
        starts on a user while the listing's pages, sequential by nature, go on. Per user: every
        key at once."""
        keys = set(keys)
        if self.per_user:
            yield from keys
            return
        with self._lock:
            self._snapshot = {}
        for key, user in self._listing(keys, statuses):
            with self._lock:
                self._snapshot[key] = user
            yield key
        with self._lock:
            missing = keys - self._snapshot.keys()
        yield from missing

    def get(self, key: str) -> dict[str, Any] | None:
        """The user's record as of the snapshot (or now, per user); None when not in the account."""
        if self.per_user:
            return self._get(key)
        with self._lock:
            return self._snapshot.get(key)

    def fresh(self, keys: Iterable[str], statuses: Iterable[str], *, whole: bool = False) -> dict[str, dict[str, Any]]:
        """The records of ``keys`` as they are now (after writes), read again from Zoom.

        From the listing, only after a round of writes, when the snapshot taken before them is
        stale: it is let go first (the next round takes a new one), so the run never holds two.
        Only the pages that showed the keys are read, unless ``whole`` (a removal, confirmed by
        an absence no single page shows); a key its page no longer shows (the account changed in
        front of it, or the user is gone) is looked for in the whole listing, so it is never taken
        for gone on a page's word."""
        keys = set(keys)
        if not keys:
            return {}
        if self.per_user:
            return {k: rec for k in keys if (rec := self._get(k)) is not None}
        with self._lock:
            self._snapshot = {}
        found = {} if whole else self._on_their_pages(keys)
        missing = keys - found.keys()
        if missing and not whole:
            log.info("user listing: %d of %d users are not on the page they were listed on before the writes; "
                     "reading the whole listing for them", len(missing), len(keys))
        if missing:
            found.update(self._list(missing, statuses))
        return found

    def pages_holding(self, keys: Collection[str]) -> int:
        """How many pages the last listing showed ``keys`` on: what reading them again costs."""
        return len({self._pages[k] for k in keys if k in self._pages})

    def _on_their_pages(self, keys: set[str]) -> dict[str, dict[str, Any]]:
        numbers: dict[str, set[int]] = defaultdict(set)
        for key in keys:
            if (where := self._pages.get(key)) is not None:
                numbers[where[0]].add(where[1])
        found = {}
        for status, wanted in numbers.items():
            for _, users in self.client.list_user_pages(status, sorted(wanted)):
                for user in users:
                    if (key := _key(user)) in keys:
                        found[key] = _kept(user)
        return found

    def _get(self, key: str) -> dict[str, Any] | None:
        try:
            return _kept(self.client.get_user(key))
        except ZoomNotFound:
            return None

    def _list(self, keys: set[str], statuses: Iterable[str]) -> dict[str, dict[str, Any]]:
        return dict(self._listing(keys, statuses))

    def _listing(self, keys: set[str], statuses: Iterable[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        """(key, record) of each of ``keys`` the listing shows, until all are found. The pages go
        out side by side (a cursor's round trips would bound the run), the cursor after them only
        when the account changed meanwhile."""
        found = 0
        for status in statuses:
            numbered = self.client.list_users_by_page_number(status, expected_pages=self.expected_pages.get(status, 1))
            with closing(numbered) as users:  # ends pages in flight
                for number, user in users:
                    key = _key(user)
                    if key in keys:
                        found += 1
                        with self._lock:
                            if number is None:
                                self._pages.pop(key, None)
                            else:
                                self._pages[key] = (status, number)
                        yield key, _kept(user)
                        if found == len(keys):
                            return
        log.info("user listing: %d of %d candidate users found", found, len(keys))


def _key(user: dict[str, Any]) -> str:
    return user.get("id") or str(user.get("email", "")).lower()


def _kept(user: dict[str, Any]) -> dict[str, Any]:
    kept = {field: user[field] for field in KEPT_FIELDS if field in user}
    if isinstance(kept.get("status"), str):
        kept["status"] = sys.intern(kept["status"])  # a handful of values, else one string per user
    return kept
