"""Reconcile, then reclaim, on both warehouses: the candidates reclaim acts on are reconcile's own."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.reclaim.world import ALIAS, AS_OF
from tests.reconcile.account import Account
from zoom_sam.reconcile import reconcile
from zoom_sam.warehouse.schema import license_position


def _reconcile_then_reclaim(world):
    world.entitle(unit_cost="149.90")
    account = Account(world.engine, ALIAS)
    account.covered(AS_OF - timedelta(days=90))
    idle = world.licensed("idle")
    busy = world.licensed("busy")
    account.hosted(busy["key"], AS_OF - timedelta(days=2))
    reconcile(world.engine, ALIAS, AS_OF, mode="automatic", run_id="scheduled__2026-11-28")

    outcome = world.reclaim()

    assert [r.candidate.email for r in outcome.results] == ["idle@example.com"]
    assert outcome.results[0].state == "closed_complete"
    assert world.user(idle)["type"] == 1 and world.user(busy)["type"] == 2
    assert world.writes() == [("PATCH", f"/v2/users/{idle['id']}")]
    with world.engine.connect() as conn:
        actual = conn.execute(sa.select(license_position.c.actual_savings).where(
            license_position.c.as_of == AS_OF, license_position.c.software_model == "zoom_meetings_licensed")).scalar_one()
    assert actual == Decimal("149.90")


def test_reclaim_acts_on_reconciles_candidates_sqlite(world):
    _reconcile_then_reclaim(world)


@pytest.mark.postgres
def test_reclaim_acts_on_reconciles_candidates_postgresql(make_world, pg_url):
    _reconcile_then_reclaim(make_world(url=pg_url.replace("+psycopg2", "+psycopg")))
