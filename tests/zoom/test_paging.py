"""Paging decisions on scripted pages: loops, completeness against total_records, re-lists, restarts.

Each case is a list of the pages Zoom answers, in order, so the churn a listing meets (users
added or removed between two pages) is written down page by page.
"""
from __future__ import annotations

import logging

import pytest

from zoom_sam.zoom import paging
from zoom_sam.zoom.errors import ZoomApiError, ZoomIncompleteListing, ZoomPagingLoop
from zoom_sam.zoom.shapes import LISTINGS

USERS = LISTINGS["list_users"]
MEETINGS = LISTINGS["list_meetings"]


def page(ids: str, total: int, token: str = "", key: str = "users") -> dict:
    """A page holding the users (or meetings) named by the letters of ``ids``."""
    field = "id" if key == "users" else "uuid"
    return {key: [{field: i, "email": f"{i}@example.com", "type": 2} for i in ids],
            "total_records": total, "next_page_token": token}


class Zoom:
    """Answers the scripted pages one after another and records what was asked."""

    def __init__(self, *pages):
        self.pages = list(pages)
        self.queries: list[dict] = []

    def fetch(self, query: dict):
        self.queries.append(query)
        answer = self.pages[len(self.queries) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def listing(self, listing=USERS, path="/users"):
        return paging.paginate(self.fetch, path, listing, {"status": "active"}, page_size=2, max_page_restarts=1)

    def ids(self, listing=USERS, path="/users") -> str:
        key = "id" if listing is USERS else "uuid"
        return "".join(item[key] for item in self.listing(listing, path))

    def tokens(self) -> list[str | None]:
        return [q.get("next_page_token") for q in self.queries]


def test_a_repeated_page_token_stops_before_it_is_followed_again():
    zoom = Zoom(page("ab", 6, "t1"), page("cd", 6, "t1"))
    got = []
    with pytest.raises(ZoomPagingLoop, match=r"GET /users\?status=active: page loop: page 2 handed back"):
        got.extend(zoom.listing())
    assert "".join(u["id"] for u in got) == "abcd" and zoom.tokens() == [None, "t1"]


def test_a_token_cycle_is_a_loop_too():
    zoom = Zoom(page("ab", 6, "t1"), page("cd", 6, "t2"), page("ab", 6, "t1"))
    with pytest.raises(ZoomPagingLoop) as caught:
        zoom.ids()
    assert len(zoom.queries) == 3 and (caught.value.pages, caught.value.items) == (3, 4)


def test_fresh_tokens_that_bring_nothing_new_are_a_loop_after_a_few_pages():
    zoom = Zoom(page("ab", 6, "t1"), *(page("ab", 6, f"t{n}") for n in range(2, 9)))
    with pytest.raises(ZoomPagingLoop, match="3 pages in a row brought nothing new"):
        zoom.ids()
    assert len(zoom.queries) == 1 + paging.MAX_STALLED_PAGES + 1


def test_an_empty_page_in_the_middle_is_not_a_loop():
    zoom = Zoom(page("ab", 3, "t1"), page("", 3, "t2"), page("c", 3))
    assert zoom.ids() == "abc"


def test_a_short_listing_is_listed_again_from_the_first_page(caplog):
    zoom = Zoom(page("ab", 5, "t1"), page("c", 5),  # stops early: 3 of 5
                page("ab", 5, "t1"), page("cd", 5, "t2"), page("e", 5))
    with caplog.at_level(logging.WARNING):
        assert zoom.ids() == "abcde"  # each user once
    assert zoom.tokens() == [None, "t1", None, "t1", "t2"]
    assert "ended after 3 distinct users but Zoom reported total_records=5" in caplog.text


def test_short_twice_is_an_incomplete_listing_naming_the_status_and_counts():
    zoom = Zoom(page("ab", 5, "t1"), page("c", 5), page("ab", 5, "t1"), page("cd", 5))
    with pytest.raises(ZoomIncompleteListing) as caught:
        zoom.ids()
    assert (caught.value.listed, caught.value.reported) == ((3, 4), (5, 5))
    assert str(caught.value).startswith("GET /users?status=active: incomplete listing")
    assert "(3 of 5; 4 of 5)" in str(caught.value)


def test_users_added_or_removed_mid_listing_agree_without_a_relist():
    added_and_listed = Zoom(page("ab", 4, "t1"), page("cd", 5, "t2"), page("e", 5))
    assert added_and_listed.ids() == "abcde"
    added_where_already_listed = Zoom(page("ab", 4, "t1"), page("cd", 5))
    assert added_where_already_listed.ids() == "abcd"
    removed_before_listed = Zoom(page("ab", 5, "t1"), page("de", 4))
    assert removed_before_listed.ids() == "abde"
    removed_after_listed = Zoom(page("ab", 5, "t1"), page("cd", 4, "t2"), page("", 4))
    assert removed_after_listed.ids() == "abcd"
    assert all(len(z.queries) == n for z, n in ((added_and_listed, 3), (added_where_already_listed, 2),
                                                (removed_before_listed, 2), (removed_after_listed, 3)))


def test_a_user_added_then_one_removed_comes_up_short_and_the_relist_agrees():
    """a b c d; x is added where the pass has been (not listed), then d is removed before it is
    reached: 3 users listed, never fewer than 4 counted. The re-list sees all four and adds x."""
    zoom = Zoom(page("ab", 4, "t1"), page("c", 4),
                page("ax", 4, "t1"), page("bc", 4))
    assert zoom.ids() == "abcx"


def test_only_counted_listings_are_held_to_total_records():
    zoom = Zoom(page("ab", 5, "t1", key="meetings"), page("c", 5, key="meetings"))
    assert zoom.ids(MEETINGS, "/users/u1/meetings") == "abc"


def test_an_expired_page_token_restarts_without_duplicates_and_counts_the_new_pass():
    expired = ZoomApiError(400, 300, "The next page token is invalid or expired.", "GET", "/users")
    zoom = Zoom(page("ab", 4, "t1"), expired, page("ab", 4, "t1"), page("cd", 4))
    assert zoom.ids() == "abcd"
    assert zoom.tokens() == [None, "t1", None, "t1"]


class Numbered:
    """Answers ``page_number`` queries from a list of pages (page 1 first) and records the numbers
    asked; ``cursor`` is what the cursor listing yields when the numbered pages cannot be trusted."""

    def __init__(self, *pages, answers_for=None, cursor=""):
        self.pages = pages
        self.answers_for = answers_for or (lambda n: n)
        self.asked: list[int] = []
        self.cursor = cursor
        self.cursor_walked = False
        self.batches: list[list[int]] = []  # the page numbers sent out together

    def fetch(self, query: dict):
        assert "next_page_token" not in query and query["page_size"] == 2
        number = query["page_number"]
        self.asked.append(number)
        if number > len(self.pages):  # beyond the count, as Zoom answers it: an empty page
            return {**page("", self.pages[0]["total_records"]), "page_number": number, "page_count": len(self.pages)}
        answer = self.pages[number - 1]
        if isinstance(answer, Exception):
            raise answer
        return {**answer, "page_number": self.answers_for(number), "page_count": len(self.pages)}

    def walk_cursor(self):
        self.cursor_walked = True
        return iter(page(self.cursor, len(self.cursor))["users"])

    def in_turn(self, fn, numbers):
        self.batches.append(list(numbers))
        for n in numbers:
            try:
                yield n, fn(n)
            except Exception as exc:  # noqa: BLE001 - yielded, as the fan-out does
                yield n, exc

    def numbered(self, expected_pages: int = 1) -> list[tuple[int | None, str]]:
        items = paging.pages_by_number(self.fetch, self.in_turn, "/users", USERS, {"status": "active"}, page_size=2,
                                       cursor=self.walk_cursor, expected_pages=expected_pages)
        return [(number, u["id"]) for number, u in items]

    def ids(self, expected_pages: int = 1) -> str:
        return "".join(uid for _, uid in self.numbered(expected_pages))

    def some(self, numbers) -> list[tuple[int, str]]:
        pages = paging.some_pages(self.fetch, self.in_turn, USERS, {"status": "active"}, page_size=2, numbers=numbers)
        return [(number, "".join(u["id"] for u in users)) for number, users in pages]


def test_pages_by_number_asks_each_page_once_and_leaves_the_cursor_alone():
    zoom = Numbered(page("ab", 5, "t1"), page("cd", 5, "t2"), page("e", 5))
    assert zoom.ids() == "abcde"
    assert sorted(zoom.asked) == [1, 2, 3] and not zoom.cursor_walked


def test_pages_by_number_ask_page_one_alone_when_nothing_tells_how_many_there_are():
    zoom = Numbered(page("ab", 5, "t1"), page("cd", 5, "t2"), page("e", 5))
    assert zoom.ids() == "abcde"
    assert zoom.batches == [[1], [2, 3]]


@pytest.mark.parametrize(("expected", "batches"), [
    (3, [[1, 2, 3]]),        # the count read earlier in the run still holds: one round trip
    (2, [[1, 2], [3]]),      # users joined since: the pages the first answers show are asked after
    (4, [[1, 2, 3, 4]]),     # users left since: the page beyond answers empty, nothing is lost
])
def test_pages_by_number_ask_the_pages_expected_at_once_and_then_what_the_count_shows(expected, batches):
    zoom = Numbered(page("ab", 5, "t1"), page("cd", 5, "t2"), page("e", 5))
    assert zoom.ids(expected_pages=expected) == "abcde"
    assert zoom.batches == batches and sorted(zoom.asked) == sorted(n for b in batches for n in b)
    assert not zoom.cursor_walked


def test_a_count_that_changed_between_numbered_pages_sends_the_listing_to_the_cursor(caplog):
    """b was removed after page 1: c slid onto page 1, already read, and page 2 starts at d. The
    counts tell (5, then 4); the cursor lists c, and nothing twice."""
    zoom = Numbered(page("ab", 5, "t1"), page("de", 4, "t2"), page("f", 4), cursor="acdef")
    with caplog.at_level(logging.WARNING, logger="zoom_sam.zoom.paging"):
        assert zoom.numbered() == [(1, "a"), (1, "b"), (2, "d"), (2, "e"), (3, "f"), (None, "c")]
    assert zoom.cursor_walked and "page 2 counted 4 users, page 1 5" in caplog.text


def test_some_pages_read_only_the_pages_asked_together_and_nothing_from_a_page_answering_for_another():
    zoom = Numbered(page("ab", 5, "t1"), page("cd", 5, "t2"), page("e", 5))
    assert zoom.some([1, 3]) == [(1, "ab"), (3, "e")]
    assert zoom.batches == [[1, 3]] and not zoom.cursor_walked
    ignoring = Numbered(page("ab", 5, "t1"), page("cd", 5, "t2"), page("e", 5), answers_for=lambda n: 1)
    assert ignoring.some([1, 2]) == [(1, "ab"), (2, "")]


def test_pages_by_number_go_to_the_cursor_when_zoom_ignores_the_number(caplog):
    zoom = Numbered(page("ab", 5, "t1"), page("cd", 5, "t2"), page("e", 5), answers_for=lambda n: 1,
                    cursor="abcde")
    with caplog.at_level(logging.WARNING, logger="zoom_sam.zoom.paging"):
        assert zoom.ids() == "abcde"
    assert "page 2 answered page_number=1" in caplog.text and zoom.cursor_walked


def test_a_numbered_page_that_fails_fails_the_listing():
    zoom = Numbered(page("ab", 5, "t1"), ZoomApiError(404, 1001, "User does not exist.", "GET", "/users"), page("e", 5))
    with pytest.raises(ZoomApiError):
        zoom.ids()
