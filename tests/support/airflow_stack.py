"""Real Airflow processes for the browser tests: an ``airflow api-server`` alone (the views), or the
whole of what runs a DAG (api-server, scheduler with LocalExecutor, dag-processor; Airflow 3.3's
Human-in-the-loop tasks wait in ``awaiting_input`` and resume through the api-server, so no
triggerer).

Each process is a :class:`stack.topology.Component` (``make stack-test``'s, whose compose topology
runs Celery workers, a triggerer and Redis besides): a session of its own, so stopping its process
group also stops what it started (LocalExecutor's workers, the tasks' supervisors), and a log,
``<AIRFLOW_HOME>/<command>.log``, whose end is shown when it exits or does not get ready. The
SimpleAuthManager passwords are written before the start: the manager keeps the passwords it finds
in its file and generates only missing ones, so the tests know them.
"""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet

from project import airflow_environment
from stack.topology import SIMPLE_AUTH_MANAGER, STOP_TIMEOUT_S, Component, free_port

START_TIMEOUT_S = 180
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
# What runs DAGs beside the api-server.
RUNNERS = ("scheduler", "dag-processor")


@dataclass(frozen=True)
class AirflowServer:
    """A running api-server: where it is, who may log in, its home, the environment every process
    runs with, and the processes (the api-server first)."""

    base_url: str
    passwords: dict[str, str]
    home: Path
    env: Mapping[str, str]
    components: tuple[Component, ...] = field(default_factory=tuple)

    @property
    def warehouse_url(self) -> str:
        """The embedded SQLite warehouse (a profile whose warehouse connection is not defined)."""
        return f"sqlite:///{self.home / 'zoom_sam.db'}"

    @property
    def fernet_key(self) -> str:
        return self.env["AIRFLOW__CORE__FERNET_KEY"]

    def token(self, username: str) -> str:
        """A JWT for ``username`` from Airflow's own ``POST /auth/token``."""
        resp = requests.post(f"{self.base_url}/auth/token", timeout=30,
                             json={"username": username, "password": self.passwords[username]})
        assert resp.status_code == 201, resp.text
        return resp.json()["access_token"]

    def pause(self, seconds: float) -> None:
        """The pause between two polls of a test, cut short when a process exits: the test fails
        with the end of its log, instead of polling a server that is gone until its deadline."""
        try:
            self.components[0].process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            pass
        for component in self.components:
            if not component.alive():
                pytest.fail(f"airflow {component.name} exited with {component.process.returncode}:\n"
                            f"{component.tail()}")


def environment(home: Path) -> dict[str, str]:
    """The environment of every child: this checkout's Airflow, home ``home``."""
    return {**os.environ, **airflow_environment(home), "PATH": f"{Path(sys.executable).parent}{os.pathsep}"
            f"{os.environ.get('PATH', '')}"}


def airflow(env: Mapping[str, str], *args: str) -> None:
    """Run one ``airflow`` command to its end; fail with the end of its output otherwise."""
    done = subprocess.run([AIRFLOW, *args], env=dict(env), capture_output=True, text=True)
    assert done.returncode == 0, f"airflow {' '.join(args)}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"


@contextmanager
def api_server(home: Path, users: Mapping[str, str], env: Mapping[str, str] | None = None,
               runners: tuple[str, ...] = ()) -> Iterator[AirflowServer]:
    """``airflow api-server`` on 127.0.0.1 over ``home`` (its metadata database ready), with
    SimpleAuthManager and ``users`` (name -> role), and the ``runners`` beside it; all stopped at
    the end. ``env`` adds variables (connections, profiles) to every process."""
    passwords = {user: secrets.token_urlsafe(12) for user in users}
    (home / "simple_auth_manager_passwords.json.generated").write_text(json.dumps(passwords))
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    full_env = {**environment(home), **(env or {}),
                "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:{r}" for u, r in users.items()),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
                "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
                "AIRFLOW__API__BASE_URL": base_url,
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/"}
    components = tuple(Component(command, [AIRFLOW, command, *args], full_env, home / f"{command}.log")
                       for command, args in (("api-server", ("--host", "127.0.0.1", "--port", str(port),
                                                             "--workers", "1")), *((r, ()) for r in runners)))
    try:
        for component in components:
            component.start()
        server = AirflowServer(base_url, passwords, home, full_env, components)
        _wait_healthy(server)
        yield server
    finally:
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for component in reversed(components):
            component.stop(deadline)


def _wait_healthy(server: AirflowServer) -> None:
    """Poll the health endpoint until it answers 200; fail at once if a process exits first."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{server.base_url}/api/v2/monitor/health", timeout=5).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        server.pause(0.3)
    pytest.fail(f"the api-server did not answer within {START_TIMEOUT_S} s:\n{server.components[0].tail()}")
