"""Start and stop docker-compose.yaml's services as processes on 127.0.0.1.

What maps to what:

=====================  ===================================================================
compose service        here
=====================  ===================================================================
postgres               two fresh databases on the local server (127.0.0.1:5432, user
                       ``postgres``): the Airflow metadata and the zoom_sam warehouse
redis                  one database number of the local Redis (127.0.0.1:6379), emptied
                       before and after
airflow-init           ``airflow db migrate``, and the admin's password written to the
                       SimpleAuthManager passwords file
airflow-apiserver      ``airflow api-server`` on a free port, one worker
airflow-scheduler      ``airflow scheduler`` (health check server on a free port)
airflow-dag-processor  ``airflow dag-processor``
airflow-triggerer      ``airflow triggerer``
airflow-worker (x2)    ``airflow celery worker`` twice, each with its own Celery node name
                       and its own task-instance hostname (:mod:`stack.hostname`)
=====================  ===================================================================

Every component gets the environment the compose file gives it: CeleryExecutor, the same Fernet
key, JWT secret and execution API URL, ``zoom_sam_warehouse`` pointing at the warehouse database,
the profiles folder, and the connections the caller adds. Nothing serves logs over the network
(the components share ``$AIRFLOW_HOME/logs``, as the compose services share their logs volume),
and every port is bound to 127.0.0.1.

Readiness is polled with deadlines (the api-server's health endpoint, which also reports the
scheduler's, triggerer's and dag-processor's heartbeats; each worker's "ready" line), never slept
for; a component that exits meanwhile fails the start at once with the end of its log.
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
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import requests
import sqlalchemy as sa

from project import ROOT, airflow_environment

PG_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
ADMIN = "admin"
WORKERS = ("stack-a", "stack-b")
WORKER_CONCURRENCY = 2
WAREHOUSE_CONN_ID = "zoom_sam_warehouse"
START_TIMEOUT_S = 240
STOP_TIMEOUT_S = 30
POLL_S = 0.5


class StackError(RuntimeError):
    """The stack did not start or a component died; the message says which and ends with its log."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, ready: Callable[[], bool], deadline: float, check: Callable[[], None] = lambda: None) -> None:
    """Poll ``ready`` until it is true; ``check`` raises when waiting longer is pointless."""
    while not ready():
        check()
        if time.monotonic() > deadline:
            raise StackError(f"{what}: not within the deadline")
        time.sleep(POLL_S)


def redis(*commands: tuple[str | int, ...]) -> list[str]:
    """Send ``commands`` over one RESP connection and return their simple replies: the harness needs
    only PING, SELECT and FLUSHDB, and no Redis client of its own for that."""
    payload = "".join(f"*{len(cmd)}\r\n" + "".join(f"${len(str(a).encode())}\r\n{a}\r\n" for a in cmd)
                      for cmd in commands)
    with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=5) as s:
        s.sendall(payload.encode())
        answer = b""
        while answer.count(b"\r\n") < len(commands):
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
    replies = answer.decode(errors="replace").split("\r\n")[:len(commands)]
    if len(replies) < len(commands) or any(not r.startswith("+") for r in replies):
        raise StackError(f"redis {commands}: {answer!r}")
    return [r[1:] for r in replies]


def flush_redis_db(db: int) -> None:
    """Empty the stack's own Redis database, so no Celery message of an earlier run is delivered."""
    redis(("SELECT", db), ("FLUSHDB",))


class Databases:
    """Fresh PostgreSQL databases on the local server, dropped by :meth:`drop`."""

    def __init__(self, prefix: str) -> None:
        self.prefix = f"{prefix}_{uuid.uuid4().hex[:10]}"
        self.names: list[str] = []
        self._admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def create(self, role: str) -> str:
        """A new database; returns its SQLAlchemy URL (driver left to the caller)."""
        name = f"{self.prefix}_{role}"
        with self._admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        self.names.append(name)
        return PG_ADMIN_URL.rsplit("/", 1)[0].replace("+psycopg2", "") + f"/{name}"

    def drop(self) -> None:
        with self._admin.connect() as conn:
            for name in reversed(self.names):
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.names.clear()
        self._admin.dispose()


@dataclass
class Component:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True, cwd=ROOT)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, deadline: float) -> None:
        """SIGTERM to its process group (Celery's warm shutdown, uvicorn's graceful stop), SIGKILL at the deadline."""
        if self.process is None:
            return
        if self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        _signal_group(self.process.pid, signal.SIGKILL)  # stragglers of the group (task processes)
        if self.process.poll() is None:
            self.process.wait()


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


