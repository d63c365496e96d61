"""Sandbox fixtures: a small synthetic Zoom account at a fixed anchor, and Zoom's truth read from it."""
from __future__ import annotations

import json
from collections.abc import Mapping
from contextlib import ExitStack
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
import requests

from zoom_sandbox import AccountConfig, SandboxConfig, SandboxServer
from zoom_sam.zoom.auth import authorize_url

if TYPE_CHECKING:
    from zoom_sam.zoom.client import ZoomClient

ANCHOR = datetime(2026, 11, 28, tzinfo=timezone.utc)
# A generous limit on both sides (sandbox and client): tests are about correctness, and the
# Business-plan limit would make every 300-user download take two seconds of waiting.
FAST_LIMITS = {"Light": 2000, "Medium": 2000, "Heavy": 2000}


@pytest.fixture
def sandbox():
    config = SandboxConfig(accounts=[AccountConfig(users=300, seed=11, rate_limits=FAST_LIMITS)], anchor=ANCHOR)
    with SandboxServer(config) as sb:
        yield sb


@pytest.fixture
def make_sandbox():
    """``make_sandbox(users=..., scopes=..., rate_limits=..., latency_ms=..., retry_after=...)``:
    sandboxes built to a test's needs, all stopped when it ends."""
    with ExitStack() as stack:
        def make(*, latency_ms: float = 0, retry_after: str = "iso", token_ttl_s: int = 3600,
                 anchor=ANCHOR, **account_kw):
            account_kw.setdefault("users", 120)
            config = SandboxConfig(accounts=[AccountConfig(**account_kw)], anchor=anchor, latency_ms=latency_ms,
                                   token_ttl_s=token_ttl_s, retry_after=retry_after)
            return stack.enter_context(SandboxServer(config, port=0))

        yield make


def connection_json(sandbox, **extra) -> str:
    """The sandbox's Zoom connection with the test limits, small pages and quick retries."""
    return sandbox.connection_json(rate_limits=FAST_LIMITS, page_size=50, backoff_base=0.01, max_retries=1, **extra)


def direct_client(connection: str | Mapping[str, Any], **overrides: Any) -> ZoomClient:
    """A Zoom client straight from a sandbox's connection JSON (text or parsed), without Airflow:
    child processes start faster, benchmarks measure the client alone. ``overrides`` set config fields."""
    from zoom_sam.zoom.client import ZoomClient, ZoomConfig

    c = json.loads(connection) if isinstance(connection, str) else connection
    return ZoomClient(ZoomConfig.from_connection_fields(host=c["host"], login=c["login"], password=c["password"],
                                                        extra=c["extra"], **overrides))


def expected_seats(sandbox) -> set[str]:
    """Who holds the Licensed seat in Zoom (pending invitations keyed by email)."""
    return {u.get("id") or u["email"].lower() for u in sandbox.account().users()
            if u["type"] == 2 and u["status"] in ("active", "pending")}


def authorization_code(sandbox, redirect_uri: str, state: str = "xyz", account_id: str | None = None) -> str:
    """An admin (of ``account_id``, default the first account) consents in the sandbox: the code its
    redirect carries back to ``redirect_uri``."""
    acct = sandbox.config.account(account_id)
    url = authorize_url(acct.client_id, redirect_uri, state=state, base=sandbox.authorize_url)
    query = parse_qs(urlsplit(consent(url, account_id=acct.account_id)).query)
    assert query["state"] == [state]
    return query["code"][0]


def consent(url: str, decision: str = "allow", **params: str) -> str:
    """Open a sandbox authorize ``url`` (its consent page) and answer it as the admin would: the
    address Zoom's redirect sends the browser to. ``params`` add query parameters (``account_id``)."""
    page = requests.get(url, params=params or None, allow_redirects=False, timeout=5)
    assert page.status_code == 200 and 'value="allow"' in page.text, page.text
    query = {**dict(parse_qsl(urlsplit(url).query)), **params}
    resp = requests.post(url.split("?")[0], data={**query, "consent": decision}, allow_redirects=False, timeout=5)
    assert resp.status_code == 302, resp.text
    return resp.headers["Location"]
