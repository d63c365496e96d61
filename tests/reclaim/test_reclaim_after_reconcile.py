"""Reconcile, then reclaim, on both warehouses: the candidates reclaim acts on are reconcile's own."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.reclaim.world import ALIAS, AS_OF
from tests.reconcile.account import Account
from zoom_sam.reconcile import reconcile
from zoom_sam.warehouse.schema import license_position, software_subscription


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
    position = _seat_position(world)
    assert position["actual_savings"] == Decimal("149.90")
    # The confirmed downgrade ended the subscription at once: the same day's position agrees with Zoom.
    assert (position["assigned"], position["reclaimable"], position["potential_savings"]) == (1, 0, Decimal("0.00"))
    with world.engine.connect() as conn:
        held = dict(conn.execute(sa.select(software_subscription.c.email, software_subscription.c.active)).all())
    assert held == {"idle@example.com": False, "busy@example.com": True}

    # Re-running the date converges: same candidates, same figures, no call to Zoom.
    calls = len(world.sb.log)
    reconcile(world.engine, ALIAS, AS_OF, mode="automatic", run_id="scheduled__2026-11-28")
    world.reclaim()
    assert _seat_position(world) == position and len(world.sb.log) == calls


def _seat_position(world) -> dict:
    with world.engine.connect() as conn:
        row = conn.execute(sa.select(license_position).where(
            license_position.c.as_of == AS_OF, license_position.c.software_model == "zoom_meetings_licensed")
        ).mappings().one()
    return {k: v for k, v in row.items() if k != "computed_at"}


def test_reclaim_acts_on_reconciles_candidates_sqlite(world):
    _reconcile_then_reclaim(world)


@pytest.mark.postgres
def test_reclaim_acts_on_reconciles_candidates_postgresql(make_world, pg_url):
    _reconcile_then_reclaim(make_world(url=pg_url.replace("+psycopg2", "+psycopg")))
