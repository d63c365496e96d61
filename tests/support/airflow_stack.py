"""Real Airflow processes for the browser tests: an ``airflow api-server`` alone (the views), or the
whole of what runs a DAG (api-server, scheduler with LocalExecutor, dag-processor; Airflow 3.3's
Human-in-the-loop tasks wait in ``awaiting_input`` and resume through the api-server, without a triggerer).

Every process is started in a session of its own, so stopping its process group also stops what
it started (LocalExecutor's workers, the tasks' supervisors). Each one logs to
``<AIRFLOW_HOME>/<command>.log``, whose end is shown when it exits or does not get ready. The
SimpleAuthManager passwords are written before the start: the manager keeps the passwords it finds
in its file and generates only missing ones, so the tests know them.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet

from project import airflow_environment

START_TIMEOUT_S = 180
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
# What runs DAGs beside the api-server.
RUNNERS = ("scheduler", "dag-processor")


@dataclass(frozen=True)
class AirflowServer:
    """A running api-server: where it is, who may log in, its home, the environment every process
    runs with, and the processes by command."""

    base_url: str
    passwords: dict[str, str]
    home: Path
    env: Mapping[str, str]
    processes: Mapping[str, subprocess.Popen] = field(default_factory=dict)

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
        first = next(iter(self.processes.values()))
        try:
            first.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            pass
        for command, process in self.processes.items():
            if process.poll() is not None:
                pytest.fail(f"airflow {command} exited with {process.returncode}:\n"
                            f"{(self.home / f'{command}.log').read_text()[-3000:]}")


def environment(home: Path) -> dict[str, str]:
    """The environment of every child: this checkout's Airflow, home ``home``."""
    return {**os.environ, **airflow_environment(home), "PATH": f"{Path(sys.executable).parent}{os.pathsep}"
            f"{os.environ.get('PATH', '')}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    with ExitStack() as stack:
        server = stack.enter_context(_process(full_env, home, "api-server", "--host", "127.0.0.1", "--port", str(port),
                                              "--workers", "1"))
        processes = {"api-server": server, **{name: stack.enter_context(_process(full_env, home, name))
                                              for name in runners}}
        started = AirflowServer(base_url, passwords, home, full_env, processes)
        _wait_healthy(started)
        yield started


@contextmanager
def _process(env: Mapping[str, str], home: Path, command: str, *args: str) -> Iterator[subprocess.Popen]:
    with (home / f"{command}.log").open("w") as log:
        process = subprocess.Popen([AIRFLOW, command, *args], env=dict(env), stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        yield process
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    """Stop the process's own group, so whatever it started stops with it."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


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
    pytest.fail(f"the api-server did not answer within {START_TIMEOUT_S} s:\n"
                f"{(server.home / 'api-server.log').read_text()[-3000:]}")
