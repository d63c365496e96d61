"""Activity suites: a sandbox account whose subscriptions were downloaded, on SQLite by default.

``make_account(engine)`` builds the same on any warehouse (the shared ``warehouse`` fixture runs a test on
SQLite and on PostgreSQL). Limiters and tokens are process-wide, so each test starts clean
(``fresh_zoom_state``).
"""
from __future__ import annotations

from contextlib import ExitStack

import pytest

from tests.activity.harness import ActivityAccount, client_for
from tests.support.sandbox import ANCHOR, FAST_LIMITS
from tests.support.warehouse import warehouse  # noqa: F401  (fixture)
from tests.support.zoom_state import fresh_zoom_state  # noqa: F401  (autouse fixture)
from zoom_sandbox import DEFAULT_SCOPES, AccountConfig, SandboxConfig, SandboxServer
from zoom_sam.warehouse.engine import engine_for_url
from zoom_sam.warehouse.migrate import ensure_schema

REPORT_SCOPES = DEFAULT_SCOPES + ("report:read:list_users:admin",)


@pytest.fixture
def make_account(tmp_path):
    """make_account(engine=None, users=80, scopes=..., **client_overrides) -> downloaded ActivityAccount."""
    with ExitStack() as stack:
        def make(engine=None, *, users: int = 80, seed: int = 7, scopes=REPORT_SCOPES, **client_kw):
            cfg = SandboxConfig(accounts=[AccountConfig(users=users, seed=seed, scopes=scopes,
                                                        rate_limits=FAST_LIMITS)], anchor=ANCHOR)
            sb = stack.enter_context(SandboxServer(cfg, port=0))
            if engine is None:
                engine = engine_for_url(f"sqlite:///{tmp_path / 'warehouse.db'}")
                stack.callback(engine.dispose)
                ensure_schema(engine)
            client = client_for(sb, **client_kw)
            stack.callback(client.close)
            acct = ActivityAccount(sb, client, engine)
            acct.download()
            return acct

        yield make


@pytest.fixture
def account(make_account):
    return make_account()
