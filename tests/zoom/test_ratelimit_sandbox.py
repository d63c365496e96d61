"""Rate limiting measured by the sandbox: pacing under the limit, and 429 handling in all modes."""
from __future__ import annotations

import math
import threading
import time
from datetime import date

import pytest

from zoom_sam.zoom.errors import ZoomRateLimited
from zoom_sam.zoom.scopes import MINIMAL_SCOPES

from zoom_helpers import api_records


def test_concurrent_clients_never_exceed_the_limit_and_saturate_it(make_sandbox, client_for):
    """Two clients of one account, each fanning out on its own pool, 50 ms latency: the sandbox
    never counts more than 60 Medium requests in a second, answers no 429, and the run takes
    about calls / (60 * 0.95) seconds."""
    sb = make_sandbox(users=400, latency_ms=50, rate_limits={"Medium": 60})
    a = client_for(sb, extra={"rate_limits": {"Medium": 60}})
    b = client_for(sb, extra={"rate_limits": {"Medium": 60}})
    uids = [u["id"] for u in sb.account().users("active")][:150]
    results: dict[str, list] = {}

    def run(name, client):
        results[name] = list(client.map_concurrent(client.get_user_settings, uids))

    t0 = time.monotonic()
    threads = [threading.Thread(target=run, args=(n, c)) for n, c in (("a", a), ("b", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    calls = 2 * len(uids)
    assert all(not isinstance(r, Exception) for rs in results.values() for _, r in rs)
    assert sb.log.max_per_second("Medium") <= 60
    assert [r for r in api_records(sb) if r.status == 429] == []
    assert a.stats()["throttled_429"] == b.stats()["throttled_429"] == 0
    floor_s = (calls - 1) / (60 * 0.95)
    assert floor_s * 0.97 <= elapsed <= floor_s * 1.2 + 0.5, elapsed  # paced, yet saturated


@pytest.mark.parametrize("mode", ["iso", "seconds", "absent"])
def test_429_retry_after_pauses_the_whole_category(make_sandbox, client_for, mode):
    """The client is configured far above the account's real limit, so Zoom answers 429s. Every
    request still succeeds; after a 429 with a Retry-After, no request of that category leaves
    any thread until the pause is over."""
    sb = make_sandbox(users=200, retry_after=mode, rate_limits={"Medium": 20})
    client = client_for(sb, extra={"rate_limits": {"Medium": 400}}, max_429_retries=50)
    uids = [u["id"] for u in sb.account().users("active")][:40]
    out = list(client.map_concurrent(client.get_user_settings, uids, max_in_flight=8))
    assert all(not isinstance(r, Exception) for _, r in out), [r for _, r in out if isinstance(r, Exception)]
    recs = sorted(api_records(sb, "GET", "/settings$"), key=lambda r: r.ts)
    limited = [r for r in recs if r.status == 429]
    assert limited, "the test must provoke 429s"
    st = client.stats()
    assert st["throttled_429"] == len(limited) and st["errors"] == 0
    assert len([r for r in recs if r.status == 200]) == len(uids)
    assert sb.log.max_per_second("Medium") <= 20
    if mode != "absent":
        # the first 429 said: come back at the next second (iso) / in 1 s (seconds)
        first = limited[0]
        resume = math.floor(first.ts) + 1 if mode == "iso" else first.ts + 1
        quiet = [r for r in recs if first.ts + 0.1 < r.ts < resume - 0.05]
        assert quiet == [], f"{len(quiet)} requests during the pause"
    assert len(limited) < 4 * len(uids)  # paused limiter, not a retry storm


def test_daily_limit_raises_at_once(make_sandbox, client_for):
    sb = make_sandbox(scopes=tuple(MINIMAL_SCOPES | {"report:read:list_users:admin"}), heavy_daily_limit=1)
    client = client_for(sb)
    list(client.report_users("active", from_=date(2026, 11, 1), to=date(2026, 11, 27)))
    with pytest.raises(ZoomRateLimited) as ei:
        list(client.report_users("inactive", from_=date(2026, 11, 1), to=date(2026, 11, 27)))
    assert ei.value.limit_type == "Daily-limit" and ei.value.category == "Heavy"
    assert "daily" in str(ei.value).lower()
    assert [r.status for r in api_records(sb, "GET", "/report/users")][-1] == 429
    assert len(api_records(sb, "GET", "/report/users")) == 2  # no retry against a daily limit


def test_persistent_429_gives_up_with_rate_limited(sandbox, client_for):
    client = client_for(sandbox, max_429_retries=2)
    sandbox.faults.add("burst_429", path=r"^/v2/users$")
    with pytest.raises(ZoomRateLimited) as ei:
        next(client.list_users())
    assert ei.value.category == "Medium"
    assert len(api_records(sandbox, "GET", r"^/v2/users$")) == 3
