"""The refresh-token grant in tests: Airflow's Fernet key, a warehouse holding the chains, one
admin-managed app installed in two sandbox accounts, and worker processes using a connection.

Import the fixtures into a suite's conftest (``warehouse`` from ``tests.support.warehouse`` too).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
import requests

from tests.support.sandbox import ANCHOR, FAST_LIMITS, authorization_code
from zoom_sandbox import AccountConfig, SandboxConfig, SandboxServer

REDIRECT = "http://127.0.0.1:1/zoom/oauth/callback"
APP_ID, APP_SECRET = "sam-app", "sam-app-secret"


@pytest.fixture
def fernet_key(monkeypatch) -> str:
    """Airflow's Fernet key for this test (chains are never stored without one)."""
    from cryptography.fernet import Fernet

    from airflow.sdk.crypto import get_fernet

    key = Fernet.generate_key().decode()
    monkeypatch.setenv("AIRFLOW__CORE__FERNET_KEY", key)
    get_fernet.cache_clear()
    yield key
    get_fernet.cache_clear()


@pytest.fixture
def chain_warehouse(warehouse, fernet_key, monkeypatch):
    """The ``warehouse`` (SQLite, then PostgreSQL) as the default warehouse connection, which is
    where ZoomHook keeps refresh-token chains."""
    monkeypatch.setenv("AIRFLOW_CONN_ZOOM_SAM_WAREHOUSE", warehouse.connection_json())
    return warehouse


@pytest.fixture
def shared_app():
    """One admin-managed app installed by two accounts with different users."""
    accounts = [AccountConfig(account_id=f"acct-{x}", client_id=APP_ID, client_secret=APP_SECRET, users=n,
                              seed=seed, rate_limits=FAST_LIMITS)
                for x, n, seed in (("a", 40, 3), ("b", 55, 4))]
    with SandboxServer(SandboxConfig(accounts=accounts, anchor=ANCHOR)) as sb:
        yield sb


def refresh_connection(sb, account_id: str | None = None, **extra) -> str:
    """``AIRFLOW_CONN_<ID>`` of the app with the refresh_token grant. No ``account_id``: it is
    documented for account credentials only, and users leave it out."""
    conn = json.loads(sb.connection_json(account_id, grant_type="refresh_token", rate_limits=FAST_LIMITS,
                                         page_size=50, backoff_base=0.01, max_retries=1, **extra))
    del conn["extra"]["account_id"]
    return json.dumps(conn)


def code_for(sb, account_id: str | None = None) -> str:
    """An authorization code an admin of ``account_id`` grants the app."""
    return authorization_code(sb, REDIRECT, account_id=account_id)


def refresh_token_for(sb, account_id: str | None = None) -> str:
    """A fresh refresh token of ``account_id``, as an admin would paste it into the connection."""
    acct = sb.config.account(account_id)
    resp = requests.post(sb.oauth_url, data={"grant_type": "authorization_code", "code": code_for(sb, account_id),
                                             "redirect_uri": REDIRECT},
                         auth=(acct.client_id, acct.client_secret), timeout=5)
    assert resp.status_code == 200, resp.text
    return resp.json()["refresh_token"]


def token_records(sb) -> list:
    """What the sandbox's token endpoint received, in order (status None: the answer was dropped)."""
    return [r for r in sb.log if r.path == "/oauth/token"]


_WORKER = textwrap.dedent("""
    import json, sys
    from zoom_sam.hooks.zoom import ZoomHook
    client = ZoomHook(zoom_conn_id=sys.argv[1]).get_conn()
    print("RESULT", json.dumps({{"ready": True}}), flush=True)
    for _ in sys.stdin:
        try:
            users = sorted(u["id"] for u in client.list_users())
            out = {{"ok": True, "users": users, "token_requests": client.stats()["token_requests"]}}
        except Exception as exc:
            out = {{"ok": False, "error": f"{{type(exc).__name__}}: {{exc}}"}}
        print("RESULT", json.dumps(out), flush=True)
""")


class Worker:
    """A process that uses one Zoom connection through ZoomHook, as an Airflow worker does.

    It keeps its client (and so its cached access token) between calls; each :meth:`call` lists
    the account's active users and reports them with the process's token requests so far.
    """

    def __init__(self, conn_id: str) -> None:
        self._stderr = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen([sys.executable, "-c", _WORKER.format(), conn_id],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                                     text=True, env=dict(os.environ))
        assert self.receive() == {"ready": True}

    def send(self) -> None:
        self.proc.stdin.write("call\n")
        self.proc.stdin.flush()

    def receive(self) -> dict:
        """The next answer (Airflow's log lines share stdout and are skipped)."""
        while line := self.proc.stdout.readline():
            if line.startswith("RESULT "):
                return json.loads(line.removeprefix("RESULT "))
        self._stderr.seek(0)
        raise AssertionError(f"worker process ended: {self._stderr.read()[-3000:]}")

    def call(self) -> dict:
        self.send()
        return self.receive()

    def close(self) -> None:
        self.proc.stdin.close()
        assert self.proc.wait(timeout=60) == 0
        self._stderr.close()


@pytest.fixture
def workers():
    """``workers(conn_id)`` starts a :class:`Worker`; all are stopped when the test ends."""
    started: list[Worker] = []

    def start(conn_id: str) -> Worker:
        started.append(Worker(conn_id))
        return started[-1]

    yield start
    for w in started:
        w.close()
