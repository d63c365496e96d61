"""The re-check against Zoom right before the reclaim: each way a candidate stops, and what it costs."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.reclaim.world import AS_OF

HOUR = timedelta(hours=1)


def _hosted_after_as_of(world, user, webinar=False):
    world.account.add_meeting(user["email"], AS_OF + 2 * HOUR, webinar=webinar)
    world.sb.clock.advance(timedelta(days=1).total_seconds())  # the meeting is over: hosting, not upcoming


CASES = {
    # name: (set-up, candidate add-on or None, expected state, words in the reason)
    "deleted": (lambda w, u: w.account.delete_user(u["email"]), None, "closed_skipped", "gone"),
    "downgraded meanwhile": (lambda w, u: w.account.set_user_type(u["email"], 1), None, "closed_skipped",
                             "changed: no longer holds user_type:2"),
    "add-on removed meanwhile": (lambda w, u: w.account.set_feature(u["email"], "webinar", False), "webinar",
                                 "closed_skipped", "changed: no longer holds webinar:500"),
    "add-on capacity changed": (lambda w, u: w.account.set_feature(u["email"], "webinar_capacity", 1000), "webinar",
                                "closed_skipped", "holds user_type:2, webinar:1000"),
    "hosted a meeting since": (lambda w, u: _hosted_after_as_of(w, u), None, "closed_canceled",
                               "activity: hosted meeting"),
    "hosted a webinar since (add-on)": (lambda w, u: _hosted_after_as_of(w, u, webinar=True), "webinar",
                                        "closed_canceled", "activity: hosted webinar"),
    "hosted a webinar since (seat)": (lambda w, u: _hosted_after_as_of(w, u, webinar=True), None,
                                      "closed_canceled", "activity: hosted webinar"),
    "upcoming meeting": (lambda w, u: w.account.add_meeting(u["email"], AS_OF + timedelta(days=3)), None,
                         "closed_skipped", "upcoming meeting"),
    "upcoming webinar": (lambda w, u: w.account.add_meeting(u["email"], AS_OF + timedelta(days=3), webinar=True),
                         "webinar", "closed_skipped", "upcoming webinar"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_failed_recheck_closes_without_writing(world, case):
    setup, addon, state, words = CASES[case]
    user = world.licensed(addons=("webinar",))
    cand = world.candidate(user, addon)
    setup(world, user)

    outcome = world.reclaim()

    assert world.writes() == []
    got_state, reason = world.states()[cand]
    assert got_state == state and words in reason
    assert outcome.summary()[state] == 1


def test_hosting_inside_the_analysed_window_does_not_cancel(world):
    user = world.licensed()
    cand = world.candidate(user)
    world.account.add_meeting(user["email"], AS_OF - 3 * HOUR)  # before the as-of: reconcile judged it already
    world.reclaim()
    assert world.state(cand) == "closed_complete"


def test_pending_invitation_needs_its_rule_to_opt_in(world):
    invited = world.licensed("invited", pending=True)
    cand = world.candidate(invited)
    world.reclaim()  # the default rule leaves disassociate_pending_invitations false
    state, reason = world.states()[cand]
    assert state == "closed_skipped" and "disassociate_pending_invitations" in reason
    assert world.writes() == [] and world.user(invited) is not None


def test_a_seat_carrying_an_excluded_addon_is_kept(world):
    user = world.licensed(addons=("webinar",))
    cand = world.candidate(user)
    world.reclaim(exclusions={"identifiers": ["webinar:*"]})
    state, reason = world.states()[cand]
    assert state == "closed_skipped" and "excluded add-on" in reason and world.writes() == []


def test_the_checks_of_one_user_are_shared_and_minimal(world):
    """Seat + webinar add-on of one user: one settings read, two meeting listings, one webinar listing."""
    user = world.licensed(addons=("webinar",))
    world.candidate(user)
    world.candidate(user, "webinar")
    world.reclaim()
    uid = user["id"]
    reads = [c for c in world.api_calls() if c[0] == "GET"]
    assert reads.count(("GET", f"/v2/users/{uid}/settings")) == 2  # the re-check, and the confirmation
    assert reads.count(("GET", f"/v2/users/{uid}/meetings")) == 2  # previous_meetings and upcoming
    assert reads.count(("GET", f"/v2/users/{uid}/webinars")) == 1  # nothing since the as-of: no second look
    assert reads.count(("GET", "/v2/users")) == 2                   # the listing before, and after the writes
