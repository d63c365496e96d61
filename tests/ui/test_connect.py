"""Connect a Zoom account and validate it from the profile page, against the sandbox.

The acme profile's connection ``zoom_acme`` is an admin-managed app of the sandbox (refresh-token
grant); its chain is kept in the views' warehouse. The admin's browser is played by the test: the
start's redirect is opened in the sandbox, its consent page answered (``tests.support.sandbox.consent``),
and the address Zoom sends back to is requested from the views, as the browser would.
"""
from __future__ import annotations

import logging
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from tests.support.sandbox import ANCHOR, FAST_LIMITS, consent
from tests.support.token_chain import APP_ID, APP_SECRET, fernet_key, refresh_connection, shared_app  # noqa: F401
from tests.ui import world
from tests.ui.world import airflow_db, views, warehouse  # noqa: F401  (fixtures)
from zoom_sam import connect
from zoom_sandbox import DEFAULT_SCOPES, AccountConfig, SandboxConfig, SandboxServer
from zoom_sam.hooks.zoom import ZoomHook
from zoom_sam.warehouse.schema import oauth_connect_state, oauth_token_chain
from zoom_sam.zoom import scopes as sc

CALLBACK = "http://testserver/zoom-sam/connect/callback"


@pytest.fixture
def zoom(views, shared_app, fernet_key, warehouse, monkeypatch):  # noqa: F811
    """acme's connection is the shared app installed in account acct-a; globex's is Server-to-Server."""
    monkeypatch.setenv("AIRFLOW_CONN_ZOOM_ACME", refresh_connection(shared_app, "acct-a"))
    monkeypatch.setenv("AIRFLOW_CONN_ZOOM_GLOBEX", shared_app.connection_json("acct-b"))
    monkeypatch.setenv("AIRFLOW_CONN_ZOOM_SAM_WAREHOUSE", warehouse.connection_json())
    return shared_app


def _headers(views, user: str = "admin", **extra) -> dict[str, str]:
    return {"Authorization": f"Bearer {views.token(user)}", **extra}


def _start(views, user: str = "admin", alias: str = "acme", **headers):
    return views.client.post(f"/zoom-sam/profiles/{alias}/connect", headers=_headers(views, user, **headers),
                             follow_redirects=False)


def _callback(views, location: str, user: str = "admin"):
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CALLBACK
    return views.client.get(f"{parts.path}?{parts.query}", headers=_headers(views, user), follow_redirects=False)


def _authorize(sb, location: str, decision: str = "allow") -> str:
    """The admin at Zoom: the consent page of the start's redirect, answered (account acct-a)."""
    return consent(location, decision, account_id="acct-a")


def _chain_rows(warehouse) -> list[dict]:
    with warehouse.engine.connect() as conn:
        if not sa.inspect(conn).has_table(oauth_token_chain.name):
            return []
        return [dict(r) for r in conn.execute(sa.select(oauth_token_chain)).mappings()]


def _connect(views, sb) -> str:
    """Connect acme end to end; returns the address Zoom sent the browser back to."""
    started = _start(views)
    assert started.status_code == 303, started.text
    back = _authorize(sb, started.headers["location"])
    done = _callback(views, back)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "http://testserver/zoom-sam/profiles/acme?connect=connected"
    return back


