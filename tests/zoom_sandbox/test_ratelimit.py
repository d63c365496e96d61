"""Per-account, per-category rate limits with Zoom's 429 body and headers."""
from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from zoom_sandbox import AccountConfig
from zoom_sandbox.ratelimit import QPS_MESSAGE

from tests.zoom_sandbox.sandbox_client import ALL_SCOPES, Client, config


def _until_429(client: Client, path: str = "/users", attempts: int = 50, **params):
    for _ in range(attempts):
        r = client.get(path, **params)
        if r.status_code == 429:
            return r
        assert r.status_code == 200, r.text
    raise AssertionError(f"no 429 in {attempts} requests")


def _tight(make_sandbox, retry_after="iso", **limits):
    return make_sandbox(config([AccountConfig(users=50, scopes=ALL_SCOPES, rate_limits=limits)], retry_after=retry_after))


def test_over_the_limit_is_429_with_zoom_headers(make_sandbox):
    sb = _tight(make_sandbox, Medium=3)
    r = _until_429(Client(sb))
    assert r.json() == {"code": 429, "message": QPS_MESSAGE}
    assert r.headers["X-RateLimit-Category"] == "Medium"
    assert r.headers["X-RateLimit-Type"] == "QPS"
    assert r.headers["X-RateLimit-Limit"] == "3"
    assert r.headers["X-RateLimit-Remaining"] == "0"
    retry_at = datetime.fromisoformat(r.headers["Retry-After"].replace("Z", "+00:00")).timestamp()
    refused = sb.log[-1]
    assert refused.status == 429
    assert retry_at == math.floor(refused.ts) + 1  # the start of the next one-second window


def test_refused_requests_cost_no_quota(make_sandbox):
    sb = _tight(make_sandbox, Medium=3)
    _until_429(Client(sb))
    assert sb.log.max_per_second("Medium") == 3
    assert sb.log.max_per_second("Medium", "sandbox-account") == 3
    assert sb.log.max_per_second("Light") == 0


def test_retry_after_in_seconds_or_absent(make_sandbox):
    assert _until_429(Client(_tight(make_sandbox, "seconds", Medium=2))).headers["Retry-After"] == "1"
    r = _until_429(Client(_tight(make_sandbox, "absent", Medium=2)))
    assert "Retry-After" not in r.headers
    assert r.headers["X-RateLimit-Type"] == "QPS"


def test_successful_responses_carry_the_budget(client):
    r = client.get("/users")
    assert r.headers["X-RateLimit-Limit"] == "60"  # Business, Medium
    assert 0 <= int(r.headers["X-RateLimit-Remaining"]) < 60


def test_plan_sets_the_limits(make_sandbox):
    client = Client(make_sandbox(config([AccountConfig(users=20, plan="pro", scopes=ALL_SCOPES)])))
    uid = client.get("/users").json()["users"][0]["id"]
    assert client.get("/users").headers["X-RateLimit-Limit"] == "20"
    assert client.get(f"/users/{uid}").headers["X-RateLimit-Limit"] == "30"
    report = client.get("/report/users", **{"from": "2026-11-01", "to": "2026-11-27"})
    assert report.headers["X-RateLimit-Limit"] == "10"


def test_categories_and_accounts_have_separate_budgets(make_sandbox):
    other = AccountConfig(account_id="other", client_id="other-client", users=20, rate_limits={"Medium": 3})
    sb = make_sandbox(config([AccountConfig(users=20, scopes=ALL_SCOPES, rate_limits={"Medium": 3}), other]))
    client = Client(sb)
    uid = client.get("/users").json()["users"][0]["id"]
    _until_429(client)
    assert client.get(f"/users/{uid}").status_code == 200  # Light is untouched
    assert Client(sb, "other").get("/users").status_code == 200  # so is the other account


def test_concurrent_clients_never_get_more_than_the_limit(make_sandbox):
    sb = _tight(make_sandbox, Medium=5)
    clients = [Client(sb) for _ in range(6)]

    def hammer(client):
        return [client.get("/users").status_code for _ in range(40)]

    with ThreadPoolExecutor(len(clients)) as pool:
        statuses = [s for result in pool.map(hammer, clients) for s in result]
    assert set(statuses) == {200, 429}
    assert sb.log.max_per_second("Medium") <= 5
    stats = sb.log.stats()["sandbox-account"]["Medium"]
    assert stats["calls"] == 240 and stats["rate_limited"] == statuses.count(429)


def test_daily_heavy_budget(make_sandbox):
    sb = make_sandbox(config([AccountConfig(users=20, scopes=ALL_SCOPES, heavy_daily_limit=2)]))
    window = {"from": "2026-11-01", "to": "2026-11-27"}
    client = Client(sb)
    assert [client.get("/report/users", **window).status_code for _ in range(2)] == [200, 200]
    r = client.get("/report/users", **window)
    assert r.status_code == 429
    assert r.headers["X-RateLimit-Type"] == "Daily-limit"
    assert r.headers["Retry-After"] == "2026-11-29T00:00:00Z"  # the next sandbox midnight
    assert client.get("/users").status_code == 200  # other categories carry on
    sb.clock.advance(24 * 3600)
    assert Client(sb).get("/report/users", **window).status_code == 200
