"""A sandbox account, a Zoom client on it and a profile, for the download library tests."""
from __future__ import annotations

import pytest

from tests.support.sandbox import connection_json, sandbox  # noqa: F401  (fixture)
from tests.support.warehouse import warehouse  # noqa: F401  (fixture)
from zoom_sam.profiles import Profile


@pytest.fixture
def client(sandbox, monkeypatch):  # noqa: F811
    """A ZoomClient through the hook, small pages (more pages and batch edges), no slow backoff."""
    from zoom_sam.hooks.zoom import ZoomHook

    monkeypatch.setenv("AIRFLOW_CONN_ZOOM_TEST", connection_json(sandbox))
    client = ZoomHook(zoom_conn_id="zoom_test").get_conn()
    yield client
    client.close()


@pytest.fixture
def profile() -> Profile:
    return Profile.model_validate({
        "alias": "acme",
        "zoom_conn_id": "zoom_test",
        "rules": [{"software_model": "zoom_webinar_*", "last_activity_threshold_days": 90}],
        "exclusions": {"users": [{"email": "svc-*@example.com"}], "identifiers": ["large_meeting:1000"]},
        "entitlements": [{"software_model": "zoom_meetings_licensed", "purchased": 100, "unit_cost": 149.9}],
    })
