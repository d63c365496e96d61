"""HTTP plumbing clients rely on: keep-alive, bodies, unknown paths, clean shutdown."""
from __future__ import annotations

import http.client
import json

import pytest
import requests

from zoom_sandbox import SandboxServer

from tests.zoom_sandbox.sandbox_client import Client, config, token


def test_connections_are_kept_alive(sandbox):
    conn = http.client.HTTPConnection(sandbox.host, sandbox.port, timeout=10)
    headers = {"Authorization": f"Bearer {token(sandbox)}"}
    conn.request("GET", "/v2/users?page_size=1", headers=headers)
    first = conn.getresponse()
    json.loads(first.read())
    sock = conn.sock
    conn.request("PATCH", "/v2/users/nobody", body=b'{"type": 1}', headers=headers)
    second = conn.getresponse()
    assert second.status == 404 and json.loads(second.read())["code"] == 1001
    assert conn.sock is sock  # the same connection served both
    conn.close()


def test_chunked_bodies_are_refused_clearly(sandbox):
    r = requests.patch(
        f"{sandbox.base_url}/users/nobody",
        data=iter([b'{"type": 1}']),  # a generator body makes requests send it chunked
        headers={"Authorization": f"Bearer {token(sandbox)}"},
        timeout=10,
    )
    assert r.status_code == 411


def test_unknown_api_path_is_404_after_authentication(client, sandbox):
    assert client.get("/accounts").status_code == 404
    assert requests.get(f"{sandbox.base_url}/accounts", timeout=10).status_code == 401


def test_stop_frees_the_port_and_idle_connections():
    sb = SandboxServer(config()).start()
    client = Client(sb)
    assert client.get("/users").status_code == 200  # leaves an idle keep-alive connection
    sb.stop()
    with pytest.raises(requests.ConnectionError):
        client.get("/users")
    SandboxServer(config(), port=sb.port).stop()  # the port can be bound again


def test_defaults_give_the_documented_account():
    with SandboxServer() as sb:
        acct = sb.config.account()
        assert (acct.account_id, acct.client_id, acct.users, acct.plan) == ("sandbox-account", "sandbox-client", 500, "business")
        assert sb.config.anchor.time().isoformat() == "00:00:00"
        assert sb.base_url == f"http://127.0.0.1:{sb.port}/v2"
        body = Client(sb).get("/users", status="pending", page_size=300).json()
        assert body["total_records"] == sb.account().total("pending") > 0
