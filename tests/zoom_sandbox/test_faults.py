"""Injected failures: what each kind does, and when it fires."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from zoom_sandbox import AccountConfig
from zoom_sandbox.faults import Faults

from tests.zoom_sandbox.sandbox_client import Client, config, token


def test_status_fault_answers_like_a_gateway_then_recovers(client, sandbox):
    sandbox.faults.add("status", status=503, count=2, path=r"/users$")
    for _ in range(2):
        r = client.get("/users")
        assert r.status_code == 503
        assert r.headers["Content-Type"].startswith("text/html")  # not Zoom JSON: clients must cope
    assert client.get("/users").status_code == 200
    assert [rec.status for rec in sandbox.log][-3:] == [503, 503, 200]


def test_status_500_is_json(client, sandbox):
    sandbox.faults.add("status", status=500, count=1)
    r = client.get("/users")
    assert r.status_code == 500 and r.json()["code"] == 500


def test_drop_closes_the_connection_without_an_answer(client, sandbox):
    sandbox.faults.add("drop", count=1)
    with pytest.raises(requests.ConnectionError):
        client.get("/users")
    assert client.get("/users").status_code == 200
    assert [rec.status for rec in sandbox.log][-2:] == [None, 200]


def test_slow_fault_delays_the_answer(client, sandbox):
    sandbox.faults.add("slow", delay_s=0.4, count=1)
    started = time.perf_counter()
    assert client.get("/users").status_code == 200
    assert time.perf_counter() - started >= 0.4
    with pytest.raises(requests.Timeout):
        sandbox.faults.add("slow", delay_s=0.5, count=1)
        client.session.get(f"{sandbox.base_url}/users", timeout=0.2)


def test_latency_applies_to_every_request_and_overlaps(make_sandbox):
    sb = make_sandbox(config(latency_ms=300))
    with ThreadPoolExecutor(4) as pool:
        clients = list(pool.map(lambda _: Client(sb), range(4)))
        started = time.perf_counter()
        assert list(pool.map(lambda c: c.get("/users").status_code, clients)) == [200] * 4
    elapsed = time.perf_counter() - started
    assert 0.3 <= elapsed < 1.0  # four requests of 300 ms each, served side by side


def test_burst_429_refuses_under_the_limit_and_costs_no_quota(client, sandbox):
    sandbox.faults.add("burst_429", count=2)
    refused = [client.get("/users") for _ in range(2)]
    assert [r.status_code for r in refused] == [429, 429]
    assert refused[0].headers["X-RateLimit-Category"] == "Medium"
    assert refused[0].headers["X-RateLimit-Type"] == "QPS"
    assert "Retry-After" in refused[0].headers
    assert client.get("/users").status_code == 200
    assert sandbox.log.max_per_second("Medium") == 1


def test_expire_tokens_revokes_every_current_token(sandbox):
    clients = [Client(sandbox), Client(sandbox)]
    sandbox.faults.add("expire_tokens", count=1)
    assert clients[0].get("/users").json()["code"] == 124
    assert clients[1].get("/users").status_code == 401
    assert Client(sandbox).get("/users").status_code == 200


def test_every_nth_match(client, sandbox):
    sandbox.faults.add("status", status=502, every=3)
    statuses = [client.get("/users").status_code for _ in range(9)]
    assert statuses == [200, 200, 502] * 3


def test_probability_is_seeded_and_repeatable(make_sandbox):
    def pattern(seed):
        sb = make_sandbox(config([AccountConfig(users=10)], fault_seed=seed))
        sb.faults.add("status", status=500, probability=0.3)
        client = Client(sb)
        return [client.get("/users").status_code for _ in range(40)]

    first = pattern(1)
    assert pattern(1) == first
    assert 3 <= first.count(500) <= 25
    assert pattern(2) != first


def test_faults_target_paths_methods_and_accounts(make_sandbox):
    sb = make_sandbox(config([AccountConfig(users=20), AccountConfig(account_id="b", client_id="cb", users=20)]))
    a, b = Client(sb), Client(sb, "b")
    sb.faults.add("status", status=503, account_id="b")
    assert a.get("/users").status_code == 200
    assert b.get("/users").status_code == 503
    sb.faults.clear()
    sb.faults.add("status", status=503, method="PATCH", path=r"/users/[^/]+$")
    uid = a.get("/users").json()["users"][1]["id"]
    assert a.get(f"/users/{uid}/settings").status_code == 200
    assert a.patch(f"/users/{uid}", {"type": 2}).status_code == 503


def test_token_endpoint_can_fail_too(sandbox):
    sandbox.faults.add("status", status=502, path="^/oauth/token$", count=1)
    acct = sandbox.config.account()
    r = requests.post(
        sandbox.oauth_url,
        data={"grant_type": "account_credentials", "account_id": acct.account_id},
        auth=(acct.client_id, acct.client_secret),
        timeout=10,
    )
    assert r.status_code == 502
    assert token(sandbox)


def test_repeat_page_token_hands_back_the_token_it_was_asked_with(client, sandbox):
    sandbox.faults.add("repeat_page_token", count=1, path=r"/users$")
    first = client.get("/users", page_size=100).json()  # page 1 carries no token: not a match
    token_ = first["next_page_token"]
    again = client.get("/users", page_size=100, next_page_token=token_).json()
    assert again["next_page_token"] == token_  # a naive client would ask for page 2 forever
    assert [u["id"] for u in again["users"]] != [u["id"] for u in first["users"]]
    onwards = client.get("/users", page_size=100, next_page_token=token_).json()
    assert onwards["next_page_token"] not in ("", token_)  # count=1: spent
    assert [(f["matched"], f["fired"]) for f in (f.describe() for f in sandbox.faults)] == [(1, 1)]


def test_stop_listing_ends_early_while_counting_everyone(client, sandbox):
    active = sandbox.account().total("active")
    sandbox.faults.add("stop_listing", every=2, count=1, path=r"/users$")  # the second page is "the last"
    users = client.pages("/users", "users", page_size=50)
    assert len(users) == 100 < active
    last = [rec for rec in sandbox.log if rec.path == "/v2/users"][-1]
    assert last.status == 200
    assert client.get("/users", page_size=50).json()["total_records"] == active
    assert len(client.pages("/users", "users", page_size=50)) == active  # spent: the next listing is whole


@pytest.mark.parametrize(
    ("shape", "path", "check"),
    [
        ("null", "/users", lambda r: r.content == b"null"),
        ("empty", "/users", lambda r: r.content == b""),
        ("list", "/users", lambda r: isinstance(r.json(), list) and "users" in r.json()[0]),
        ("html", "/users", lambda r: r.headers["Content-Type"].startswith("text/html")),
        ("strings", "/users", lambda r: r.json()["users"] and all(isinstance(u, str) for u in r.json()["users"])),
        ("missing", "/users/{uid}/settings", lambda r: "feature" not in r.json() and "recording" in r.json()),
    ],
)
def test_malformed_answers_are_200s_with_the_wrong_body(client, sandbox, shape, path, check):
    uid = next(sandbox.account().users("active"))["id"]
    sandbox.faults.add("malformed", shape=shape, count=1)
    r = client.get(path.format(uid=uid))
    assert r.status_code == 200 and check(r)
    assert client.get(path.format(uid=uid)).json()  # count=1: the next answer is whole again


def test_malformed_fires_only_on_answers_it_can_change(client, sandbox):
    sandbox.faults.add("malformed", shape="missing", count=1)  # field feature: only settings have it
    assert "total_records" in client.get("/users").json()
    assert client.get("/users/nobody@example.com/settings").status_code == 404  # errors are left alone
    uid = next(sandbox.account().users("active"))["id"]
    assert "feature" not in client.get(f"/users/{uid}/settings").json()
    (fault,) = sandbox.faults
    assert (fault.matched, fault.fired) == (1, 1)


def test_malformed_token_answer(sandbox):
    sandbox.faults.add("malformed", shape="missing", field="access_token", path="^/oauth/token$", count=1)
    acct = sandbox.config.account()
    r = requests.post(sandbox.oauth_url, data={"grant_type": "account_credentials", "account_id": acct.account_id},
                      auth=(acct.client_id, acct.client_secret), timeout=10)
    assert r.status_code == 200 and "access_token" not in r.json() and r.json()["expires_in"] == 3600
    assert token(sandbox)


@pytest.mark.parametrize(
    ("kind", "kw"),
    [("explode", {}), ("status", {"status": 404}), ("drop", {"delay_s": 1}), ("slow", {"probability": 2}), ("drop", {"every": 0}), ("drop", {"path": "(["}),
     ("malformed", {}), ("malformed", {"shape": "garbage"}), ("malformed", {"shape": "null", "field": "users"}),
     ("malformed", {"shape": "missing", "field": ""}), ("stop_listing", {"shape": "null"})],
)
def test_bad_fault_specs_are_refused(kind, kw):
    with pytest.raises(ValueError):
        Faults().add(kind, **kw)
