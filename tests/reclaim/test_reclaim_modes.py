"""Dry run, automatic and approval mode on the sandbox: what reaches Zoom and what the warehouse says."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.reclaim.world import AS_OF
from zoom_sam.reclaim.approval import approved
from zoom_sam.reclaim.process import ReclaimNotApproved
from zoom_sam.warehouse.schema import license_position


def test_dry_run_reports_every_change_and_sends_none(any_world):
    world = any_world
    world.entitle(unit_cost="149.90")
    alice = world.licensed("alice", addons=("webinar",))
    bob = world.licensed("bob", addons=("large_meeting",))
    seat_a, webinar_a, seat_b = world.candidate(alice), world.candidate(alice, "webinar"), world.candidate(bob)
    large_b = world.candidate(bob, "large_meeting")

    outcome = world.reclaim("dry_run")

    assert world.writes() == []
    assert all(state == "ready" for state, _ in world.states().values())
    assert world.actions(dry_run=False) == []
    planned = {(a["candidate_id"], a["action"]): a["zoom_message"] for a in world.actions(dry_run=True)}
    assert planned == {
        (webinar_a, "remove_webinar"): f'PATCH /users/{alice["id"]}/settings {{"feature": {{"webinar": false}}}}',
        (seat_a, "downgrade_to_basic"): f'PATCH /users/{alice["id"]} {{"type": 1}}',
        (large_b, "remove_large_meeting"): f'PATCH /users/{bob["id"]}/settings {{"feature": {{"large_meeting": false}}}}',
        (seat_b, "downgrade_to_basic"): f'PATCH /users/{bob["id"]} {{"type": 1}}',
    }
    summary = outcome.summary()
    assert summary["dry_run"] and summary["closed_complete"] == 4 and summary["writes"] == 0
    assert summary["savings"]["zoom_meetings_licensed"] == {"subscriptions": 2, "saving": 299.8, "currency": "USD"}
    text = outcome.render()
    assert "DRY RUN, nothing was sent to Zoom" in text
    assert "| bob@example.com | `zoom_meetings_licensed` | would reclaim |" in text and "149.90 USD" in text
    assert world.user(alice)["type"] == 2 and world.user(bob)["settings"]["feature"]["large_meeting"] is True


def test_dry_run_reads_nothing_from_zoom_and_plans_from_the_download(any_world):
    """A dry run writes nothing, so it re-checks nothing live: it plans from what the run's download
    read (a seat whose add-on stays is kept) and says a real run re-checks first (which would find
    bob's upcoming meeting)."""
    world = any_world
    alice = world.licensed("alice", addons=("webinar",))  # her webinar add-on is no candidate
    bob = world.licensed("bob")
    seat_a, seat_b = world.candidate(alice), world.candidate(bob)
    world.account.add_meeting(bob["email"], AS_OF + timedelta(days=2))

    outcome = world.reclaim("dry_run", client_factory=lambda: pytest.fail("a dry run built a Zoom client"))

    assert world.api_calls() == []
    results = {r.candidate.candidate_id: r for r in outcome.results}
    assert (results[seat_a].state, results[seat_a].detail[:12]) == ("closed_skipped", "add-on kept:")
    assert results[seat_b].state == "closed_complete" and "live re-check" in results[seat_b].detail
    assert "re-checks each user live first" in outcome.render()
    assert (outcome.api, outcome.minimal) == ({}, {})
    assert [a["candidate_id"] for a in world.actions(dry_run=True)] == [seat_b]


def test_a_real_run_whose_re_checks_all_pass_makes_exactly_its_budget(world):
    """Three idle seats: settings, previous and upcoming meetings and the downgrade each, plus the user
    listing before and after the writes; nothing more."""
    for _ in range(3):
        world.candidate(world.licensed())

    outcome = world.reclaim()

    assert outcome.counts()["closed_complete"] == 3
    assert outcome.minimal == {"Medium": 3 * 3 + 2, "Light": 3}
    assert {cat: n for cat, n in outcome.api["calls"].items() if n} == outcome.minimal


def test_dry_run_over_a_guard_reports_it_instead_of_failing(world):
    for _ in range(3):
        world.candidate(world.licensed())
    outcome = world.reclaim("dry_run", max_per_run=2)
    assert outcome.guard.exceeded and "max_per_run to at least 3" in outcome.render()
    assert world.writes() == []


def test_automatic_reclaims_and_leaves_the_account_as_confirmed(any_world):
    world = any_world
    world.entitle(unit_cost="149.90")
    world.entitle("zoom_webinar_500", unit_cost="690.00")
    world.position()
    world.position("zoom_webinar_500", unit_cost="690.00")
    alice = world.licensed("alice", addons=("webinar",))
    bob = world.licensed("bob", addons=("large_meeting",))
    carol = world.licensed("carol")
    invited = world.licensed("invited", pending=True)
    ids = [world.candidate(alice), world.candidate(alice, "webinar"), world.candidate(bob),
           world.candidate(bob, "large_meeting"), world.candidate(carol), world.candidate(invited)]

    outcome = world.reclaim(rules=[{"software_model": "*", "last_activity_threshold_days": 60,
                                    "disassociate_pending_invitations": True}])

    assert {world.state(i) for i in ids} == {"closed_complete"}
    for user in (alice, bob, carol):
        account = world.user(user)
        assert account["type"] == 1
        assert not account["settings"]["feature"].get("webinar") and not account["settings"]["feature"].get("large_meeting")
    assert world.user(invited) is None
    rows = world.actions()
    assert {r["status"] for r in rows} == {"succeeded"} and {r["http_status"] for r in rows} == {204}
    confirmations = {(r["email"], r["action"]): r["confirmation"] for r in rows}
    assert confirmations[("alice@example.com", "remove_webinar")] == "GET /users/{id}/settings: feature.webinar = false"
    assert confirmations[("carol@example.com", "downgrade_to_basic")] == "GET /users listing after the writes: type 1"
    assert confirmations[("invited@example.com", "disassociate_invitation")] == (
        "GET /users listing after the writes: invitation no longer listed")
    assert ("DELETE", "/v2/users/invited@example.com") in world.writes()
    with world.engine.connect() as conn:
        savings = dict(conn.execute(sa.select(license_position.c.software_model, license_position.c.actual_savings)).all())
    assert savings == {"zoom_meetings_licensed": Decimal("599.60"), "zoom_webinar_500": Decimal("690.00")}
    assert outcome.summary()["closed_complete"] == 6


def test_addons_go_before_the_seat_and_are_confirmed_first(world):
    alice = world.licensed("alice", addons=("webinar", "large_meeting"))
    world.candidate(alice)
    world.candidate(alice, "webinar")
    world.candidate(alice, "large_meeting")
    world.reclaim()
    uid = alice["id"]
    calls = [c for c in world.api_calls() if c[1].startswith(f"/v2/users/{uid}")]
    patches = [c for c in calls if c[0] == "PATCH"]
    assert patches == [("PATCH", f"/v2/users/{uid}/settings"), ("PATCH", f"/v2/users/{uid}/settings"),
                       ("PATCH", f"/v2/users/{uid}")]
    # the settings are read back between the add-on removals and the downgrade
    last_removal = max(i for i, c in enumerate(calls) if c == ("PATCH", f"/v2/users/{uid}/settings"))
    assert calls[last_removal + 1:] == [("GET", f"/v2/users/{uid}/settings"), ("PATCH", f"/v2/users/{uid}")]
    assert [r["action"] for r in world.actions()] == ["remove_webinar", "remove_large_meeting", "downgrade_to_basic"]


def test_rerun_after_completion_calls_nothing(world):
    world.candidate(world.licensed(addons=("webinar",)))
    world.reclaim()
    world.sb.log.clear()
    calls = []

    outcome = world.reclaim(client_factory=lambda: calls.append(1) or world.client())

    assert calls == [] and list(world.sb.log) == []
    assert outcome.results == []


def test_approval_mode_needs_an_approve(world):
    seat = world.candidate(world.licensed(), state="awaiting_approval")
    with pytest.raises(ReclaimNotApproved, match="nothing was reclaimed"):
        world.reclaim("approval", approved=False)
    assert world.state(seat) == "awaiting_approval" and world.api_calls() == []

    world.reclaim("approval", approved=True)
    assert world.state(seat) == "closed_complete"


@pytest.mark.parametrize(("answer", "expected"), [
    ({"chosen_options": ["Approve"], "responded_by_user": {"id": "admin", "name": "admin"}}, True),
    ({"chosen_options": ["Reject"], "responded_by_user": {"id": "admin", "name": "admin"}}, False),
    # a response timeout records the operator's defaults with nobody as the responder
    ({"chosen_options": ["Approve"], "responded_by_user": None}, False),
    ({"chosen_options": ["Reject"], "responded_by_user": None}, False),
    (None, False),
])
def test_only_a_persons_approve_counts(answer, expected):
    assert approved(answer) is expected
