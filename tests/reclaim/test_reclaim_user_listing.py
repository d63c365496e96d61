"""Reclaim reads user records from the ``GET /users`` listing (the seven default scopes), its pages
side by side by number; when the account changes while they are read, a user they miss is found by
the cursor, never taken for gone."""
from __future__ import annotations

PAGE_NUMBERED = "page_number"


def _listing_requests(world) -> list[dict]:
    return [r.query for r in world.sb.log if r.method == "GET" and r.path == "/v2/users"]


def _first_of_page_two(world):
    """Three Licensed users and a candidate; the page size that makes the candidate open page 2."""
    first, *_ = [world.licensed() for _ in range(3)]
    user = world.licensed()
    cand = world.candidate(user)
    order = [u.get("id") for u in world.account.users("active")]
    return first, user, cand, order.index(user["id"])


def test_a_user_the_numbered_pages_miss_is_found_by_the_cursor_and_reclaimed(world):
    """A user removed from page 1 while the listing runs moves the candidate from page 2 onto page 1,
    already read; the pages' counts differ, and the cursor shows it. The seat is reclaimed and
    confirmed, not closed as gone."""
    gone, user, cand, page_size = _first_of_page_two(world)

    def client():
        zoom = world.client(page_size=page_size)
        numbered = zoom.list_users_by_page_number
        removed = []

        def listing(status="active", **_):
            users = numbered(status)  # page 1 alone first, so the removal falls between it and the others
            for n, record in enumerate(users):
                if n == 0 and not removed:  # page 1 is in; pages 2.. are not asked yet
                    world.account.delete_user(gone["email"])
                    removed.append(gone)
                yield record

        zoom.list_users_by_page_number = listing
        return zoom

    world.reclaim(client_factory=client)

    assert world.state(cand) == "closed_complete"
    assert world.user(user)["type"] == 1
    assert [a["status"] for a in world.actions()] == ["succeeded"]
    queries = _listing_requests(world)
    assert any(PAGE_NUMBERED not in q for q in queries), "the cursor was never asked for the missed user"


def test_when_the_account_holds_still_the_cursor_is_not_asked(world):
    _, user, cand, page_size = _first_of_page_two(world)

    world.reclaim(client_factory=lambda: world.client(page_size=page_size))

    assert world.state(cand) == "closed_complete" and world.user(user)["type"] == 1
    queries = _listing_requests(world)
    assert queries and all(PAGE_NUMBERED in q and "next_page_token" not in q for q in queries), queries


def test_the_listing_asks_at_once_for_the_pages_the_download_counted(world):
    """Before the writes and after them, the listing asks for all the pages this run's download
    counted in one go (one round trip, not page 1 first), and for no page more."""
    _, user, cand, page_size = _first_of_page_two(world)
    asked = []

    def client():
        zoom = world.client(page_size=page_size)
        numbered = zoom.list_users_by_page_number

        def listing(status="active", **kw):
            asked.append((status, kw.get("expected_pages")))
            return numbered(status, **kw)

        zoom.list_users_by_page_number = listing
        return zoom

    world.reclaim(client_factory=client)

    assert world.state(cand) == "closed_complete" and world.user(user)["type"] == 1
    assert asked == [("active", 2), ("active", 2)]  # 4 active users in the warehouse, 3 a page
    assert sorted(q[PAGE_NUMBERED] for q in _listing_requests(world)) == ["1", "1", "2", "2"]
