"""Sandbox servers for the sandbox's own tests."""
from __future__ import annotations

import pytest

from tests.zoom_sandbox.sandbox_client import ALL_SCOPES, UNLIMITED, Client, config
from zoom_sandbox import AccountConfig, SandboxConfig, SandboxServer


@pytest.fixture
def make_sandbox():
    """Start sandboxes from a config (see ``config``) and stop them after the test."""
    started = []

    def make(cfg: SandboxConfig | None = None) -> SandboxServer:
        sb = SandboxServer(cfg or config()).start()
        started.append(sb)
        return sb

    yield make
    for sb in started:
        sb.stop()


@pytest.fixture
def sandbox(make_sandbox) -> SandboxServer:
    """300 users, default scopes, business-plan limits."""
    return make_sandbox()


@pytest.fixture
def open_sandbox(make_sandbox) -> SandboxServer:
    """300 users, every scope the sandbox knows, no practical rate limit."""
    return make_sandbox(config([AccountConfig(users=300, scopes=ALL_SCOPES, rate_limits=UNLIMITED)]))


@pytest.fixture
def client(sandbox) -> Client:
    return Client(sandbox)


@pytest.fixture
def open_client(open_sandbox) -> Client:
    return Client(open_sandbox)