@dataclass
class Stack:
    """The topology in ``home``: ``with Stack(home, profiles, connections) as stack: stack.api_url``.

    ``connections`` are extra ``AIRFLOW_CONN_<ID>`` values (JSON) given to every component, as a
    deployment would put them in its environment or secrets backend.
    """

    home: Path
    profiles: Path
    connections: Mapping[str, str] = field(default_factory=dict)
    redis_db: int = 11
    prefix: str = "zoom_sam_stack"
    components: list[Component] = field(default_factory=list)
    fernet_key: str = ""
    api_url: str = ""
    admin_password: str = ""
    metadata_url: str = ""
    warehouse_url: str = ""

    def __post_init__(self) -> None:
        self.logs = self.home / "component-logs"
        self._databases = Databases(self.prefix)

    def __enter__(self) -> Stack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------------------ start

    def start(self) -> None:
        from cryptography.fernet import Fernet

        self.logs.mkdir(parents=True, exist_ok=True)
        self.metadata_url = self._databases.create("airflow")
        self.warehouse_url = self._databases.create("warehouse")
        flush_redis_db(self.redis_db)
        self.fernet_key = Fernet.generate_key().decode()
        self.admin_password = secrets.token_urlsafe(16)
        passwords = self.home / "simple_auth_manager_passwords.json"
        passwords.write_text(json.dumps({ADMIN: self.admin_password}))
        port = free_port()
        self.api_url = f"http://127.0.0.1:{port}"
        env = self._environment(port)
        self._init(env)
        self.components = [
            self._component("api-server", ["api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"], env),
            self._component("scheduler", ["scheduler", "--skip-serve-logs"], env),
            self._component("dag-processor", ["dag-processor"], env),
            self._component("triggerer", ["triggerer", "--skip-serve-logs"], env),
            *(self._component(f"worker-{name}", ["celery", "worker", "--celery-hostname", f"{name}@127.0.0.1",
                                                 "--concurrency", str(WORKER_CONCURRENCY), "--skip-serve-logs",
                                                 "--without-gossip", "--without-mingle"],
                              {**env, "AIRFLOW__CORE__HOSTNAME_CALLABLE": "stack.hostname.worker_hostname",
                               "ZOOM_SAM_STACK_HOSTNAME": name})
              for name in WORKERS),
        ]
        for component in self.components:
            component.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        wait_for("the api-server, scheduler, triggerer and dag-processor to report healthy",
                 self._healthy, deadline, self.check)
        for worker in self.components[-len(WORKERS):]:
            wait_for(f"{worker.name} to be ready", lambda w=worker: " ready." in w.tail(200), deadline, self.check)

    def _environment(self, port: int) -> dict[str, str]:
        bin_dir = Path(sys.executable).parent
        return {
            **os.environ,
            **airflow_environment(self.home),
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.metadata_url.replace("postgresql://", "postgresql+psycopg2://"),
            "AIRFLOW__CELERY__BROKER_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{self.redis_db}",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{self.metadata_url}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
            "AIRFLOW__CORE__FERNET_KEY": self.fernet_key,
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.home / "simple_auth_manager_passwords.json"),
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": "127.0.0.1",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "ZOOM_SAM_PROFILES_DIR": str(self.profiles),
            # A failed task fails the run at once instead of waiting out minutes of retry delay.
            "ZOOM_SAM_TASK_RETRIES": "0",
            f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}": self.warehouse_url,
            **{f"AIRFLOW_CONN_{conn_id.upper()}": value for conn_id, value in self.connections.items()},
        }

    def _init(self, env: dict[str, str]) -> None:
        """airflow-init: the metadata database's schema."""
        log = self.logs / "init.log"
        with log.open("wb") as out:
            done = subprocess.run([str(Path(sys.executable).with_name("airflow")), "db", "migrate"], env=env,
                                  stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        if done.returncode:
            raise StackError(f"airflow db migrate failed ({log}):\n{log.read_text()[-3000:]}")

    def _component(self, name: str, args: list[str], env: dict[str, str]) -> Component:
        return Component(name, [str(Path(sys.executable).with_name("airflow")), *args], env, self.logs / f"{name}.log")

    def _healthy(self) -> bool:
        try:
            resp = requests.get(f"{self.api_url}/api/v2/monitor/health", timeout=5)
        except requests.RequestException:
            return False
        if resp.status_code != 200:
            return False
        health = resp.json()
        return all(health.get(part, {}).get("status") == "healthy"
                   for part in ("metadatabase", "scheduler", "triggerer", "dag_processor"))

    def check(self) -> None:
        """Raise :class:`StackError` naming the first component that is no longer running."""
        for component in self.components:
            if not component.alive():
                code = component.process.returncode if component.process else None
                raise StackError(f"{component.name} exited ({code}); log {component.log}:\n{component.tail()}")

    # ------------------------------------------------------------------------------- stop

    def stop(self) -> None:
        """Stop every component (workers first, so no task is left half-run), then drop what start made."""
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for component in sorted(self.components, key=lambda c: not c.name.startswith("worker")):
            component.stop(deadline)
        try:
            self._databases.drop()
        finally:
            flush_redis_db(self.redis_db)

    def where(self) -> str:
        return f"stack logs: {self.logs} (components), {self.home / 'logs'} (task logs)"
