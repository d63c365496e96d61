"""/_sandbox control endpoints, for a sandbox running in another process, and connection JSON."""
from __future__ import annotations

import json

import requests

from zoom_sandbox import AccountConfig

from tests.zoom_sandbox.sandbox_client import Client, config


def _control(sb, method, path, **kw):
    return requests.request(method, f"{sb.root_url}/_sandbox/{path}", timeout=10, **kw)


def test_stats_count_calls_and_429s_per_account_and_category(make_sandbox):
    sb = make_sandbox(config([AccountConfig(users=20, rate_limits={"Medium": 2})]))
    client = Client(sb)
    statuses = [client.get("/users").status_code for _ in range(10)]
    stats = _control(sb, "GET", "stats").json()
    medium = stats["accounts"]["sandbox-account"]["Medium"]
    assert medium["calls"] == 10
    assert medium["rate_limited"] == statuses.count(429) > 0
    assert medium["max_per_second"] == 2
    assert _control(sb, "POST", "reset-stats").status_code == 200
    assert _control(sb, "GET", "stats").json()["accounts"] == {}
    assert len(sb.log) == 0


def test_control_requests_are_not_logged_limited_or_faulted(sandbox):
    sandbox.faults.add("status", status=503)
    assert _control(sandbox, "GET", "stats").status_code == 200
    assert len(sandbox.log) == 0


def test_clock_advance(sandbox):
    client = Client(sandbox)
    r = _control(sandbox, "POST", "clock/advance", params={"seconds": 3601})
    assert r.json()["now"].startswith("2026-11-28T01:00")
    assert client.get("/users").status_code == 401
    assert _control(sandbox, "POST", "clock/advance", params={"seconds": "soon"}).status_code == 400


def test_faults_over_http(sandbox):
    client = Client(sandbox)
    r = _control(sandbox, "POST", "faults", json=[{"kind": "status", "status": 504, "count": 1}, {"kind": "burst_429", "count": 1}])
    assert r.status_code == 200 and len(r.json()["faults"]) == 2
    assert client.get("/users").status_code == 504
    assert client.get("/users").status_code == 429
    assert client.get("/users").status_code == 200
    fired = {f["kind"]: f["fired"] for f in _control(sandbox, "GET", "faults").json()["faults"]}
    assert fired == {"status": 1, "burst_429": 1}
    assert _control(sandbox, "POST", "faults", json={"kind": "meteor"}).status_code == 400
    assert _control(sandbox, "DELETE", "faults").json() == {"faults": []}


def test_answer_faults_over_http(sandbox):
    client = Client(sandbox)
    uid = next(sandbox.account().users("active"))["id"]
    spec = {"kind": "malformed", "shape": "missing", "field": "feature", "path": "/settings$", "count": 1}
    (described,) = _control(sandbox, "POST", "faults", json=spec).json()["faults"]
    assert (described["shape"], described["field"], described["fired"]) == ("missing", "feature", 0)
    assert "feature" not in client.get(f"/users/{uid}/settings").json()
    assert "feature" in client.get(f"/users/{uid}/settings").json()
    assert _control(sandbox, "POST", "faults", json={"kind": "malformed", "shape": "soup"}).status_code == 400


def test_connection_json_is_an_airflow_zoom_connection(sandbox):
    conn = json.loads(sandbox.connection_json(pool="zoom"))
    assert conn == {
        "conn_type": "zoom",
        "host": sandbox.base_url,
        "login": "sandbox-client",
        "password": "sandbox-secret",
        "extra": {"account_id": "sandbox-account", "oauth_url": sandbox.oauth_url, "grant_type": "account_credentials", "pool": "zoom"},
    }
    assert _control(sandbox, "GET", "connection").json() == json.loads(sandbox.connection_json())
    assert _control(sandbox, "GET", "connection", params={"account_id": "nope"}).status_code == 404


def test_pace_sets_latency_and_limits_of_a_running_sandbox(make_sandbox):
    sb = make_sandbox(config([AccountConfig(users=20, rate_limits={"Medium": 1000})]))
    client = Client(sb)
    assert [client.get("/users").status_code for _ in range(5)] == [200] * 5
    r = _control(sb, "POST", "pace", json={"latency_ms": 0, "rate_limits": {"Medium": 2}})
    assert r.json() == {"latency_ms": 0, "limits": {"sandbox-account": {"Light": 80, "Medium": 2, "Heavy": 40}}}
    assert [client.get("/users").status_code for _ in range(4)].count(429) >= 1
    r = _control(sb, "POST", "pace", json={"latency_ms": 250, "rate_limits": None})
    assert r.json()["latency_ms"] == 250 and r.json()["limits"]["sandbox-account"]["Medium"] == 60
    assert sb.account().config.limit("Medium") == 60
    assert _control(sb, "POST", "pace", json={"rate_limits": None}).status_code == 400
