"""Unit tests of the Zoom client library pieces that need no server."""
from __future__ import annotations

from collections import deque

import itertools
import math
import pickle
import threading
from datetime import datetime, timezone

import pytest

from zoom_sam.zoom import endpoints, scopes
from zoom_sam.zoom.auth import AccessToken, authorize_endpoint, authorize_url, renewal_margin
from zoom_sam.zoom.answers import scopes_in_message
from zoom_sam.zoom.client import ZoomClient
from zoom_sam.zoom.config import DEFAULT_BASE_URL, ZoomConfig
from zoom_sam.zoom.concurrency import map_concurrent, read_ahead
from zoom_sam.zoom.errors import (
    ZoomApiError,
    ZoomAuthError,
    ZoomMissingScopes,
    ZoomNotFound,
    ZoomUncertainOutcome,
)
from zoom_sam.zoom.ratelimit import RateLimiter, backoff_delay, parse_retry_after, plan_limits
from zoom_sam.zoom.refresh_chain import ChainRecord


# ------------------------------------------------------------------------------------ scopes


def test_default_seven_scopes_allow_every_process():
    assert scopes.allowed_processes(scopes.MINIMAL_SCOPES) == scopes.PROCESSES
    assert scopes.missing_by_process(scopes.MINIMAL_SCOPES) == {}
    assert len(scopes.MINIMAL_SCOPES) == 7


def test_missing_scope_blocks_only_its_process():
    granted = scopes.MINIMAL_SCOPES - {"meeting:read:list_meetings:admin", "user:delete:user:admin"}
    assert scopes.allowed_processes(granted) == ("download_subscriptions",)
    assert scopes.missing_by_process(granted) == {
        "pull_activity": ("meeting:read:list_meetings:admin",),
        "reclaim": ("user:delete:user:admin",),
    }


def test_classic_scopes_cover_granular_ones():
    classic = {"user:read:admin", "meeting:read:admin", "webinar:read:admin"}
    assert scopes.allowed_processes(classic) == ("download_subscriptions", "pull_activity")
    assert scopes.has_scope(classic, "user:read:user:admin")
    assert not scopes.has_scope(classic, "report:read:list_users:admin")


def test_processes_needing_and_parse():
    assert scopes.processes_needing(["user:read:settings:admin"]) == {
        "download_subscriptions": ("user:read:settings:admin",)}
    assert scopes.processes_needing(["user:read:user:admin"]) == {}
    assert scopes.parse_scope_string("a:b:c  d:e:f\n") == frozenset({"a:b:c", "d:e:f"})
    assert scopes.parse_scope_string(None) == frozenset()


def test_scopes_named_in_zoom_message():
    assert scopes_in_message("Invalid access token, does not contain scopes:[meeting:read:list_meetings:admin].") \
        == ("meeting:read:list_meetings:admin",)
    assert scopes_in_message("does not contain scopes: [report:read:admin, user:read:admin].") \
        == ("report:read:admin", "user:read:admin")


# ------------------------------------------------------------------------------------ endpoints


@pytest.mark.parametrize("method,path,category,scope", [
    ("GET", "/users", "Medium", "user:read:list_users:admin"),
    ("GET", "/users/abc", "Light", "user:read:user:admin"),
    ("GET", "/users/a%40b.com/settings", "Medium", "user:read:settings:admin"),
    ("PATCH", "/users/abc/settings", "Medium", "user:update:settings:admin"),
    ("PATCH", "/users/abc", "Light", "user:update:user:admin"),
    ("DELETE", "/users/abc", "Light", "user:delete:user:admin"),
    ("GET", "/users/abc/meetings", "Medium", "meeting:read:list_meetings:admin"),
    ("GET", "/users/abc/webinars", "Medium", "webinar:read:list_webinars:admin"),
    ("GET", "/report/users", "Heavy", "report:read:list_users:admin"),
    ("get", "/users?status=active", "Medium", "user:read:list_users:admin"),
])
def test_endpoint_categories_and_scopes(method, path, category, scope):
    ep = endpoints.lookup(method, path)
    assert (ep.category, ep.scope) == (category, scope)


def test_unknown_endpoint_defaults_to_medium():
    assert endpoints.lookup("GET", "/accounts/x/whatever").category == "Medium"


# ------------------------------------------------------------------------------------ errors


