"""The headless door of "Connect a Zoom account": ``python -m zoom_sam.connect <conn_id>`` against the sandbox.

The command prints Zoom's authorize URL and reads back the address the admin's browser was sent
to; here the admin is played by the test (``tests.support.sandbox.consent``), reading the URL from
the command's output and typing the redirected address into its standard input.
"""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys

import pytest
import sqlalchemy as sa

from tests.support.sandbox import consent
from tests.support.token_chain import (  # noqa: F401  (fixtures)
    chain_warehouse,
    fernet_key,
    refresh_connection,
    shared_app,
)
from tests.support.warehouse import warehouse  # noqa: F401  (fixture)
from tests.support.zoom_state import fresh_zoom_state  # noqa: F401  (autouse fixture)
from zoom_sam import connect
from zoom_sam.hooks.zoom import ZoomHook
from zoom_sam.warehouse.schema import oauth_token_chain

REDIRECT = "https://airflow.example.com/zoom-sam/connect/callback"
CONN = "zoom_acme"


@pytest.fixture
def headless(shared_app, chain_warehouse, monkeypatch):  # noqa: F811
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN.upper()}", refresh_connection(shared_app, "acct-a"))
    monkeypatch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "a-test-signing-secret")
    return shared_app


class Admin:
    """Standard input of the command: reads the URL the command printed, consents, types the address."""

    def __init__(self, output: io.StringIO, decision: str = "allow") -> None:
        self.output, self.decision, self.typed = output, decision, None

    def readline(self) -> str:
        url = re.search(r"^\s+(http://\S+/oauth/authorize\?\S+)$", self.output.getvalue(), re.M).group(1)
        self.typed = consent(url, self.decision, account_id="acct-a")
        return self.typed + "\n"


def _chains(chain_warehouse) -> list:  # noqa: F811
    with chain_warehouse.engine.connect() as conn:
        return conn.execute(sa.select(oauth_token_chain.c.conn_id).where(
            oauth_token_chain.c.refresh_token.is_not(None))).scalars().all()


def test_the_command_prints_the_url_takes_the_address_back_and_starts_the_chain(headless, chain_warehouse):  # noqa: F811
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "zoom_sam.connect", CONN, "--redirect-uri", REDIRECT],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    printed = ""
    while "/oauth/authorize?" not in printed:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        printed += line
    url = re.search(r"(http://\S+/oauth/authorize\?\S+)", printed).group(1)
    back = consent(url, account_id="acct-a")
    assert back.startswith(REDIRECT + "?code=")
    out, err = proc.communicate(back + "\n", timeout=120)
    assert proc.returncode == 0, err
    assert "Connected: the refresh-token chain of connection 'zoom_acme' started" in out
    assert _chains(chain_warehouse) == [CONN]
    client = ZoomHook(CONN).get_conn()
    assert {u["id"] for u in client.list_users()} == {u["id"] for u in headless.account("acct-a").users("active")}
    secret = headless.config.account("acct-a").client_secret
    code = re.search(r"code=([^&]+)", back).group(1)
    assert secret not in out + err and code not in out + err


def test_a_declined_consent_or_a_pasted_address_of_another_authorization_changes_nothing(headless, chain_warehouse):  # noqa: F811
    output = io.StringIO()
    assert connect.main([CONN, "--redirect-uri", REDIRECT], stdin=Admin(output, "deny"), stdout=output) == 1
    assert _chains(chain_warehouse) == []

    other = connect.begin(CONN, user="airflow:admin", redirect_uri=REDIRECT)  # someone started one in the UI
    pasted = io.StringIO(consent(other.url, account_id="acct-a") + "\n")
    assert connect.main([CONN, "--redirect-uri", REDIRECT], stdin=pasted, stdout=io.StringIO()) == 1
    assert _chains(chain_warehouse) == []


def test_the_command_refuses_a_server_to_server_connection(shared_app, chain_warehouse, monkeypatch, capsys):  # noqa: F811
    monkeypatch.setenv("AIRFLOW_CONN_ZOOM_S2S", shared_app.connection_json("acct-a"))
    monkeypatch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "a-test-signing-secret")
    assert connect.main(["zoom_s2s", "--redirect-uri", REDIRECT], stdin=io.StringIO(), stdout=io.StringIO()) == 1
    assert "account_credentials" in capsys.readouterr().err
