"""Approval mode end to end below Airflow: the request stamps its candidates, the answer is read
strictly and recorded on each, and reclaim writes only what that answer approved, on SQLite and
PostgreSQL. Plus the one decider of a run's mode, with the run's parameters."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.reclaim.world import APPROVE, APPROVE_ALL_BUT, AS_OF, PERSON, REJECT, RUN_ID, event, make_profile
from zoom_sam.process import RunOptions, context_for
from zoom_sam.reclaim.approval import ApprovalRefused, Requested, approval_request, decide
from zoom_sam.reclaim.model import run_mode
from zoom_sam.vocabulary import ApprovalDecision, Mode
from zoom_sam.warehouse.schema import removal_candidate

REQUEST = [Requested(1, "u-ann", "ann@example.com", "zoom_meetings_licensed", None),
           Requested(2, "u-ann", "ann@example.com", "zoom_webinar_500", None),
           Requested(3, "u-bob", "Bob@Example.com", "zoom_meetings_licensed", None)]


def test_approve_approves_every_candidate_of_the_request():
    decision = decide(event(APPROVE), REQUEST)
    assert decision.approved == {1, 2, 3} and not decision.left_out and decision.by == "SAM manager (sam)"


@pytest.mark.parametrize("listed", [["bob@example.com"], ["u-bob"], ["  BOB@EXAMPLE.COM\n"], "bob@example.com"])
def test_all_but_leaves_out_every_subscription_of_the_listed_user(listed):
    decision = decide({**event(APPROVE_ALL_BUT), "params_input": {"leave_out": listed}}, REQUEST)
    assert decision.approved == {1, 2} and decision.left_out == {3}
    assert decision.of(3) == ApprovalDecision.LEFT_OUT and decision.of(1) == ApprovalDecision.APPROVED


def test_several_users_in_one_line_are_each_left_out():
    decision = decide(event(APPROVE_ALL_BUT, ["ann@example.com, u-bob"]), REQUEST)
    assert decision.approved == set() and decision.left_out == {1, 2, 3}


@pytest.mark.parametrize(("answer", "match"), [
    (event(APPROVE_ALL_BUT, ["bob@example.com", "carl@example.com"]), "carl@example.com, who is not a user"),
    (event(APPROVE_ALL_BUT, ["bob@example"]), "bob@example, who is not a user"),  # no partial matches
    (event(APPROVE_ALL_BUT, ["ann"]), "ann, who is not a user"),
    (event(APPROVE, ["bob@example.com"]), "lists users to leave out"),
    (event(APPROVE_ALL_BUT, []), "lists nobody"),
    ({**event(APPROVE), "chosen_options": [APPROVE, REJECT]}, "exactly one of"),
    ({**event(APPROVE), "chosen_options": ["Approve all"]}, "exactly one of"),
    ({**event(APPROVE_ALL_BUT), "params_input": {"leave_out": [{"email": "bob@example.com"}]}}, "must be a list"),
    ({**event(APPROVE), "params_input": {"leave_out": [], "max_per_run": 500}}, "form fields"),
])
def test_an_answer_that_is_not_one_clear_intent_is_refused(answer, match):
    with pytest.raises(ApprovalRefused, match=match):
        decide(answer, REQUEST)


@pytest.mark.parametrize(("answer", "overall"), [
    (event(REJECT), ApprovalDecision.REJECTED),
    (event(REJECT, ["whoever"]), ApprovalDecision.REJECTED),  # a reject needs no valid list to reject
    (event(APPROVE, by=None), ApprovalDecision.TIMED_OUT),
    (event(APPROVE, timedout=True), ApprovalDecision.TIMED_OUT),
    (event(REJECT, by=None, timedout=True), ApprovalDecision.TIMED_OUT),
])
def test_reject_and_timeouts_approve_nothing(answer, overall):
    decision = decide(answer, REQUEST)
    assert decision.approved == set() and decision.overall == overall
    assert {decision.of(r.candidate_id) for r in REQUEST} == {overall}


def _decisions(world) -> dict[int, tuple]:
    c = removal_candidate.c
    with world.engine.connect() as conn:
        return {r.candidate_id: (r.state, r.approval_run_id, r.approval_decision, r.approval_by)
                for r in conn.execute(sa.select(c.candidate_id, c.state, c.approval_run_id, c.approval_decision,
                                                c.approval_by))}


def test_ask_answer_reclaim_with_users_left_out(any_world):
    world = any_world
    world.covered()
    ann, bob, cyd = world.licensed("ann", addons=("webinar",)), world.licensed("bob"), world.licensed("cyd")
    ann_seat, ann_webinar = world.candidate(ann, state="awaiting_approval"), world.candidate(
        ann, "webinar", state="awaiting_approval")
    bob_seat, cyd_seat = world.candidate(bob, state="awaiting_approval"), world.candidate(cyd, state="awaiting_approval")

    assert world.ask().counts == {"candidates": 4, "users": 3, "saving": 0.0,
                                  "models": {"zoom_meetings_licensed": 3, "zoom_webinar_500": 1}}
    late = world.candidate(world.licensed("dan"), state="awaiting_approval")  # opened after the request
    answer = event(APPROVE_ALL_BUT, ["ANN@example.com", bob["key"]])
    assert world.answer(answer).counts["left_out"] == 3

    outcome = world.reclaim("approval", answer=answer)

    assert [r.candidate.candidate_id for r in outcome.results if r.reclaimed] == [cyd_seat]
    assert world.writes() == [("PATCH", f"/v2/users/{cyd['id']}")]
    decisions = _decisions(world)
    assert {decisions[c] for c in (ann_seat, ann_webinar, bob_seat)} == {
        ("awaiting_approval", RUN_ID, "left_out", "SAM manager (sam)")}
    assert decisions[cyd_seat] == ("closed_complete", RUN_ID, "approved", "SAM manager (sam)")
    assert decisions[late] == ("awaiting_approval", None, None, None)
    assert {c.candidate_id for c in outcome.not_approved} == {ann_seat, ann_webinar, bob_seat, late}
    assert "Not approved, left open and untouched" in outcome.render()
    (action,) = world.actions()
    assert (action["candidate_id"], action["approval_decision"], action["approval_by"]) == (
        cyd_seat, "approved", "SAM manager (sam)")


def test_the_request_quotes_each_users_last_activity_and_idle_days_from_the_evidence(world):
    world.covered()
    world.candidate(world.licensed("ann"), state="awaiting_approval", last_activity_at="2026-08-01T09:30:00Z",
                    inactive_days=118)
    world.candidate(world.licensed("bob"), state="awaiting_approval")
    settings = make_profile("approval")
    world.record_rules(settings)

    body = approval_request(context_for(world.engine, settings, AS_OF, run_id=RUN_ID), None).body

    rows = {line.split(" | ")[0].lstrip("| "): line.split(" | ")[3:5] for line in body.splitlines()
            if "@example.com" in line}
    assert rows == {"ann@example.com": ["2026-08-01T09:30:00Z", "118"],
                    "bob@example.com": ["never (in the analysed window)", "400"]}


def test_a_candidate_with_nothing_to_write_is_closed_as_in_automatic_mode(world):
    """An invitation its rule leaves alone is in no request: waiting for its approval would keep it
    open, and counted as reclaimable, forever."""
    world.covered()
    seat = world.candidate(world.licensed("ann"), state="awaiting_approval")
    invitation = world.candidate(world.licensed("invited", pending=True), state="awaiting_approval")
    assert world.ask().counts["candidates"] == 1
    answer = event(APPROVE)
    world.answer(answer)

    outcome = world.reclaim("approval", answer=answer)

    assert world.state(seat) == "closed_complete" and world.state(invitation) == "closed_skipped"
    assert len(world.writes()) == 1 and outcome.not_approved == []


def test_the_next_day_asks_again_about_a_user_left_out_today(world):
    world.covered()
    bob = world.candidate(world.licensed("bob"), state="awaiting_approval")
    world.ask()
    world.answer(event(APPROVE_ALL_BUT, ["bob@example.com"]))
    world.ask(run_id="scheduled__2026-11-29")  # the same open candidate, re-evaluated, asked again

    assert _decisions(world)[bob] == ("awaiting_approval", "scheduled__2026-11-29", None, None)
    with pytest.raises(ApprovalRefused, match="not a user of this request"):  # yesterday's names cannot reach today
        world.reclaim("approval", answer=event(APPROVE_ALL_BUT, ["alice@example.com"]),
                      run_id="scheduled__2026-11-29")
    assert world.writes() == []


def test_automatic_mode_writes_no_approval_an_old_request_left_on_the_candidate(world):
    """The profile left approval mode after a request: the automatic reclaim's rows rest on no answer."""
    seat = world.candidate(world.licensed(), state="awaiting_approval")
    world.ask()
    world.answer(event(APPROVE))
    world.reclaim("automatic", run_id="scheduled__2026-11-29")
    assert world.state(seat) == "closed_complete"
    assert [(a["approval_decision"], a["approval_by"]) for a in world.actions()] == [(None, None)]


