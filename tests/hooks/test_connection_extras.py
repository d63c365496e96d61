"""Connection extras the client cannot work with are refused where the connection is read: when
the hook builds its client, by the Test button and by validate_profile; never mid-run."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from airflow.sdk.exceptions import AirflowFailException

from zoom_sam.hooks.zoom import ZoomHook
from zoom_sam.operators.validate_profile import ValidateProfileOperator
from zoom_sam.zoom.extras import KNOWN

BAD_EXTRAS = [
    ({"timeout": 0}, "extra 'timeout' must be a number of seconds greater than 0 and at most 300 (got 0.0)"),
    ({"timeout": 3600}, "extra 'timeout' must be a number of seconds greater than 0 and at most 300"),
    ({"timeout": "soon"}, "extra 'timeout' must be a number of seconds greater than 0 and at most 300 (got 'soon')"),
    ({"max_retries": -1}, "extra 'max_retries' must be a whole number from 0 to 10 (got -1)"),
    ({"max_retries": 2.5}, "extra 'max_retries' must be a whole number from 0 to 10 (got 2.5)"),
    ({"max_429_retries": 10_000}, "extra 'max_429_retries' must be a whole number from 0 to 100"),
    ({"max_in_flight": 1e9}, "extra 'max_in_flight' must be a whole number from 1 to 256 (got 1000000000)"),
    ({"max_in_flight": 0}, "extra 'max_in_flight' must be a whole number from 1 to 256 (got 0)"),
    ({"max_in_flight": True}, "extra 'max_in_flight' must be a whole number from 1 to 256 (got True)"),
    ({"backoff_base": 0}, "extra 'backoff_base' must be a number of seconds greater than 0 and at most 60"),
    ({"backoff_max": 1e6}, "extra 'backoff_max' must be a number of seconds greater than 0 and at most 600"),
    ({"max_retry_after": -1}, "extra 'max_retry_after' must be a number of seconds from 0 to 3600"),
    ({"rate_safety": 1.5}, "extra 'rate_safety' must be a number greater than 0 and at most 1"),
    ({"page_size": 1000}, "extra 'page_size' must be a whole number from 1 to 300"),
    ({"max_page_restarts": -1}, "extra 'max_page_restarts' must be a whole number from 0 to 10"),
    ({"rate_limits": {"Medium": 0}}, "extra 'rate_limits': Medium must be a number of requests per second "
                                     "greater than 0 and at most 10000"),
    ({"rate_limits": {"Medium": 1e9}}, "extra 'rate_limits': Medium must be a number of requests per second"),
    ({"rate_limits": {"Huge": 5}}, "extra 'rate_limits': unknown rate-limit category 'Huge'"),
    ({"rate_limits": "{not json"}, "extra 'rate_limits' must be an object like"),
    ({"plan": "gold"}, "extra 'plan': unknown Zoom plan 'gold'"),
    ({"grant_type": "password"}, "extra 'grant_type' must be one of account_credentials, refresh_token"),
    ({"oauth_url": "zoom.us/oauth/token"}, "extra 'oauth_url' must be an http or https URL"),
    ({"oauth_url": "https://zoom.us:port/oauth/token"}, "extra 'oauth_url' must be an http or https URL"),
    ({"refresh_token": 12345}, "extra 'refresh_token' must be a string, not int"),
    ({"max_inflight": 8}, "unknown extra 'max_inflight'; the extras are account_id"),
    ({"extra__zoom__colour": "red"}, "unknown extra 'colour'"),
]


@pytest.mark.parametrize("extra, message", BAD_EXTRAS, ids=[next(iter(e)) + str(i) for i, (e, _) in enumerate(BAD_EXTRAS)])
def test_a_bad_extra_is_refused_at_hook_construction_and_by_the_test_button(make_sandbox, zoom_conn, extra, message):
    sb = make_sandbox()
    hook = ZoomHook(zoom_conn_id=zoom_conn(sb, "zoom_bad", **extra))
    with pytest.raises(ValueError) as info:
        hook.get_conn()
    assert "Zoom connection 'zoom_bad' is misconfigured" in str(info.value) and message in str(info.value)
    ok, text = hook.test_connection()
    assert not ok and message in text
    assert list(sb.log) == []  # refused before any request


def test_a_bad_api_base_url_is_refused(make_sandbox, monkeypatch):
    conn = json.loads(make_sandbox().connection_json())
    conn["host"] = "http://bad host/v2"
    monkeypatch.setenv("AIRFLOW_CONN_ZOOM_HOST", json.dumps(conn))
    ok, text = ZoomHook(zoom_conn_id="zoom_host").test_connection()
    assert not ok and "host (API base URL) must be an http or https URL" in text


def test_every_problem_is_listed_at_once(make_sandbox, zoom_conn):
    sb = make_sandbox()
    ok, text = ZoomHook(zoom_conn_id=zoom_conn(sb, timeout=0, max_in_flight=1e9, colour="red")).test_connection()
    assert not ok
    for name in ("'timeout'", "'max_in_flight'", "'colour'"):
        assert name in text


def test_numbers_from_form_fields_and_legacy_names_are_read(make_sandbox, zoom_conn):
    sb = make_sandbox()
    hook = ZoomHook(zoom_conn_id=zoom_conn(sb, timeout="12.5", max_in_flight="8", extra__zoom__plan="pro",
                                           rate_limits='{"Heavy": 2}', max_retry_after=""))
    config = hook.get_config()
    assert (config.timeout, config.max_in_flight, config.limits) == (12.5, 8, {"Light": 30, "Medium": 20, "Heavy": 2})
    assert config.max_retry_after == 120.0  # empty means not set
    assert set(KNOWN) >= {"account_id", "oauth_url", "grant_type", "plan", "rate_limits", "refresh_token",
                          "token_store_conn_id", "max_in_flight", "timeout", "rate_safety"}


def test_validate_profile_fails_without_retry_on_a_bad_connection(make_sandbox, zoom_conn, tmp_path, monkeypatch):
    sb = make_sandbox()
    zoom_conn(sb, "zoom_acme", max_in_flight=1e9)
    monkeypatch.setenv("AIRFLOW_CONN_WH_ACME", json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "wh.db")}))
    profile = tmp_path / "acme.yaml"
    profile.write_text("alias: acme\nzoom_conn_id: zoom_acme\nwarehouse_conn_id: wh_acme\n")
    task = ValidateProfileOperator(task_id="validate_profile", profile_path=str(profile), profile_alias="acme")
    ti = SimpleNamespace(try_number=1, map_index=-1)
    context = {"data_interval_end": datetime(2026, 11, 28, tzinfo=timezone.utc), "run_id": "manual__1", "ti": ti}
    with pytest.raises(AirflowFailException, match="extra 'max_in_flight' must be a whole number from 1 to 256"):
        task.execute(context)
    assert list(sb.log) == []
