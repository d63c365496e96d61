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

import json
import os
import signal
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet

from project import airflow_environment
from zoom_sandbox import AccountConfig, SandboxConfig, SandboxServer

DEMO_TIMEOUT_S = 600
START_TIMEOUT_S = 180
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
# SimpleAuthManager's roles; a viewer may read every DAG (it has no per-DAG permissions to give).
USERS = {"admin": "admin", "viewer": "viewer"}


@dataclass(frozen=True)
class UiServer:
    """A running api-server: where it is, who may log in, and the warehouse its pages read."""

    base_url: str
    passwords: dict[str, str]
    home: Path

    @property
    def warehouse_url(self) -> str:
        return f"sqlite:///{self.home / 'zoom_sam.db'}"

    def token(self, username: str) -> str:
        """A JWT for ``username`` from Airflow's own ``POST /auth/token``."""
        resp = requests.post(f"{self.base_url}/auth/token", timeout=30,
                             json={"username": username, "password": self.passwords[username]})
        assert resp.status_code == 201, resp.text
        return resp.json()["access_token"]


def _environment(home: Path) -> dict[str, str]:
    """The environment of every child of these fixtures: this checkout's Airflow, home ``home``."""
    return {**os.environ, **airflow_environment(home), "PATH": f"{Path(sys.executable).parent}{os.pathsep}"
            f"{os.environ.get('PATH', '')}"}


@pytest.fixture(scope="session")
def ui_demo(tmp_path_factory) -> Path:
    """The AIRFLOW_HOME of one finished demo run; fails with the end of its output otherwise."""
    home = tmp_path_factory.mktemp("ui-airflow-home")
    done = subprocess.run([sys.executable, "-m", "zoom_sam_demo"], env=_environment(home), capture_output=True,
                          text=True, timeout=DEMO_TIMEOUT_S)
    assert done.returncode == 0, f"the demo run failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return home


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def ui_zoom() -> Iterator[SandboxServer]:
    """The Zoom the api-server's demo connection reaches: one account, the app installed by its admin."""
    with SandboxServer(SandboxConfig(accounts=[AccountConfig(users=40, seed=5)])) as sb:
        yield sb


@pytest.fixture(scope="session")
def ui_server(ui_demo, ui_zoom) -> Iterator[UiServer]:
    """``airflow api-server`` on 127.0.0.1 over the demo's home, stopped when the session ends.

    The passwords file is written before the start: SimpleAuthManager keeps the passwords it
    finds there and generates only missing ones, so the tests know them.
    """
    home = ui_demo
    passwords = {user: secrets.token_urlsafe(12) for user in USERS}
    (home / "simple_auth_manager_passwords.json.generated").write_text(json.dumps(passwords))
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**_environment(home),
           "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
           "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:{r}" for u, r in USERS.items()),
           "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
           "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
           "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
           "AIRFLOW_CONN_ZOOM_DEMO": ui_zoom.connection_json(grant_type="refresh_token"),
           "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/"}
    airflow = str(Path(sys.executable).with_name("airflow"))
    reserialize = subprocess.run([airflow, "dags", "reserialize"], env=env, capture_output=True, text=True)
    assert reserialize.returncode == 0, reserialize.stdout[-2000:] + reserialize.stderr[-2000:]
    log_path = home / "api-server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen([airflow, "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                                  env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_healthy(server, base_url, log_path)
        yield UiServer(base_url, passwords, home)
    finally:
        _stop(server)


def _stop(server: subprocess.Popen) -> None:
    """Stop the server's own process group, so whatever it started stops with it."""
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def _wait_healthy(server: subprocess.Popen, base_url: str, log_path: Path) -> None:
    """Poll the health endpoint until it answers 200; fail at once if the server exits first."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base_url}/api/v2/monitor/health", timeout=5).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        try:
            server.wait(timeout=0.3)  # the pause between polls, cut short by an exit
        except subprocess.TimeoutExpired:
            continue
        pytest.fail(f"the api-server exited with {server.returncode}:\n{log_path.read_text()[-3000:]}")
    pytest.fail(f"the api-server did not answer within {START_TIMEOUT_S} s:\n{log_path.read_text()[-3000:]}")