@pytest.mark.parametrize(("mode", "options", "expected"), [
    ("automatic", RunOptions(), Mode.AUTOMATIC),
    ("approval", RunOptions(), Mode.APPROVAL),
    ("dry_run", RunOptions(), Mode.DRY_RUN),
    ("automatic", RunOptions(dry_run_only=True), Mode.DRY_RUN),
    ("approval", RunOptions(dry_run_only=True), Mode.DRY_RUN),
    ("approval", RunOptions(skip_activity=True), Mode.DRY_RUN),
    ("automatic", RunOptions(reconcile_latest_snapshot_only=True), Mode.DRY_RUN),
    ("dry_run", RunOptions(dry_run_only=False), Mode.DRY_RUN),  # no option makes a dry-run profile write
])
def test_a_run_parameter_only_ever_lowers_the_mode(mode, options, expected):
    assert run_mode(make_profile(mode), "manual", options)[0] == expected
    assert run_mode(make_profile(mode), "backfill", options)[0] == Mode.DRY_RUN
    assert run_mode(make_profile(mode, reclaim_subscriptions=False), "manual", options)[0] is None


def test_a_scheduled_run_decides_as_before_the_parameters_existed():
    for mode in Mode:
        assert run_mode(make_profile(mode), "scheduled", RunOptions()) == run_mode(make_profile(mode), "scheduled")
    assert run_mode(make_profile("automatic"), "manual", RunOptions(dry_run_only=True))[1] == (
        "run parameter dry_run_only: planned as a dry run, nothing is written to Zoom (the profile's mode is "
        "automatic)")


