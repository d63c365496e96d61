"""A sandbox account, its connection and an embedded warehouse, for the timeout tests."""
from __future__ import annotations

import pytest

from tests.support.sandbox import connection_json, sandbox  # noqa: F401  (fixture)
from tests.support.warehouse import warehouse  # noqa: F401  (fixture)
from tests.support.zoom_state import fresh_zoom_state  # noqa: F401  (autouse fixture)


@pytest.fixture
def zoom_test(sandbox, monkeypatch):  # noqa: F811
    """The sandbox as connection ``zoom_test``."""
    monkeypatch.setenv("AIRFLOW_CONN_ZOOM_TEST", connection_json(sandbox))
    return "zoom_test"
