"""Reconcile suites: every test runs on SQLite and on PostgreSQL (the shared ``warehouse`` fixture)."""
from __future__ import annotations

import pytest

from tests.reconcile.account import Account
from tests.support.warehouse import warehouse  # noqa: F401  (fixture)


@pytest.fixture
def account(warehouse):  # noqa: F811  (the imported fixture)
    return Account(warehouse.engine)
