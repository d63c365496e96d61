"""Zoom's ``next_page_token`` paging, followed only as far as it can be trusted.

A listing is a chain of answers that each look fine on their own; what goes wrong is the chain.
So a listing is walked in *passes* from the first page, and each pass is watched:

* **Restart.** A page token expires after 15 minutes (Zoom's 400 / code 300); the listing starts
  a new pass from page 1 and yields only items it has not yielded yet (keyed by the listing's
  key fields), at most ``max_page_restarts`` times. Nothing is duplicated or lost.
* **Loops.** A pass that is handed a page token it has already followed, or
  ``MAX_STALLED_PAGES`` + 1 pages in a row that bring no item new to the pass while pointing to
  yet another page, is a loop: :class:`ZoomPagingLoop`, before the token is followed. So paging is
  bounded by what Zoom actually lists, never by a counter of requests.
* **Completeness** (only listings that are ``counted``, i.e. ``GET /users``). A pass *agrees* with
  Zoom when its distinct items are at least the smallest ``total_records`` Zoom reported on its
  pages. Zoom counts at the moment it serves each page, so while a listing runs: a user added
  raises the count of later pages and may or may not be listed (it depends on where it sorts);
  a user removed lowers it and may already have been listed. Pure additions and pure removals
  therefore never put a complete pass below the smallest count, and a pass below it lost users.
  (An addition that is not listed followed by a removal that is not listed yet can: a short pass
  is why it is listed again.) A short pass is followed by one more pass from the first page
  (``RELISTS``), which yields only users not yielded yet and is judged on its own counts; still
  short: :class:`ZoomIncompleteListing`. What no count can show: users lost in exactly the number
  of users added and listed during the same pass.

The generator raises at the end of the listing, after the items it yielded: a caller that must
not act on a partial listing (the download) acts only once the generator is exhausted.

:func:`pages_by_number` is the faster way through a listing, its pages side by side; it falls back
to :func:`paginate` when the account changed while it ran.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from zoom_sam.vocabulary import ZoomCode
from zoom_sam.zoom.errors import ZoomApiError, ZoomIncompleteListing, ZoomPagingLoop
from zoom_sam.zoom.shapes import Listing, item_key

log = logging.getLogger(__name__)

MAX_STALLED_PAGES = 2
RELISTS = 1
PROGRESS_EVERY_PAGES = 20


@dataclass
class _Pass:
    """One walk of the listing from its first page."""

    keys: set[Any]
    tokens: set[str] = field(default_factory=set)
    pages: int = 0
    stalled: int = 0
    smallest_total: int | None = None

    def saw_total(self, total: Any) -> None:
        if isinstance(total, int) and (self.smallest_total is None or total < self.smallest_total):
            self.smallest_total = total


def label(path: str, params: Mapping[str, Any]) -> str:
    """``/users?status=active``: the listing as a person would name it in a task log."""
    query = "&".join(f"{k}={v}" for k, v in params.items() if k not in ("page_size", "next_page_token"))
    return f"{path}?{query}" if query else path


def paginate(fetch: Callable[[dict[str, Any]], Any], path: str, listing: Listing, params: Mapping[str, Any], *,
             page_size: int, max_page_restarts: int) -> Iterator[dict[str, Any]]:
    """Yield every item of a listing once; ``fetch(query)`` returns one page's checked body."""
    base = _query(params, page_size)
    where = label(path, base)
    yielded: set[Any] = set()
    current = _Pass(keys=yielded)  # the first pass shares the set: it yields everything it sees
    short: list[tuple[int, int]] = []
    restarts = fetched = 0
    token: str | None = None
    while True:
        query = dict(base, next_page_token=token) if token else dict(base)
        try:
            body = fetch(query)
        except ZoomApiError as exc:
            if (token and exc.status == 400 and exc.code == ZoomCode.PAGE_TOKEN_EXPIRED
                    and restarts < max_page_restarts):
                restarts += 1
                log.warning("Zoom GET %s: page token invalid or expired after %d items; restarting the listing "
                            "from page 1 (restart %d/%d), skipping items already seen",
                            where, len(yielded), restarts, max_page_restarts)
                current, token = _Pass(keys=set()), None
                continue
            raise
        fetched += 1
        current.pages += 1
        new_in_pass = 0
        for item in body[listing.items]:
            key = item_key(item, listing.keys)
            unseen = key not in yielded
            if key not in current.keys:
                new_in_pass += 1
                current.keys.add(key)
            if unseen:
                yielded.add(key)
                yield item
        current.saw_total(body.get("total_records"))
        if fetched % PROGRESS_EVERY_PAGES == 0:
            log.info("Zoom GET %s: %d items from %d pages so far", where, len(yielded), fetched)
        token = body.get("next_page_token") or None
        if token:
            _check_progress(current, token, new_in_pass, where)
            continue
        if listing.counted and current.smallest_total is not None and len(current.keys) < current.smallest_total:
            short.append((len(current.keys), current.smallest_total))
            if len(short) > RELISTS:
                raise ZoomIncompleteListing("GET", where, listed=tuple(n for n, _ in short),
                                            reported=tuple(t for _, t in short))
            log.warning("Zoom GET %s: the listing ended after %d distinct users but Zoom reported total_records=%d; "
                        "listing it again from the first page (users may have come and gone meanwhile)",
                        where, *short[-1])
            current = _Pass(keys=set())
            continue
        log.debug("Zoom GET %s: done, %d items from %d pages", where, len(yielded), fetched)
        return


