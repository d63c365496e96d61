"""The re-check against Zoom right before the reclaim: each way a candidate stops, and what it costs."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from tests.reclaim.conftest import USER_READ_SCOPES
from tests.reclaim.world import AS_OF

HOUR = timedelta(hours=1)


def _hosted_after_as_of(world, user, webinar=False):
    world.account.add_meeting(user["email"], AS_OF + 2 * HOUR, webinar=webinar)
    world.sb.clock.advance(timedelta(days=1).total_seconds())  # the meeting is over: hosting, not upcoming


def _hosted_across_the_as_of(world, user):
    """23:30 to 00:15: not over when the activity was pulled, started before the as-of."""
    world.account.add_meeting(user["email"], AS_OF - timedelta(minutes=30), duration=45)
    world.sb.clock.advance(timedelta(hours=2).total_seconds())


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
    "hosted across the as-of": (lambda w, u: _hosted_across_the_as_of(w, u), None, "closed_canceled",
                                "activity: hosted meeting"),
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


def test_the_hosting_check_asks_zoom_from_a_day_before_the_as_of(world):
    """``from`` is a date in the account's timezone: an account west of UTC is still on the day before."""
    user = world.licensed()
    world.candidate(user)
    world.reclaim()
    listed = [r.query for r in world.sb.log if r.path == f"/v2/users/{user['id']}/meetings"
              and r.query.get("type") == "previous_meetings"]
    assert [q.get("from") for q in listed] == [(AS_OF - timedelta(days=1)).date().isoformat()]


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
    assert state == "closed_skipped" and "add-on kept" in reason and "excluded by identifier=webinar:*" in reason
    assert world.writes() == []


def test_a_seat_whose_addon_is_not_a_candidate_is_kept(world):
    """The add-on was assigned since the reconcile (or is not idle): the downgrade would take it along."""
    user = world.licensed(addons=("webinar",))
    cand = world.candidate(user)
    world.reclaim()
    state, reason = world.states()[cand]
    assert state == "closed_skipped" and "add-on kept: the seat carries webinar:500" in reason
    assert world.writes() == [] and world.user(user)["type"] == 2


def test_a_seat_whose_addon_candidate_is_canceled_is_kept(world):
    """The add-on's own re-check stops it (a webinar since the as-of cancels seat and add-on alike)."""
    user = world.licensed(addons=("large_meeting",))
    seat, addon = world.candidate(user), world.candidate(user, "large_meeting")
    world.account.set_feature(user["email"], "large_meeting_capacity", 1000)  # capacity changed since
    world.reclaim()
    states = world.states()
    assert states[addon][0] == "closed_skipped" and "no longer holds large_meeting:500" in states[addon][1]
    assert states[seat][0] == "closed_skipped" and "add-on kept" in states[seat][1]
    assert world.writes() == []


@pytest.mark.parametrize("scopes", ["default", "user_read"])
def test_an_invitation_accepted_since_the_download_is_not_disassociated(make_world, scopes):
    """With user:read:user:admin the record of the invitee's email is the active person now; without
    it the listing shows the person under its new id, and the invitation is gone."""
    world = make_world(scopes=USER_READ_SCOPES) if scopes == "user_read" else make_world()
    invited = world.licensed("invitee", pending=True)
    cand = world.candidate(invited)
    world.account.set_status(invited["email"], "active")
    world.reclaim(rules=[{"software_model": "*", "last_activity_threshold_days": 60,
                          "disassociate_pending_invitations": True}])
    state, reason = world.states()[cand]
    assert state == "closed_skipped" and world.writes() == []


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


def test_previous_and_upcoming_meetings_are_asked_together(world):
    """The previous-meetings read holds until the upcoming read is asked for: a re-check asking for
    them one after the other finds it never asked (after a 10 s guard) and fails here."""
    user = world.licensed()
    cand = world.candidate(user)
    upcoming_asked = threading.Event()
    previous_saw_it = []

    def client():
        zoom = world.client()
        meetings = zoom.list_meetings

        def list_meetings(uid, type="previous_meetings", **kw):
            if type == "upcoming":
                upcoming_asked.set()
            else:
                previous_saw_it.append(upcoming_asked.wait(timeout=10))
            return meetings(uid, type=type, **kw)

        zoom.list_meetings = list_meetings
        return zoom

    world.reclaim(client_factory=client)

    assert previous_saw_it == [True] and world.state(cand) == "closed_complete"
