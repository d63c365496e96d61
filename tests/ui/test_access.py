"""Who may see what: Airflow's token (bearer or the UI's cookie) on every route, and a profile only
for the users the auth manager lets read its DAG."""
from __future__ import annotations

import pytest

from tests.ui.world import airflow_db, views, warehouse  # noqa: F401  (fixtures)

API = ["/api/profiles", "/api/profiles/acme", "/api/profiles/acme/position", "/api/profiles/acme/candidates",
       "/api/profiles/acme/subscriptions", "/api/profiles/acme/unrecognized", "/api/profiles/acme/jobs"]
PAGES = ["/", "/profiles/acme", "/profiles/acme/usage", "/profiles/acme/candidates", "/dags/zoom_sam__acme"]
PROFILE_API = [p for p in API if p.startswith("/api/profiles/acme")]
PROFILE_PAGES = [p for p in PAGES if "acme" in p and not p.startswith("/dags")]


def _with_token(views, path: str, token: str):
    return views.client.get(f"/zoom-sam{path}", headers={"Authorization": f"Bearer {token}"})


def test_every_endpoint_answers_an_authenticated_user(views):
    for path in API + PAGES:
        assert views.get(path).status_code == 200, path


def test_without_a_token_the_api_answers_401_json(views):
    for path in API:
        resp = views.get(path, user=None)
        assert resp.status_code == 401, path
        assert resp.headers["www-authenticate"] == "Bearer"
        assert "not authenticated" in resp.json()["detail"]


@pytest.mark.parametrize("kind", ["expired", "forged", "garbage"])
def test_a_bad_token_is_401_on_the_api(views, kind):
    token = {"expired": lambda: views.token("admin", expiration_time_in_seconds=-3600),
             "forged": lambda: views.forged_token("admin"), "garbage": lambda: "not-a-jwt"}[kind]()
    for path in API:
        resp = _with_token(views, path, token)
        assert resp.status_code == 401, (kind, path)
        assert ("expired" if kind == "expired" else "not valid") in resp.json()["detail"]


def test_pages_without_a_usable_token_show_a_plain_401_linking_to_the_login(views):
    for token in (None, views.token("admin", expiration_time_in_seconds=-3600), views.forged_token("admin")):
        for path in PAGES:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            resp = views.client.get(f"/zoom-sam{path}", headers=headers, follow_redirects=False)
            assert resp.status_code == 401, path
            assert resp.headers["content-type"].startswith("text/html")
            assert 'data-testid="login-link"' in resp.text and "/auth/login?next=" in resp.text
            assert "location" not in resp.headers  # never a redirect, so never a loop


def test_the_airflow_ui_cookie_authenticates_and_a_bearer_header_wins_over_it(views):
    views.client.cookies.set("_token", views.token("admin"))
    assert views.client.get("/zoom-sam/api/profiles").status_code == 200
    assert views.client.get("/zoom-sam/profiles/acme").status_code == 200
    wrong = views.client.get("/zoom-sam/api/profiles", headers={"Authorization": f"Bearer {views.forged_token('admin')}"})
    assert wrong.status_code == 401
    views.client.cookies.set("_token", views.forged_token("admin"))
    assert views.client.get("/zoom-sam/api/profiles").status_code == 401


def test_a_user_allowed_one_dag_sees_only_that_profile(views):
    listed = views.get("/api/profiles", user="acme_reader").json()["profiles"]
    assert [p["alias"] for p in listed] == ["acme"]
    for path in PROFILE_API + PROFILE_PAGES:
        assert views.get(path, user="acme_reader").status_code == 200, path
        other = views.get(path.replace("acme", "globex"), user="acme_reader")
        assert other.status_code == 403, path
        assert "zoom_sam__globex" in other.text
    overview = views.get("/", user="acme_reader").text
    assert 'data-testid="profile-card-acme"' in overview and "profile-card-globex" not in overview


def test_a_user_allowed_no_dag_sees_no_profile(views):
    assert views.get("/api/profiles", user="nobody").json() == {"profiles": []}
    assert 'data-testid="no-profiles"' in views.get("/", user="nobody").text
    assert views.get("/api/profiles/acme/position", user="nobody").status_code == 403


def test_an_unknown_profile_is_404(views):
    assert views.get("/api/profiles/nosuch").status_code == 404
    assert views.get("/profiles/nosuch/usage").status_code == 404


def test_nothing_can_be_written(views):
    headers = {"Authorization": f"Bearer {views.token('admin')}"}
    for path in API:
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            assert views.client.request(method, f"/zoom-sam{path}", headers=headers).status_code == 405, (method, path)


def test_no_answer_carries_a_secret(views, monkeypatch):
    """The profile names connections; neither their passwords nor the token appear anywhere."""
    token = views.token("admin")
    for path in API + PAGES[:-1]:
        body = views.client.get(f"/zoom-sam{path}", headers={"Authorization": f"Bearer {token}"}).text
        assert token not in body and "password" not in body.lower(), path
