"""ZoomHook: provider registration, connection handling, validate()/test_connection(), the CLI."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

import pytest

from zoom_sam.hooks.zoom import ZoomHook
from zoom_sam.provider import get_provider_info
from zoom_sam.zoom.client import ZoomClient
from zoom_sam.zoom.scopes import MINIMAL_SCOPES

WRITE = {"PATCH", "DELETE", "POST", "PUT"}


def test_zoom_connection_type_registered_with_its_fields():
    from airflow.providers_manager import ProvidersManager
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    pm = ProvidersManager()
    assert "zoom-sam" in pm.providers
    hook = ProvidersManagerTaskRuntime().hooks["zoom"]  # what Connection.get_hook() resolves
    assert hook is not None
    assert (hook.hook_class_name, hook.connection_id_attribute_name, hook.hook_name) == (
        "zoom_sam.hooks.zoom.ZoomHook", "zoom_conn_id", "Zoom")
    behaviour = pm.field_behaviours["zoom"]
    assert set(behaviour["hidden_fields"]) == {"schema", "port"}
    assert behaviour["relabeling"] == {"host": "API base URL", "login": "Client ID", "password": "Client Secret"}
    widgets = pm.connection_form_widgets
    for name in ("account_id", "oauth_url", "grant_type", "plan", "refresh_token", "token_store_conn_id"):
        assert f"extra__zoom__{name}" in widgets, name
    assert widgets["extra__zoom__refresh_token"].is_sensitive
    assert not widgets["extra__zoom__account_id"].is_sensitive
    assert widgets["extra__zoom__grant_type"].field["schema"]["enum"] == ["account_credentials", "refresh_token"]
    assert widgets["extra__zoom__plan"].field["schema"]["enum"] == ["pro", "business"]


def test_provider_info_names_the_installed_distribution():
    info = get_provider_info()
    dist = distribution(info["package-name"])
    eps = [ep for ep in dist.entry_points if ep.group == "apache_airflow_provider"]
    assert [ep.value for ep in eps] == ["zoom_sam.provider:get_provider_info"]
    assert ZoomHook.conn_type == info["connection-types"][0]["connection-type"] == "zoom"
    assert ZoomHook.default_conn_name == "zoom_default" and ZoomHook.conn_name_attr == "zoom_conn_id"


def test_no_io_in_init_and_client_cached(make_sandbox, zoom_conn):
    hook = ZoomHook(zoom_conn_id="does_not_exist")  # nothing is read yet
    assert repr(hook) == "ZoomHook(zoom_conn_id='does_not_exist')"
    with pytest.raises(Exception, match="does_not_exist"):
        hook.get_conn()
    sb = make_sandbox()
    hook = ZoomHook(zoom_conn_id=zoom_conn(sb))
    assert [r for r in sb.log] == []
    client = hook.get_conn()
    assert isinstance(client, ZoomClient) and hook.get_conn() is client
    assert client.config.base_url == sb.base_url and client.config.account_id == "sandbox-account"
    users = list(client.list_users())
    assert len(users) == sum(1 for _ in sb.account().users("active"))
    assert client.granted_scopes == MINIMAL_SCOPES


def test_runtime_tokens_registered_with_airflow_masker(make_sandbox, zoom_conn):
    from airflow.sdk._shared.secrets_masker import redact

    sb = make_sandbox()
    client = ZoomHook(zoom_conn_id=zoom_conn(sb)).get_conn()
    token = client.token().value
    assert redact(f"bearer {token}") == "bearer ***"
    assert redact(client.config.client_secret) == "***"


def test_test_connection_ok_reads_only(make_sandbox, zoom_conn):
    sb = make_sandbox()
    hook = ZoomHook(zoom_conn_id=zoom_conn(sb))
    ok, message = hook.test_connection()
    assert ok, message
    assert "download_subscriptions, pull_activity, reclaim" in message
    paths = [(r.method, r.path) for r in sb.log]
    assert not [p for p in paths if p[0] in WRITE and p[1] != "/oauth/token"]
    assert ("GET", "/v2/users") in paths
    assert {p[1].rsplit("/", 1)[-1] for p in paths if p[1].count("/") == 4} == {"settings", "meetings", "webinars"}
    report = hook.validate()
    assert report.ok and report.granted_scopes == MINIMAL_SCOPES
    assert report.allowed == {"download_subscriptions": True, "pull_activity": True, "reclaim": True}
    assert report.missing_scopes == {} and report.optional_scopes == {
        "user:read:user:admin": False, "report:read:list_users:admin": False}
    assert [c.outcome for c in report.checks] == ["ok"] * 5
    json.dumps(report.to_dict())  # serialisable for XCom / UI


def test_missing_scopes_reported_per_process(make_sandbox, zoom_conn):
    sb = make_sandbox(scopes=tuple(MINIMAL_SCOPES - {"meeting:read:list_meetings:admin", "user:delete:user:admin"}))
    hook = ZoomHook(zoom_conn_id=zoom_conn(sb))
    ok, message = hook.test_connection()
    assert not ok
    assert "pull_activity" in message and "meeting:read:list_meetings:admin" in message
    assert "reclaim" in message and "user:delete:user:admin" in message
    report = hook.validate()
    assert report.allowed == {"download_subscriptions": True, "pull_activity": False, "reclaim": False}
    assert report.missing_scopes == {"pull_activity": ("meeting:read:list_meetings:admin",),
                                     "reclaim": ("user:delete:user:admin",)}
    meetings = report.check("list_meetings")
    assert (meetings.outcome, meetings.code, meetings.missing_scopes) == (
        "failed", 4711, ("meeting:read:list_meetings:admin",))
    assert report.check("list_webinars").ok


def test_only_reclaim_scope_missing_still_connects(make_sandbox, zoom_conn):
    sb = make_sandbox(scopes=tuple(MINIMAL_SCOPES - {"user:update:user:admin"}))
    ok, message = ZoomHook(zoom_conn_id=zoom_conn(sb)).test_connection()
    assert ok and "reclaim blocked, missing user:update:user:admin" in message


def test_test_connection_failures_are_clear_and_secret_free(make_sandbox, zoom_conn, monkeypatch):
    sb = make_sandbox()
    conn = json.loads(sb.connection_json())
    conn["password"] = "not-the-secret-42"
    monkeypatch.setenv("AIRFLOW_CONN_ZOOM_BAD", json.dumps(conn))
    ok, message = ZoomHook(zoom_conn_id="zoom_bad").test_connection()
    assert not ok and "access token" in message and "invalid_client" in message
    assert "not-the-secret-42" not in message
    conn["password"] = "x"
    del conn["extra"]["account_id"]
    monkeypatch.setenv("AIRFLOW_CONN_ZOOM_NOACCT", json.dumps(conn))
    ok, message = ZoomHook(zoom_conn_id="zoom_noacct").test_connection()
    assert not ok and "account_id" in message and "zoom_noacct" in message


@pytest.mark.timeout(120)
def test_airflow_connections_test_cli(make_sandbox, tmp_path):
    """`airflow connections test <id>` with the connection in AIRFLOW_CONN_<ID> (no metadata DB needed)."""
    sb = make_sandbox()
    airflow = Path(sys.executable).parent / "airflow"
    env = dict(os.environ, AIRFLOW_HOME=str(tmp_path), AIRFLOW__CORE__TEST_CONNECTION="Enabled",
               AIRFLOW_CONN_ZOOM_CLI=sb.connection_json())
    done = subprocess.run([str(airflow), "connections", "test", "zoom_cli"], env=env, capture_output=True,
                          text=True, timeout=100)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Connection success!" in done.stdout
    assert sb.account().config.client_secret not in done.stdout + done.stderr
    assert [r.path for r in sb.log][:2] == ["/oauth/token", "/v2/users"]
    # and a failing one says why
    bad = sb.connection_json().replace('"sandbox-secret"', '"wrong"')
    env["AIRFLOW_CONN_ZOOM_CLI"] = bad
    done = subprocess.run([str(airflow), "connections", "test", "zoom_cli"], env=env, capture_output=True,
                          text=True, timeout=100)
    assert done.returncode == 1 and "Connection failed!" in done.stdout and "invalid_client" in done.stdout
