"""Fixtures for the Zoom client tests: sandboxes on 127.0.0.1 and clients pointed at them."""
from __future__ import annotations

from contextlib import ExitStack

import pytest

from zoom_sam.zoom.auth import clear_token_cache
from zoom_sam.zoom.client import ZoomClient
from zoom_sam.zoom.ratelimit import reset_limiters

from zoom_helpers import ANCHOR, config_for


@pytest.fixture(autouse=True)
def _fresh_process_state():
    """Token cache and limiters are process-wide by design; tests must not share them."""
    clear_token_cache()
    reset_limiters()
    yield
    clear_token_cache()
    reset_limiters()


@pytest.fixture
def make_sandbox():
    """make_sandbox(users=..., scopes=..., rate_limits=..., latency_ms=..., retry_after=...) -> running server."""
    from zoom_sam.sandbox import AccountConfig, SandboxConfig, SandboxServer

    with ExitStack() as stack:
        def make(*, latency_ms: float = 0, retry_after: str = "iso", token_ttl_s: int = 3600,
                 anchor=ANCHOR, **account_kw):
            account_kw.setdefault("users", 120)
            cfg = SandboxConfig(accounts=[AccountConfig(**account_kw)], anchor=anchor, latency_ms=latency_ms,
                                token_ttl_s=token_ttl_s, retry_after=retry_after)
            return stack.enter_context(SandboxServer(cfg, port=0))

        yield make


@pytest.fixture
def sandbox(make_sandbox):
    return make_sandbox()


@pytest.fixture
def client_for():
    clients = []

    def make(sb, extra: dict | None = None, **kw) -> ZoomClient:
        store = kw.pop("token_store", None)
        mask = kw.pop("mask", None)
        client = ZoomClient(config_for(sb, extra, **kw), token_store=store, mask=mask)
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.close()


