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
    """Before the writes the listing asks for all the pages this run's download counted in one go
    (one round trip, not page 1 first), and for no page more; after them only the page that showed
    the written user is read again."""
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
    assert asked == [("active", 2)]  # 4 active users in the warehouse, 3 a page
    assert [q[PAGE_NUMBERED] for q in _listing_requests(world)][-1:] == ["2"]
    assert sorted(q[PAGE_NUMBERED] for q in _listing_requests(world)) == ["1", "2", "2"]


def test_a_written_user_that_moved_off_its_page_is_confirmed_from_the_whole_listing(world):
    """Someone in front of the candidate leaves between its downgrade and the confirmation: page 2
    no longer shows it. The whole listing does, and the seat closes as reclaimed, neither taken for
    gone nor written again."""
    gone, user, cand, page_size = _first_of_page_two(world)

    def client():
        zoom = world.client(page_size=page_size)
        update = zoom.update_user

        def update_then_someone_leaves(user_id, body):
            update(user_id, body)
            world.account.delete_user(gone["email"])

        zoom.update_user = update_then_someone_leaves
        return zoom

    world.reclaim(client_factory=client)

    assert world.state(cand) == "closed_complete" and world.user(user)["type"] == 1
    assert [(a["status"], a["confirmation"]) for a in world.actions()] == [
        ("succeeded", "GET /users listing after the writes: type 1")]
    after_the_write = [q.get(PAGE_NUMBERED) for q in _listing_requests(world)][2:]
    assert after_the_write[0] == "2" and "1" in after_the_write[1:]


def test_the_budget_counts_the_pages_that_showed_the_seats_and_the_run_reads_no_more(world):
    """Seven users, three to a page; the two seats on page 1 are reclaimed, the add-on of a user on
    page 3 removed (its own settings read confirms it): the listing after the writes reads page 1
    alone, and that is what the budget counts."""
    users = [world.licensed(addons=("webinar",) if n == 6 else ()) for n in range(7)]
    order = [u.get("id") for u in world.account.users("active")]
    assert order.index(users[0]["id"]) < 3 and order.index(users[1]["id"]) < 3 and order.index(users[6]["id"]) == 6
    seats = [world.candidate(users[0]), world.candidate(users[1])]
    addon = world.candidate(users[6], "webinar")

    outcome = world.reclaim(client_factory=lambda: world.client(page_size=3))

    assert {world.state(c) for c in [*seats, addon]} == {"closed_complete"}
    listed = [q[PAGE_NUMBERED] for q in _listing_requests(world)]
    assert sorted(listed[:3]) == ["1", "2", "3"] and listed[3:] == ["1"]
    assert {cat: n for cat, n in outcome.api["calls"].items() if n} == outcome.minimal
    assert outcome.minimal["Medium"] == 3 + 2 * 3 + 4 + 1  # listing, seats, add-on, page 1 again
