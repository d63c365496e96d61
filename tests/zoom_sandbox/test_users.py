"""GET /users paging and the /users/{userId} family's addressing and 404s."""
from __future__ import annotations

from urllib.parse import quote

import pytest

from zoom_sandbox import AccountConfig

from tests.zoom_sandbox.sandbox_client import Client, config


def test_envelope_and_default_page_size(client, sandbox):
    body = client.get("/users").json()
    total = sandbox.account().total("active")
    assert body["page_size"] == 30
    assert body["page_number"] == 1
    assert body["total_records"] == total
    assert body["page_count"] == -(-total // 30)
    assert len(body["users"]) == 30
    assert body["next_page_token"]


def test_page_size_is_capped_at_300(make_sandbox):
    sb = make_sandbox(config([AccountConfig(users=400)]))
    body = Client(sb).get("/users", page_size=1000).json()
    assert body["page_size"] == 300
    assert len(body["users"]) == 300
    assert body["total_records"] == sb.account().total("active") > 300
    assert body["next_page_token"]


@pytest.mark.parametrize("size", ["0", "-3", "lots"])
def test_nonsense_page_size_is_a_validation_error(client, size):
    r = client.get("/users", page_size=size)
    assert r.status_code == 400
    assert r.json()["code"] == 300


def test_paging_walks_every_user_of_each_status_once(open_client, open_sandbox):
    seen = {}
    for status in ("active", "inactive", "pending"):
        users = open_client.pages("/users", "users", status=status, page_size=7)
        assert all(u["status"] == status for u in users)
        assert len(users) == open_sandbox.account().total(status)
        seen[status] = users
    emails = [u["email"] for users in seen.values() for u in users]
    assert len(emails) == len(set(emails)) == 300
    assert seen["pending"] and all("id" not in u for u in seen["pending"])
    assert all(u["id"] for u in seen["active"] + seen["inactive"])


def test_page_numbers_follow_the_tokens(client):
    first = client.get("/users", page_size=10).json()
    second = client.get("/users", page_size=10, next_page_token=first["next_page_token"]).json()
    assert second["page_number"] == 2
    assert {u["id"] for u in first["users"]}.isdisjoint(u["id"] for u in second["users"])


def test_deprecated_page_number_paging_still_works(client):
    by_token = client.pages("/users", "users", page_size=10)
    first = client.get("/users", page_size=10).json()
    by_number = [u for n in range(1, first["page_count"] + 1) for u in client.get("/users", page_size=10, page_number=n).json()["users"]]
    assert by_number == by_token
    assert client.get("/users", page_size=10, page_number=2).json()["page_number"] == 2
    assert client.get("/users", page_number="0").json()["code"] == 300


def test_page_token_expires_after_15_minutes(client, sandbox):
    token = client.get("/users", page_size=10).json()["next_page_token"]
    sandbox.clock.advance(14 * 60)
    assert client.get("/users", page_size=10, next_page_token=token).status_code == 200
    sandbox.clock.advance(61)
    r = client.get("/users", page_size=10, next_page_token=token)
    assert r.status_code == 400
    assert r.json() == {"code": 300, "message": "The next page token is invalid or expired."}


@pytest.mark.parametrize(
    "other_query", [{"status": "inactive", "page_size": 10}, {"page_size": 20}, {"status": "active", "page_size": 10, "x": "1"}]
)
def test_page_token_is_bound_to_its_query(client, other_query):
    token = client.get("/users", status="active", page_size=10).json()["next_page_token"]
    r = client.get("/users", next_page_token=token, **other_query)
    assert r.status_code == 400
    assert r.json()["code"] == 300


def test_page_token_of_another_account_is_refused(make_sandbox):
    sb = make_sandbox(config([AccountConfig(users=50), AccountConfig(account_id="b", client_id="cb", users=50)]))
    token = Client(sb).get("/users", page_size=5).json()["next_page_token"]
    assert Client(sb, "b").get("/users", page_size=5, next_page_token=token).status_code == 400


def test_forged_page_token_is_refused(client):
    token = client.get("/users", page_size=10).json()["next_page_token"]
    forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    assert client.get("/users", page_size=10, next_page_token=forged).status_code == 400


def test_deleting_a_user_between_pages_neither_repeats_nor_skips(client, sandbox):
    first = client.get("/users", page_size=10).json()
    sandbox.account().delete_user(first["users"][3]["id"])
    rest = client.pages("/users", "users", page_size=10, next_page_token=first["next_page_token"])
    ids = [u["id"] for u in first["users"]] + [u["id"] for u in rest]
    assert len(ids) == len(set(ids)) == sandbox.account().total("active") + 1


def test_user_is_addressed_by_id_or_email(open_client):
    listed = open_client.get("/users").json()["users"][5]
    by_id = open_client.get(f"/users/{listed['id']}").json()
    by_email = open_client.get(f"/users/{quote(listed['email'])}").json()
    assert by_id == by_email
    assert by_id["email"] == listed["email"]
    assert by_id["account_id"] == "sandbox-account"


def test_pending_user_is_found_by_email_only(open_client, open_sandbox):
    pending = next(open_sandbox.account().users("pending"))
    body = open_client.get(f"/users/{pending['email']}").json()
    assert body["status"] == "pending"
    assert "id" not in body


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/users/{u}"),
        ("GET", "/users/{u}/settings"),
        ("GET", "/users/{u}/meetings"),
        ("GET", "/users/{u}/webinars"),
        ("PATCH", "/users/{u}"),
        ("PATCH", "/users/{u}/settings"),
        ("DELETE", "/users/{u}"),
    ],
)
@pytest.mark.parametrize("ref", ["nosuchuser", "ghost000001@example.com", "AAAAAAAAAAAAAAAAAAAAAA"])
def test_unknown_users_are_1001_on_every_user_path(open_client, method, path, ref):
    r = open_client.request(method, path.format(u=ref), json={"type": 1} if method == "PATCH" else None)
    assert r.status_code == 404
    assert r.json() == {"code": 1001, "message": f"User does not exist: {ref}."}


