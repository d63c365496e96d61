"""Granular scopes: the default grant is the seven of the design; the rest must be asked for."""
from __future__ import annotations

import pytest

from zoom_sandbox import DEFAULT_SCOPES, AccountConfig

from tests.zoom_sandbox.sandbox_client import Client, config


def _a_user_id(client: Client) -> str:
    return client.get("/users").json()["users"][0]["id"]


@pytest.mark.parametrize(
    ("path", "scope"),
    [("/users/{uid}", "user:read:user:admin"), ("/report/users?from=2026-11-01&to=2026-11-27", "report:read:list_users:admin")],
)
def test_optional_endpoints_are_refused_under_the_default_grant(client, path, scope):
    r = client.request("GET", path.format(uid=_a_user_id(client)))
    assert r.status_code == 400
    assert r.json() == {"code": 4711, "message": f"Invalid access token, does not contain scopes:[{scope}]."}


def test_default_grant_covers_every_endpoint_the_processes_need(client):
    uid = _a_user_id(client)
    for path in ("/users", f"/users/{uid}/settings", f"/users/{uid}/meetings?type=previous_meetings"):
        assert client.request("GET", path).status_code == 200, path
    assert client.patch(f"/users/{uid}/settings", {"feature": {"large_meeting": False}}).status_code == 204


def test_granting_the_optional_scopes_opens_the_optional_endpoints(open_client):
    uid = _a_user_id(open_client)
    assert open_client.get(f"/users/{uid}").status_code == 200
    assert open_client.get("/report/users", **{"from": "2026-11-01", "to": "2026-11-27"}).status_code == 200


def test_each_endpoint_checks_its_own_scope(make_sandbox):
    scopes = tuple(s for s in DEFAULT_SCOPES if s != "meeting:read:list_meetings:admin")
    client = Client(make_sandbox(config([AccountConfig(users=20, scopes=scopes)])))
    uid = _a_user_id(client)
    r = client.get(f"/users/{uid}/meetings", type="previous_meetings")
    assert r.status_code == 400
    assert r.json()["code"] == 4711
    assert "meeting:read:list_meetings:admin" in r.json()["message"]
    assert client.get(f"/users/{uid}/settings").status_code == 200


def test_classic_scopes_still_grant_access(make_sandbox):
    client = Client(make_sandbox(config([AccountConfig(users=20, scopes=("user:read:admin",))])))
    uid = _a_user_id(client)
    assert client.get(f"/users/{uid}").status_code == 200
    assert client.patch(f"/users/{uid}", {"type": 1}).json()["code"] == 4711