def test_missing_scopes_error_names_scopes_and_processes():
    err = ZoomMissingScopes(status=400, code=4711, message="Invalid access token, does not contain scopes:[x].",
                            method="GET", path="/users/u1/meetings", missing=["meeting:read:list_meetings:admin"])
    text = str(err)
    assert "meeting:read:list_meetings:admin" in text and "pull_activity" in text and "4711" in text
    assert err.processes == {"pull_activity": ("meeting:read:list_meetings:admin",)}
    back = pickle.loads(pickle.dumps(err))
    assert isinstance(back, ZoomMissingScopes) and str(back) == text and back.missing == err.missing


def test_api_errors_carry_zoom_code_and_pickle():
    err = ZoomNotFound(404, 1001, "User does not exist: x.", "GET", "/users/x/settings")
    assert isinstance(err, ZoomApiError)
    assert "1001" in str(err) and "GET /users/x/settings" in str(err) and "404" in str(err)
    back = pickle.loads(pickle.dumps(err))
    assert (back.status, back.code, str(back)) == (404, 1001, str(err))
    auth = pickle.loads(pickle.dumps(ZoomAuthError("refused", status=400, reauthorize=True)))
    assert auth.reauthorize and not auth.retryable and "reauthorize" in str(auth)
    lost = pickle.loads(pickle.dumps(ZoomAuthError("lost", retryable=True, answer_lost=True)))
    assert lost.retryable and lost.answer_lost and str(lost) == "lost"
    unc = pickle.loads(pickle.dumps(ZoomUncertainOutcome("x", method="PATCH", path="/users/a")))
    assert unc.method == "PATCH"


# ------------------------------------------------------------------------------------ rate limiter


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.t += s


def test_limiter_spaces_requests_evenly_without_bursts():
    clock = FakeClock()
    lim = RateLimiter(10, safety=1.0, clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(50):
        lim.acquire()
        times.append(clock.t)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) == pytest.approx(0.1)
    # no fixed 1-second window holds more than the rate
    counts = {}
    for t in times:
        counts[int(t)] = counts.get(int(t), 0) + 1
    assert max(counts.values()) <= 10


def test_limiter_safety_margin_and_idle_does_not_bank_credit():
    clock = FakeClock()
    lim = RateLimiter(60, safety=0.95, clock=clock, sleep=clock.sleep)
    assert lim.effective_rate == pytest.approx(57)
    lim.acquire()
    clock.t += 10  # idle for 10 s: no burst afterwards
    start = clock.t
    for _ in range(57):
        lim.acquire()
    assert clock.t - start == pytest.approx(56 / 57, rel=1e-6)


def test_limiter_pause_holds_every_caller():
    clock = FakeClock()
    lim = RateLimiter(100, safety=1.0, clock=clock, sleep=clock.sleep)
    lim.acquire()
    lim.pause(2.0)
    t0 = clock.t
    lim.acquire()
    assert clock.t >= t0 + 2.0
    assert lim.paused_for == 0


def test_limiter_pause_during_sleep_requeues(monkeypatch):
    clock = FakeClock()
    lim = RateLimiter(1, safety=1.0, clock=clock)
    lim.acquire()  # next slot at +1 s

    def sleep(s):
        clock.t += s
        if clock.t < 1003:  # a 429 arrives while this caller sleeps
            lim.pause_until(1005.0)

    lim._sleep = sleep
    lim.acquire()
    assert clock.t >= 1005.0


def test_slowing_down_voids_the_slots_already_handed_out():
    """Another shard joined while this caller slept on a slot of the old pace: it leaves on the new one."""
    clock = FakeClock()
    lim = RateLimiter(10, safety=1.0, clock=clock)
    lim.acquire()
    released = [clock.t]

    def sleep(s):
        if lim.rate == 10:
            lim.set_rate(2)
        clock.t += s

    lim._sleep = sleep
    for _ in range(2):
        lim.acquire()
        released.append(clock.t)
    assert [round(t - released[0], 6) for t in released] == [0, 0.5, 1.0]


def test_the_release_log_outlives_a_change_of_rate():
    """Ten calls in the last second, then the limiter is slowed to 5/s: the next waits until only
    four of them are within a second of it, as the server's window counts them."""
    clock = FakeClock()
    lim = RateLimiter(10, safety=1.0, clock=clock, sleep=clock.sleep)
    for _ in range(10):
        lim.acquire()
    start = clock.t - 0.9
    lim.set_rate(5)
    lim.acquire()
    assert clock.t - start == pytest.approx(1.5)


