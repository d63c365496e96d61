"""Fixtures for the Zoom client tests: sandboxes on 127.0.0.1 and clients pointed at them."""
from __future__ import annotations

import pytest

from zoom_sam.zoom.client import ZoomClient

from tests.support.sandbox import make_sandbox  # noqa: F401  (fixture)
from tests.support.warehouse import warehouse  # noqa: F401  (fixture)
from tests.support.zoom_state import fresh_zoom_state  # noqa: F401  (autouse fixture)
from zoom_helpers import config_for


@pytest.fixture
def sandbox(make_sandbox):
    return make_sandbox()


@pytest.fixture
def client_for():
    clients = []

    def make(sb, extra: dict | None = None, **kw) -> ZoomClient:
        chain = kw.pop("token_chain", None)
        mask = kw.pop("mask", None)
        retry = kw.pop("retry", None)
        client = ZoomClient(config_for(sb, extra, **kw), token_chain=chain, mask=mask, retry=retry)
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.close()


