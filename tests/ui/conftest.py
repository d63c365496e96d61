"""Fixtures for the views in the Airflow UI run against real processes, as a person meets them.

``ui_demo`` is one run of the demo profile's DAG (``python -m zoom_sam_demo``, the code of
``make demo``: the sandbox, ``airflow dags test``) into a throw-away AIRFLOW_HOME of its own, so
the pages show what a real run wrote. ``ui_server`` is a real ``airflow api-server`` on that
home, with SimpleAuthManager and known users, ready once its health endpoint answers. Its demo
connection is an admin-managed app of ``ui_zoom``, a sandbox kept running beside it, so an admin
can connect the account from the profile page. All are session-scoped: the run and the start
happen once however many tests look.
"""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.airflow_stack import AirflowServer, airflow, api_server, environment
from zoom_sandbox import AccountConfig, SandboxConfig, SandboxServer

DEMO_TIMEOUT_S = 600
# SimpleAuthManager's roles; a viewer may read every DAG (it has no per-DAG permissions to give).
USERS = {"admin": "admin", "viewer": "viewer"}


@pytest.fixture(scope="session")
def ui_demo(tmp_path_factory) -> Path:
    """The AIRFLOW_HOME of one finished demo run; fails with the end of its output otherwise."""
    home = tmp_path_factory.mktemp("ui-airflow-home")
    done = subprocess.run([sys.executable, "-m", "zoom_sam_demo"], env=environment(home), capture_output=True,
                          text=True, timeout=DEMO_TIMEOUT_S)
    assert done.returncode == 0, f"the demo run failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return home


@pytest.fixture(scope="session")
def ui_zoom() -> Iterator[SandboxServer]:
    """The Zoom the api-server's demo connection reaches: one account, the app installed by its admin."""
    with SandboxServer(SandboxConfig(accounts=[AccountConfig(users=40, seed=5)])) as sb:
        yield sb


@pytest.fixture(scope="session")
def ui_server(ui_demo, ui_zoom) -> Iterator[AirflowServer]:
    """``airflow api-server`` on 127.0.0.1 over the demo's home, stopped when the session ends."""
    env = {"AIRFLOW_CONN_ZOOM_DEMO": ui_zoom.connection_json(grant_type="refresh_token")}
    airflow({**environment(ui_demo), **env}, "dags", "reserialize")
    with api_server(ui_demo, USERS, env) as server:
        yield server