def test_speeding_up_keeps_the_slots_handed_out():
    clock = FakeClock()
    lim = RateLimiter(2, safety=1.0, clock=clock, sleep=clock.sleep)
    lim.acquire()
    lim.acquire()
    lim.set_rate(4)
    lim.acquire()
    assert clock.t - 1000.0 == pytest.approx(0.5 + 0.5)


def test_limiter_threads_share_budget():
    lim = RateLimiter(200, safety=1.0)
    stamps = []
    lock = threading.Lock()

    def work():
        for _ in range(20):
            lim.acquire()
            with lock:
                stamps.append(__import__("time").monotonic())

    threads = [threading.Thread(target=work) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stamps.sort()
    assert stamps[-1] - stamps[0] >= 99 / 200 * 0.95  # 100 requests at 200/s take ~0.5 s


def test_limiter_caps_late_wakeups_in_any_sliding_second():
    """Threads that wake late must not leave bunched with the on-time ones: whatever the
    oversleeping, releases stay within floor(rate * safety) per sliding second."""
    import time as _time

    lim = RateLimiter(50, safety=1.0)
    n = {"sleeps": 0}
    lock = threading.Lock()

    def oversleep(s):  # every 3rd sleep wakes 0.15 s late (a busy machine)
        with lock:
            n["sleeps"] += 1
            late = n["sleeps"] % 3 == 0
        _time.sleep(s + (0.15 if late else 0.0))

    lim._sleep = oversleep
    releases = []

    class Recording(deque):
        """The limiter's own release log, so the check sees its decisions, not thread scheduling."""

        def append(self, t):
            releases.append(t)
            super().append(t)

    lim._released = Recording(maxlen=lim.window_cap)

    def work():
        for _ in range(12):
            lim.acquire()

    threads = [threading.Thread(target=work) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    releases.sort()
    worst = max(sum(1 for r in releases[i:] if r - releases[i] < 1.0) for i in range(len(releases)))
    assert worst <= 50


@pytest.mark.parametrize(("rate", "per_second"), [(15, 14.25), (60 / 7, 8), (10, 9.5), (60, 57)])
def test_limiter_sends_its_whole_pace_within_the_whole_limit(rate, per_second):
    """A fractional pace is kept on average, not rounded down to whole calls a second (a shard at
    a quarter of 57/s would send 14), yet no second ever holds more than the whole part of the
    limit, so shards of one account stay within it together whatever their phases (seven shards
    of 60/s: 8 each, not 8.14)."""
    clock = {"t": 1000.0}

    def sleep(s):
        clock["t"] += max(s, 1e-6)  # a real sleep always passes some time, whatever float rounding asked

    lim = RateLimiter(rate, name="Medium", clock=lambda: clock["t"], sleep=sleep)
    releases = []
    for _ in range(int(per_second * 40)):
        lim.acquire()
        releases.append(clock["t"])
    seconds = releases[-1] - releases[0]
    assert len(releases) / seconds == pytest.approx(per_second, rel=0.01)
    per_window: dict[int, int] = {}
    for t in releases:
        per_window[int(t)] = per_window.get(int(t), 0) + 1
    assert max(per_window.values()) <= int(rate)
    worst = max(sum(1 for r in releases[i:] if r - releases[i] < 1.0) for i in range(len(releases)))
    assert worst <= math.ceil(per_second)


def test_plan_limits():
    assert plan_limits("pro") == {"Light": 30, "Medium": 20, "Heavy": 10}
    assert plan_limits(None) == {"Light": 80, "Medium": 60, "Heavy": 40}
    assert plan_limits("business", {"medium": 5})["Medium"] == 5
    with pytest.raises(ValueError):
        plan_limits("gold")
    with pytest.raises(ValueError):
        plan_limits("pro", {"Ultra": 3})


def test_parse_retry_after_forms():
    now = datetime(2026, 11, 28, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("2026-11-28T12:00:03Z", now) == 3
    assert parse_retry_after("2026-11-28T12:00:01.500+00:00", now) == 1.5
    assert parse_retry_after("2", now) == 2
    assert parse_retry_after("Sat, 28 Nov 2026 12:00:04 GMT", now) == 4
    assert parse_retry_after("2026-11-28T11:59:00Z", now) == 0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None) is None and parse_retry_after("") is None


def test_backoff_is_bounded_with_jitter():
    import random

    rng = random.Random(1)
    vals = [backoff_delay(a, 0.5, 4.0, rng) for a in range(10)]
    assert all(0.25 <= v <= 4.0 for v in vals)
    assert vals[-1] >= 2.0  # capped at 4, jitter keeps at least half
    assert len(set(vals)) == len(vals)


# ------------------------------------------------------------------------------------ concurrency


def test_map_concurrent_bounded_lazy_and_yields_exceptions():
    pulled = 0
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def source():
        nonlocal pulled
        for i in itertools.count():
            pulled += 1
            yield i

    def fn(i):
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        try:
            if i % 7 == 3:
                raise ValueError(f"bad {i}")
            return i * 2
        finally:
            with lock:
                in_flight -= 1

    gen = map_concurrent(fn, source(), max_in_flight=4)
    got = list(itertools.islice(gen, 100))
    gen.close()
    assert peak <= 4
    assert pulled <= 100 + 4 + 1  # lazily consumed: never far ahead of the results
    errors = [(i, r) for i, r in got if isinstance(r, Exception)]
    assert errors and all(isinstance(r, ValueError) and i % 7 == 3 for i, r in errors)
    assert all(r == i * 2 for i, r in got if not isinstance(r, Exception))


def test_map_concurrent_yields_in_completion_order():
    release_a = threading.Event()

    def fn(x):
        if x == "a":
            assert release_a.wait(5)  # "a" finishes only after the caller has seen "b"
            return "A"
        return "B"

    out = []
    for item, result in map_concurrent(fn, ["a", "b"], max_in_flight=2):
        out.append((item, result))
        release_a.set()
    assert out == [("b", "B"), ("a", "A")]


def test_map_concurrent_memory_flat_for_many_items():
    count = sum(1 for _ in map_concurrent(lambda x: x, range(20_000), max_in_flight=8))
    assert count == 20_000


def test_read_ahead_lists_before_it_is_asked_but_never_more_than_its_bound():
    produced, reached = [], {n: threading.Event() for n in range(10)}

    def listing():
        for n in range(10):
            produced.append(n)
            reached[n].set()
            yield n

    items = read_ahead(listing(), ahead=3)
    assert next(items) == 0
    # Without another item taken, the producer gets the next three (and holds a fourth) ...
    assert reached[4].wait(timeout=10)
    # ... and no further: the buffer is full.
    assert not reached[6].is_set() and len(produced) <= 1 + 3 + 1
    assert list(items) == list(range(1, 10))


def test_read_ahead_raises_the_listings_error_where_it_happened():
    def listing():
        yield from (1, 2)
        raise ZoomApiError(400, 300, "Invalid next page token", "GET", "/users")

    items = read_ahead(listing(), ahead=5)
    assert [next(items), next(items)] == [1, 2]
    with pytest.raises(ZoomApiError, match="next page token"):
        next(items)


def test_closing_read_ahead_stops_its_listing():
    produced = []

    def listing():
        for n in itertools.count():
            produced.append(n)
            yield n

    items = read_ahead(listing(), ahead=2, thread_name="zoom-read-ahead-closed")
    assert [next(items) for _ in range(3)] == [0, 1, 2]
    items.close()
    assert not [t for t in threading.enumerate() if t.name == "zoom-read-ahead-closed"]
    assert len(produced) <= 3 + 2 + 2


# ------------------------------------------------------------------------------------ tokens


@pytest.mark.parametrize("lifetime,margin", [(3600, 60), (600, 60), (300, 30), (20, 2), (1, 0.1)])
def test_renewal_margin_is_a_tenth_of_the_lifetime_at_most_a_minute(lifetime, margin):
    assert renewal_margin(lifetime) == pytest.approx(margin)
    tok = AccessToken("t", 1000.0 + lifetime, lifetime=lifetime)
    assert tok.fresh(1000.0 + lifetime - margin - 0.01)
    assert not tok.fresh(1000.0 + lifetime - margin)


def test_chain_record_repr_hides_tokens():
    rec = ChainRecord("cid", "https://zoom.us/oauth/token", "the-refresh-token",
                      AccessToken("the-access-token", 1e9), seed_fp="abc")
    assert "the-refresh-token" not in repr(rec) and "the-access-token" not in repr(rec)


def test_refresh_grant_needs_a_chain_store():
    cfg = ZoomConfig(client_id="cid", client_secret="s", grant_type="refresh_token")
    with pytest.raises(ValueError, match="token chain store"):
        ZoomClient(cfg)


def test_authorize_url():
    url = authorize_url("cid", "http://localhost/cb", state="s1", base="http://127.0.0.1:1/oauth/authorize")
    assert url.startswith("http://127.0.0.1:1/oauth/authorize?") and "state=s1" in url and "client_id=cid" in url


def test_the_authorize_page_is_beside_the_token_endpoint():
    assert authorize_endpoint("https://zoom.us/oauth/token") == "https://zoom.us/oauth/authorize"
    assert authorize_endpoint("http://127.0.0.1:8765/oauth/token/") == "http://127.0.0.1:8765/oauth/authorize"


# ------------------------------------------------------------------------------------ config


def test_config_from_connection_defaults_and_overrides():
    cfg = ZoomConfig.from_connection_fields(host="", login="cid", password="s3cr3t-value",
                                            extra={"account_id": "acc"})
    assert cfg.base_url == DEFAULT_BASE_URL and cfg.oauth_url == "https://zoom.us/oauth/token"
    assert cfg.grant_type == "account_credentials" and cfg.limits["Light"] == 80
    assert "s3cr3t-value" not in repr(cfg)
    cfg = ZoomConfig.from_connection_fields(
        host="127.0.0.1:8080", login="cid", password="x",
        extra={"account_id": "acc", "plan": "pro", "rate_limits": '{"Heavy": 2}', "max_in_flight": "8",
               "timeout": 5})
    assert cfg.base_url == "https://127.0.0.1:8080/v2"
    assert cfg.limits == {"Light": 30, "Medium": 20, "Heavy": 2}
    assert (cfg.max_in_flight, cfg.timeout) == (8, 5.0)
    assert ZoomConfig.from_connection_fields(host="http://h/v2/", login="c", password="p",
                                             extra={"account_id": "a"}).base_url == "http://h/v2"


@pytest.mark.parametrize("extra,match", [
    ({}, "account_id"),
    ({"account_id": "a", "grant_type": "password"}, "grant_type"),
    ({"account_id": "a", "plan": "gold"}, "plan"),
    ({"account_id": "a", "rate_limits": {"Light": 0}}, "greater than 0"),
    ({"account_id": "a", "timeout": "soon"}, "timeout"),
])
def test_config_rejects_bad_connections(extra, match):
    with pytest.raises(ValueError, match=match):
        ZoomConfig.from_connection_fields(host="", login="c", password="p", extra=extra)


def test_reprs_are_secret_free():
    tok = AccessToken("eyJ-very-secret-token", 1e9, frozenset({"a:b:c"}))
    assert "eyJ" not in repr(tok) and "eyJ" not in str(tok)
    cfg = ZoomConfig(client_id="cid", client_secret="the-client-secret", account_id="acc",
                     refresh_token="the-refresh-token")
    client = ZoomClient(cfg)
    for text in (repr(cfg), repr(client), repr(client.auth), repr(client.auth.endpoint)):
        assert "the-client-secret" not in text and "the-refresh-token" not in text


def test_write_to_unreachable_server_is_retried_as_never_sent():
    """Connection refused: the write provably never reached Zoom, so it is retried, then transient."""
    import socket

    from zoom_sam.zoom.errors import ZoomTransientError

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now

    class StaticToken:
        def get_token(self):
            return AccessToken("t", 1e12)

        def invalidate(self, token):
            pass

    cfg = ZoomConfig(client_id="c", client_secret="s", account_id="unreachable", base_url=f"http://127.0.0.1:{port}",
                     max_retries=2, backoff_base=0.001, backoff_max=0.002)
    client = ZoomClient(cfg, token_provider=StaticToken())
    with pytest.raises(ZoomTransientError):
        client.update_user("u1", {"type": 1})
    st = client.stats()
    assert st["calls"]["Light"] == 3 and st["retries"] == 2 and st["errors"] == 1