def test_deleted_user_is_gone_everywhere(open_client, open_sandbox):
    user = open_client.get("/users").json()["users"][2]
    assert open_client.delete(f"/users/{user['id']}").status_code == 204
    assert open_client.get(f"/users/{user['id']}/settings").status_code == 404
    assert open_client.get(f"/users/{user['email']}").status_code == 404
    assert user["email"] not in {u["email"] for u in open_client.pages("/users", "users", page_size=300)}
    assert open_sandbox.account().user(user["id"]) is None


def test_a_generated_user_is_generated_once_however_often_listed_and_changes_still_show(open_client, open_sandbox,
                                                                                        monkeypatch):
    """Listing pages must cost the sandbox far less than Zoom's rate limit lets a client ask for
    them: a user is generated on its first read and kept. A change is not made to the kept copy,
    so the listing shows it, and a deleted user is not listed from it."""
    account = open_sandbox.account()
    generated = []
    real = account._gen.profile
    monkeypatch.setattr(account._gen, "profile", lambda index: generated.append(index) or real(index))
    first = open_client.pages("/users", "users", status="active", page_size=50)
    again = open_client.pages("/users", "users", status="active", page_size=50)
    assert first == again and len(generated) == len(set(generated)) == len(first)

    licensed = next(u for u in first if u["type"] == 2)
    gone = next(u for u in first if u["id"] != licensed["id"])
    assert open_client.patch(f"/users/{licensed['id']}", {"type": 1}).status_code == 204
    assert open_client.delete(f"/users/{gone['id']}").status_code == 204
    listed = {u["id"]: u for u in open_client.pages("/users", "users", status="active", page_size=50)}
    assert listed[licensed["id"]]["type"] == 1 and gone["id"] not in listed