def test_connect_sends_the_admin_to_zoom_with_a_signed_state_and_pkce(views, zoom, warehouse):
    started = _start(views)
    assert started.status_code == 303
    url = urlsplit(started.headers["location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == zoom.authorize_url  # beside the connection's token endpoint
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["response_type"] == "code" and query["client_id"] == "sam-app"
    assert query["redirect_uri"] == CALLBACK
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert "." in query["state"]
    with views.engine.connect() as conn:
        issued = conn.execute(sa.select(oauth_connect_state)).mappings().one()
    assert (issued["conn_id"], issued["profile_alias"], issued["issued_to"]) == ("zoom_acme", "acme", "airflow:admin")
    assert issued["used_at"] is None
    assert _chain_rows(warehouse) == []


def test_consent_starts_the_chain_and_zoom_answers_with_it(views, zoom, warehouse, caplog):
    caplog.set_level(logging.DEBUG)
    back = _connect(views, zoom)
    [chain] = _chain_rows(warehouse)
    assert chain["client_id"] == "sam-app" and chain["refresh_token"] and chain["rotations"] == 0
    exchange = [r for r in zoom.log if r.path == "/oauth/token"]
    assert len(exchange) == 1 and exchange[0].account_id == "acct-a"

    hook = ZoomHook("zoom_acme")
    users = {u["id"] for u in hook.get_conn().list_users()}
    assert users == {u["id"] for u in zoom.account("acct-a").users("active")}
    assert len([r for r in zoom.log if r.path == "/oauth/token"]) == 1  # the exchange's access token served it

    page = views.get("/profiles/acme")
    assert 'data-testid="connection" data-state="connected"' in page.text
    assert 'data-testid="connect-flash"' not in page.text
    assert 'data-testid="connect-flash"' in views.get("/profiles/acme", connect="connected").text
    assert CALLBACK in page.text

    secrets = _secrets(hook, zoom, back)
    for text in (page.text, caplog.text):
        assert not [s for s in secrets if s in text]


def _secrets(hook: ZoomHook, sb, back: str) -> list[str]:
    """Every secret the flow handled: client secret, authorization code, the chain's tokens."""
    record = hook.token_chain(hook.get_config()).read()
    code = parse_qs(urlsplit(back).query)["code"][0]
    return [sb.config.account("acct-a").client_secret, code, record.refresh_token, record.access.value]


def test_a_replayed_callback_changes_nothing(views, zoom, warehouse):
    back = _connect(views, zoom)
    before = _chain_rows(warehouse)
    again = _callback(views, back)
    assert again.status_code == 409
    assert 'data-outcome="replayed"' in again.text and "Nothing was changed" in again.text
    state = parse_qs(urlsplit(back).query)["state"][0]
    with_new_code = _callback(views, f"{CALLBACK}?{_fresh_code(zoom)}&state={state}")
    assert with_new_code.status_code == 409
    assert _chain_rows(warehouse) == before


def _fresh_code(sb) -> str:
    """A code the admin granted in another authorization (its own state is not used here)."""
    authorize = f"{sb.authorize_url}?response_type=code&client_id=sam-app&redirect_uri={CALLBACK}"
    return "code=" + parse_qs(urlsplit(consent(authorize, account_id="acct-a")).query)["code"][0]


def test_a_forged_or_altered_state_is_refused_and_nothing_changes(views, zoom, warehouse):
    back = _authorize(zoom, _start(views).headers["location"])
    state = parse_qs(urlsplit(back).query)["state"][0]
    code = parse_qs(urlsplit(back).query)["code"][0]
    body, mac = state.split(".")
    for forged in ("", "nonsense", f"{body}.{mac[:-2]}AA", f"{body[:-4]}.{mac}", f"{body}x.{mac}"):
        resp = _callback(views, f"{CALLBACK}?code={code}&state={forged}")
        assert resp.status_code == 400, forged
        assert 'data-outcome="forged"' in resp.text
    assert _chain_rows(warehouse) == []
    assert _callback(views, back).status_code == 303  # the genuine state was not used up by the forgeries


def test_an_expired_state_is_refused(views, zoom, warehouse):
    old = connect.begin("zoom_acme", user="airflow:admin", redirect_uri=CALLBACK, alias="acme",
                        clock=lambda: time.time() - 601)
    resp = _callback(views, _authorize(zoom, old.url))
    assert resp.status_code == 400 and 'data-outcome="expired"' in resp.text
    assert _chain_rows(warehouse) == []


def test_a_denied_consent_changes_nothing(views, zoom, warehouse):
    back = _authorize(zoom, _start(views).headers["location"], decision="deny")
    assert parse_qs(urlsplit(back).query)["error"] == ["access_denied"]
    resp = _callback(views, back)
    assert resp.status_code == 200 and 'data-outcome="denied"' in resp.text
    assert _chain_rows(warehouse) == []
    assert [r for r in zoom.log if r.path == "/oauth/token"] == []


def test_only_the_user_who_started_may_finish(views, zoom, warehouse):
    back = _authorize(zoom, _start(views).headers["location"])
    resp = _callback(views, back, user="acme_reader")
    assert resp.status_code == 403 and 'data-outcome="other_user"' in resp.text
    assert _chain_rows(warehouse) == []
    assert _callback(views, back).status_code == 303


def test_starting_and_validating_need_a_user_who_may_edit(views, zoom):
    for user in ("acme_reader", "nobody"):
        assert _start(views, user).status_code == 403, user
        validate = views.client.post("/zoom-sam/profiles/acme/validate", headers=_headers(views, user))
        assert validate.status_code == 403, user
    assert views.client.post("/zoom-sam/profiles/acme/connect", follow_redirects=False).status_code == 401
    page = views.get("/profiles/acme", user="acme_reader").text
    assert 'data-testid="connect-button"' not in page and 'data-testid="validate-button"' not in page
    assert 'data-testid="connect-button"' in views.get("/profiles/acme").text
    with views.engine.connect() as conn:
        assert sa.inspect(conn).has_table(oauth_connect_state.name) is False or \
            conn.execute(sa.select(sa.func.count()).select_from(oauth_connect_state)).scalar() == 0


def test_a_form_posted_from_another_origin_is_refused(views, zoom):
    for origin in ("cross-site", "same-site"):
        assert _start(views, **{"Sec-Fetch-Site": origin}).status_code == 403
        validate = views.client.post("/zoom-sam/profiles/acme/validate", headers=_headers(views, **{
            "Sec-Fetch-Site": origin}))
        assert validate.status_code == 403
    assert _start(views, **{"Sec-Fetch-Site": "same-origin"}).status_code == 303


def test_a_server_to_server_connection_has_nothing_to_connect(views, zoom):
    page = views.get("/profiles/globex").text
    assert 'data-state="server_to_server"' in page and 'data-testid="connect-button"' not in page
    resp = _start(views, alias="globex")
    assert resp.status_code == 400 and "account_credentials" in resp.text


def test_validate_shows_each_process_with_its_granted_and_missing_scopes(views, zoom):
    before = views.client.post("/zoom-sam/profiles/acme/validate", headers=_headers(views))
    assert before.status_code == 200
    assert 'data-ok="false"' in before.text and "no refresh-token chain is stored" in before.text
    _connect(views, zoom)
    page = views.client.post("/zoom-sam/profiles/acme/validate", headers=_headers(views))
    assert page.status_code == 200 and 'data-ok="true"' in page.text
    for process, scopes in sc.PROCESS_SCOPES.items():
        assert f'data-allowed="true">{process}' in page.text
        for scope in scopes:
            assert f'data-process="{process}" data-scope="{scope}" data-granted="true"' in page.text
    assert zoom.config.account("acct-a").client_secret not in page.text


def test_validate_names_the_missing_scopes(views, zoom, monkeypatch):
    granted = tuple(s for s in DEFAULT_SCOPES if s != "user:delete:user:admin")
    account = AccountConfig(account_id="acct-a", client_id=APP_ID, client_secret=APP_SECRET, users=20, scopes=granted,
                            rate_limits=FAST_LIMITS)
    with SandboxServer(SandboxConfig(accounts=[account], anchor=ANCHOR)) as sb:
        monkeypatch.setenv("AIRFLOW_CONN_ZOOM_ACME", refresh_connection(sb, "acct-a"))
        _connect(views, sb)
        page = views.client.post("/zoom-sam/profiles/acme/validate", headers=_headers(views)).text
    assert 'data-allowed="false">reclaim' in page and "no: missing user:delete:user:admin" in page
    assert 'data-process="reclaim" data-scope="user:delete:user:admin" data-granted="false"' in page
    assert 'data-allowed="true">download_subscriptions' in page


def test_a_user_no_longer_allowed_to_edit_cannot_finish(views, zoom, warehouse, monkeypatch):
    back = _authorize(zoom, _start(views).headers["location"])
    monkeypatch.setattr(world, "EDITORS", set())  # the admin lost the right meanwhile
    refused = _callback(views, back)
    assert refused.status_code == 403 and "not allowed (any more)" in refused.text
    assert _chain_rows(warehouse) == []
    monkeypatch.setattr(world, "EDITORS", {"admin"})
    assert _callback(views, back).status_code == 303  # the state was not used up by the refusal


def test_a_missing_connection_is_said_and_the_profile_still_shows(views):
    page = views.get("/profiles/acme")
    assert page.status_code == 200 and 'data-testid="connection" data-state="problem"' in page.text
    assert "connection &#39;zoom_acme&#39; is not defined where the API server runs" in page.text
    assert 'data-testid="subscriptions-table"' in page.text and 'data-testid="connect-button"' not in page.text


def test_the_redirect_url_follows_airflow_s_base_url_when_set(views, zoom, monkeypatch):
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example.com/af/")
    public = "https://airflow.example.com/af/zoom-sam/connect/callback"
    assert public in views.get("/profiles/acme").text
    started = parse_qs(urlsplit(_start(views).headers["location"]).query)
    assert started["redirect_uri"] == [public]
