"""Reconcile, then reclaim, on both warehouses: the candidates reclaim acts on are reconcile's own."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.reclaim.world import ALIAS, AS_OF, make_profile
from tests.reconcile.account import Account
from zoom_sam.process import GivenZoom, context_for
from zoom_sam.reconcile.process import run as reconcile
from zoom_sam.warehouse.schema import license_position, reconcile_evaluation, software_subscription


def _reconcile_then_reclaim(world):
    world.entitle(unit_cost="149.90")
    account = Account(world.engine, ALIAS)
    account.covered(AS_OF - timedelta(days=90))
    idle = world.licensed("idle")
    busy = world.licensed("busy")
    account.hosted(busy["key"], AS_OF - timedelta(days=2))
    reconcile(context_for(world.engine, make_profile("automatic"), AS_OF, run_id="scheduled__2026-11-28"), GivenZoom())

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
    reconcile(context_for(world.engine, make_profile("automatic"), AS_OF, run_id="scheduled__2026-11-28"), GivenZoom())
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


def _webinar_hosted_the_day_its_addon_goes(world):
    """The reclaim finds a webinar about to start and skips; an admin then removes the add-on, so
    Zoom never lists that webinar again: the next day's reconcile must still count it as use."""
    account = Account(world.engine, ALIAS)
    account.covered(AS_OF - timedelta(days=90), AS_OF + timedelta(days=2))
    host = world.licensed("host", addons=("webinar",))
    world.candidate(host)
    world.candidate(host, "webinar")
    world.account.add_meeting(host["email"], AS_OF + timedelta(minutes=30), duration=60, webinar=True)

    world.reclaim()
    assert {state for state, _ in world.states().values()} == {"closed_skipped"} and world.writes() == []

    world.sb.clock.advance(timedelta(hours=15).total_seconds())
    world.account.set_feature(host["email"], "webinar", False)
    account.end(host["key"], "zoom_webinar_500")
    reconcile(context_for(world.engine, make_profile("automatic"), AS_OF + timedelta(days=1),
                           run_id="scheduled__2026-11-29"), GivenZoom())

    with world.engine.connect() as conn:
        verdict = conn.execute(sa.select(reconcile_evaluation.c.status, reconcile_evaluation.c.last_activity_at)
                               .where(reconcile_evaluation.c.user_id == host["key"])).one()
    assert verdict == ("used", AS_OF + timedelta(minutes=30))


def test_hosting_the_recheck_saw_counts_the_next_day_sqlite(world):
    _webinar_hosted_the_day_its_addon_goes(world)


@pytest.mark.postgres
def test_hosting_the_recheck_saw_counts_the_next_day_postgresql(make_world, pg_url):
    _webinar_hosted_the_day_its_addon_goes(make_world(url=pg_url.replace("+psycopg2", "+psycopg")))