def pages_by_number(fetch: Callable[[dict[str, Any]], Any],
                    fan_out: Callable[[Callable[[int], Any], Iterable[int]], Iterator[tuple[int, Any]]],
                    path: str, listing: Listing, params: Mapping[str, Any], *, page_size: int,
                    cursor: Callable[[], Iterator[dict[str, Any]]],
                    expected_pages: int = 1) -> Iterator[tuple[int | None, dict[str, Any]]]:
    """Every item of a listing once, its pages fetched side by side by ``page_number``, with the
    number of the page it was on (None for an item only the cursor found).

    A cursor's pages are sequential by nature: N pages cost N round trips however high the rate
    limit (95 s for the 947 pages of a 284,000-user account at 100 ms). By number, the pages go
    out together and cost about N / limit: the ``expected_pages`` the caller knows of (a count
    read earlier in the run) at once, then any more the first answer's ``page_count`` shows; with
    nothing known, page 1 first. A page asked beyond the count (users left meanwhile) answers an
    empty page. Zoom still serves ``page_number`` on ``GET /users``, but numbered pages are
    offsets: a user added or removed in front of a page while the listing runs moves others
    across page boundaries, so one can be listed twice or not at all. Each page reports
    ``total_records`` as Zoom counts when serving it, so when one page's count differs from the
    first answer's, or a page answers for another number than asked (Zoom no longer honouring
    ``page_number``), the listing is walked again with the cursor (``cursor()``,
    :func:`paginate`), yielding only items not yielded yet. What no count shows, as many users
    added as removed while the pages were read, is the cursor's own blind spot too.
    ``fan_out(fn, numbers)`` runs ``fn`` per page number concurrently, yielding
    ``(number, body or exception)``.
    """
    base = _query(params, page_size)
    where = label(path, base)
    yielded: set[Any] = set()
    first: dict[str, Any] = {}  # the first answer's count of pages and of items

    def page(number: int) -> Any:
        return fetch(dict(base, page_number=number))

    def unseen(items: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for item in items:
            key = item_key(item, listing.keys)
            if key not in yielded:
                yielded.add(key)
                yield item

    def pages(numbers: range) -> Iterator[tuple[int, dict[str, Any]]]:
        """The items of these pages as they come in; returns why the listing cannot be trusted."""
        why = None
        with closing(fan_out(page, numbers)) as bodies:  # closing ends the pages in flight
            for fetched, (number, body) in enumerate(bodies, start=numbers.start):
                if isinstance(body, Exception):
                    raise body
                count = body.get("page_count")
                if not _answers_for(body, number) or not isinstance(count, int):
                    return f"page {number} answered page_number={body.get('page_number')!r}, page_count={count!r}"
                for item in unseen(body[listing.items]):
                    yield number, item
                if not first:
                    first.update(number=number, count=count, total=body.get("total_records"))
                elif why is None and body.get("total_records") != first["total"]:
                    why = (f"page {number} counted {body.get('total_records')!r} users, "
                           f"page {first['number']} {first['total']!r}")
                if fetched % PROGRESS_EVERY_PAGES == 0:
                    log.info("Zoom GET %s: %d of %d pages by number", where, fetched, first["count"])
        return why

    asked = max(1, expected_pages)
    why = yield from pages(range(1, asked + 1))
    if why is None and first["count"] > asked:
        why = yield from pages(range(asked + 1, first["count"] + 1))
    if why is not None:
        log.warning("Zoom GET %s: pages by number cannot be trusted (%s); listing it again with the cursor, "
                    "skipping the %d items already seen", where, why, len(yielded))
        for item in unseen(cursor()):
            yield None, item


def some_pages(fetch: Callable[[dict[str, Any]], Any],
               fan_out: Callable[[Callable[[int], Any], Iterable[int]], Iterator[tuple[int, Any]]],
               listing: Listing, params: Mapping[str, Any], *, page_size: int,
               numbers: Iterable[int]) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """The items of the pages ``numbers`` only, side by side: reading again the users an earlier
    listing found on them. Pages are offsets, so a user may have moved to a neighbouring page
    since; the caller looks for it in the whole listing when its page no longer shows it. A page
    answering for another number than asked yields no items."""
    base = _query(params, page_size)
    with closing(fan_out(lambda number: fetch(dict(base, page_number=number)), numbers)) as bodies:
        for number, body in bodies:
            if isinstance(body, Exception):
                raise body
            yield number, list(body[listing.items]) if _answers_for(body, number) else []


def _query(params: Mapping[str, Any], page_size: int) -> dict[str, Any]:
    """A listing's query without its unset parameters, at ``page_size`` items a page."""
    return {**{k: v for k, v in params.items() if v is not None}, "page_size": page_size}


def _answers_for(body: Mapping[str, Any], number: int) -> bool:
    return str(body.get("page_number")) == str(number)


def _check_progress(current: _Pass, token: str, new_in_pass: int, where: str) -> None:
    """Raise before following ``token`` when the pass is going round in circles."""
    if token in current.tokens:
        raise ZoomPagingLoop("GET", where, f"page {current.pages} handed back a next_page_token this listing "
                             "had already followed", pages=current.pages, items=len(current.keys))
    current.stalled = 0 if new_in_pass else current.stalled + 1
    if current.stalled > MAX_STALLED_PAGES:
        raise ZoomPagingLoop("GET", where, f"{current.stalled} pages in a row brought nothing new yet pointed to "
                             "another page", pages=current.pages, items=len(current.keys))
    current.tokens.add(token)
