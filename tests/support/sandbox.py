"""Sandbox fixtures: a small synthetic Zoom account at a fixed anchor, and Zoom's truth read from it."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from zoom_sam.sandbox import AccountConfig, SandboxConfig, SandboxServer

ANCHOR = datetime(2026, 11, 28, tzinfo=timezone.utc)
# A generous limit on both sides (sandbox and client): tests are about correctness, and the
# Business-plan limit would make every 300-user download take two seconds of waiting.
FAST_LIMITS = {"Light": 2000, "Medium": 2000, "Heavy": 2000}


@pytest.fixture
def sandbox():
    config = SandboxConfig(accounts=[AccountConfig(users=300, seed=11, rate_limits=FAST_LIMITS)], anchor=ANCHOR)
    with SandboxServer(config) as sb:
        yield sb


def connection_json(sandbox, **extra) -> str:
    """The sandbox's Zoom connection with the test limits, small pages and quick retries."""
    return sandbox.connection_json(rate_limits=FAST_LIMITS, page_size=50, backoff_base=0.01, max_retries=1, **extra)


def expected_seats(sandbox) -> set[str]:
    """Who holds the Licensed seat in Zoom (pending invitations keyed by email)."""
    return {u.get("id") or u["email"].lower() for u in sandbox.account().users()
            if u["type"] == 2 and u["status"] in ("active", "pending")}