def test_person_shown_is_the_responder():
    assert decide(event(APPROVE, by={"id": "admin", "name": "admin"}), REQUEST).by == "admin"
    assert decide(event(APPROVE, by=PERSON), REQUEST).at == AS_OF.replace(hour=9)


@pytest.mark.parametrize("empty", [[], [""], ["  ", "\n"], None])
def test_an_empty_form_field_is_no_one_listed(empty):
    """The form may send an empty line for an untouched field: Approve stays Approve."""
    decision = decide({**event(APPROVE), "params_input": {"leave_out": empty}}, REQUEST)
    assert decision.approved == {1, 2, 3}


def test_a_candidate_a_later_request_listed_is_not_written_on_the_earlier_answer(world):
    """Two runs at once: run B asks about the candidate while run A's request still waits. A's
    Approve then speaks for nothing (its stamp is gone) and B's answer decides."""
    world.covered()
    seat = world.candidate(world.licensed("ann"), state="awaiting_approval")
    world.ask(run_id="manual__a")
    world.ask(run_id="manual__b")

    assert world.answer(event(APPROVE), run_id="manual__a").counts["requested"] == 0
    outcome = world.reclaim("approval", answer=event(APPROVE), run_id="manual__a")

    assert outcome.results == [] and world.writes() == [] and world.state(seat) == "awaiting_approval"
    assert _decisions(world)[seat] == ("awaiting_approval", "manual__b", None, None)
