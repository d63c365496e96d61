"""Guards, exclusions, the selection, Zoom's refusals, and writes whose outcome is unknown."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.reclaim.conftest import USER_READ_SCOPES
from tests.reclaim.world import ALIAS, AS_OF, RUN_ID
from zoom_sam.reclaim import journal
from zoom_sam.reclaim.guards import GuardExceeded
from zoom_sam.reclaim.journal import Closing, Journal
from zoom_sam.reclaim.plan import final_action
from zoom_sam.reclaim.selection import load_candidates
from zoom_sam.vocabulary import CandidateState
from zoom_sam.warehouse.schema import removal_candidate, software_subscription
from zoom_sam.warehouse.sql import run_sql_many
from zoom_sam.zoom.errors import ZoomMissingScopes, ZoomTransientError, ZoomUncertainOutcome


# ---------------------------------------------------------------- guards


def test_max_per_run_refuses_the_whole_run_before_any_call(world):
    cands = [world.candidate(world.licensed()) for _ in range(3)]
    with pytest.raises(GuardExceeded) as err:
        world.reclaim(max_per_run=2)
    text = str(err.value)
    assert "would reclaim 3 subscription(s)" in text and "zoom_meetings_licensed: 3 of 3 assigned" in text
    assert "raise reclaim.max_per_run to at least 3" in text and "Nothing was reclaimed" in text
    assert world.api_calls() == [] and {world.state(c) for c in cands} == {"ready"}


def test_max_fraction_counts_a_models_assigned_seats(world):
    users = [world.licensed() for _ in range(4)]
    world.candidate(users[0])
    world.candidate(users[1])
    with pytest.raises(GuardExceeded, match=r"max_fraction = 0.25 .*zoom_meetings_licensed \(50%\).*at least 0.5"):
        world.reclaim(max_fraction=0.25)
    assert world.api_calls() == []
    world.reclaim(max_fraction=0.5)  # exactly at the limit is allowed
    assert len(world.writes()) == 2


def test_invitations_that_will_not_be_touched_do_not_count_against_the_guard(world):
    world.candidate(world.licensed())
    world.candidate(world.licensed(pending=True))  # its rule does not opt in: no write
    world.reclaim(max_per_run=1)
    assert len(world.writes()) == 1


# ---------------------------------------------------------------- selection and exclusions


def test_an_exclusion_added_after_reconcile_protects_the_user(world):
    svc = world.licensed("svc-backup")
    sales = world.licensed("sales", dept="Sales")
    other = world.licensed("other", addons=("webinar",))
    kept = [world.candidate(svc), world.candidate(sales), world.candidate(other, "webinar")]
    reclaimed = world.candidate(other)

    world.reclaim(exclusions={"users": [{"email": "svc-*@example.com"}, {"dept": "Sales"}],
                              "identifiers": ["webinar:*"]})

    states = world.states()
    assert [states[c][0] for c in kept] == ["closed_skipped"] * 3
    assert states[kept[0]][1] == "excluded at reclaim time by email=svc-*@example.com"
    assert states[kept[1]][1] == "excluded at reclaim time by dept=Sales"
    assert states[kept[2]][1] == "excluded at reclaim time by identifier=webinar:*"
    # the remaining seat carries the now-excluded webinar add-on, which must not be taken away with it
    assert states[reclaimed][0] == "closed_skipped" and "excluded by identifier=webinar:*" in states[reclaimed][1]
    assert world.writes() == []


def test_only_this_runs_open_candidates_of_this_profile(world):
    from zoom_sam.warehouse.schema import removal_candidate

    stale = world.candidate(world.licensed(), as_of=AS_OF - timedelta(days=1))
    closed = world.candidate(world.licensed(), state="closed_canceled")
    foreign = world.candidate(world.licensed())
    with world.engine.begin() as conn:
        conn.execute(removal_candidate.update().where(removal_candidate.c.candidate_id == foreign)
                     .values(profile_alias="globex"))
    mine = world.candidate(world.licensed())

    outcome = world.reclaim()

    assert [r.candidate.candidate_id for r in outcome.results] == [mine]
    assert {a["candidate_id"] for a in world.actions()} == {mine} and len(world.writes()) == 1
    # Reclaim left the older as-of's candidate alone; the reconcile of the as-of that follows a real
    # reclaim judged it, from a warehouse that has no activity coverage here.
    assert world.states()[stale] == ("closed_skipped", "insufficient_history")
    assert world.state(closed) == "closed_canceled" and world.state(foreign) == "ready"


# ---------------------------------------------------------------- Zoom's refusals


@pytest.mark.parametrize("code", [1108, 1109, 2033, 3412, 200, 300])
def test_a_refusal_needs_attention_with_zoom_code_and_message(world, code):
    user = world.licensed(refusal=code)
    cand = world.candidate(user)
    world.reclaim()
    state, reason = world.states()[cand]
    assert state == "attention_required" and f"code {code}:" in reason
    [row] = world.actions()
    assert (row["status"], row["http_status"], row["zoom_code"]) == ("refused", 400, code)
    assert row["zoom_message"] and row["zoom_message"] in reason
    assert world.user(user)["type"] == 2


def test_user_gone_at_write_time_is_skipped(world):
    user = world.licensed(refusal=1001)
    cand = world.candidate(user)
    world.reclaim()
    state, reason = world.states()[cand]
    assert state == "closed_skipped" and reason.startswith("gone:")
    assert world.actions()[0]["status"] == "not_found"


def test_a_refused_addon_removal_keeps_the_seat(any_world):
    world = any_world
    user = world.licensed(addons=("webinar",), refusal=300)
    seat, webinar = world.candidate(user), world.candidate(user, "webinar")
    world.reclaim()
    assert world.state(webinar) == "attention_required"
    state, reason = world.states()[seat]
    assert state == "attention_required" and "seat not downgraded" in reason
    assert [m for m, _ in world.writes()] == ["PATCH"]  # only the refused removal; no downgrade


# ---------------------------------------------------------------- exactly once


class _Killed(BaseException):
    """The worker dies (SIGKILL, OOM): nothing after this point runs, not even except-Exception blocks."""


def _killing_client(world, *, after_call: bool):
    """A client whose first downgrade kills the task: after Zoom applied it, or before it was sent."""
    client = world.client()
    real = client.update_user

    def update_user(user_id, body):
        if after_call:
            real(user_id, body)
        raise _Killed()

    client.update_user = update_user
    return client


@pytest.mark.parametrize("applied", [True, False], ids=["the call happened", "it did not"])
def test_a_task_killed_between_intent_and_outcome_resolves_by_reading_state(any_world, applied):
    world = any_world
    user = world.licensed()
    cand = world.candidate(user)
    with pytest.raises(_Killed):
        world.reclaim(client_factory=lambda: _killing_client(world, after_call=applied))
    [row] = world.actions()
    assert row["status"] == "requested" and row["completed_at"] is None and world.state(cand) == "ready"
    assert world.user(user)["type"] == (1 if applied else 2)
    world.sb.log.clear()

    world.reclaim()  # the retry

    assert world.state(cand) == "closed_complete" and world.user(user)["type"] == 1
    [row] = world.actions()
    assert row["status"] == "succeeded"
    if applied:
        assert world.writes() == []  # resolved from the user listing; nothing sent again
        assert "shows the change applied" in row["zoom_message"] and row["attempts"] == 1
    else:
        assert world.writes() == [("PATCH", f"/v2/users/{user['id']}")]
        assert row["attempts"] == 2


def test_a_task_killed_while_closing_the_confirmed_seats_leaves_them_open_and_the_retry_sends_nothing(
        any_world, monkeypatch):
    """The seats confirmed by the listing after the run close in batched transactions: a failure
    inside one rolls its batch back whole, so no candidate is closed without its confirmation or
    the reverse, and the retry confirms them from Zoom's state instead of writing again."""
    world = any_world
    users = [world.licensed(f"u{n}") for n in range(3)]
    cands = [world.candidate(user) for user in users]

    def killed_at_the_last_statement(conn, name, rows):
        if name == "reclaim/end_subscription":
            raise _Killed()
        return run_sql_many(conn, name, rows)

    monkeypatch.setattr(journal, "run_sql_many", killed_at_the_last_statement)
    with pytest.raises(_Killed):
        world.reclaim()
    assert [world.state(c) for c in cands] == ["ready"] * 3
    assert {row["status"] for row in world.actions()} == {"succeeded"}
    assert all(row["confirmation"] is None for row in world.actions())
    assert len(world.writes()) == 3 and all(world.user(u)["type"] == 1 for u in users)
    monkeypatch.setattr(journal, "run_sql_many", run_sql_many)
    world.sb.log.clear()

    world.reclaim()  # the retry

    assert [world.state(c) for c in cands] == ["closed_complete"] * 3 and world.writes() == []
    assert all(row["confirmation"] for row in world.actions())


def test_a_closing_batch_ends_only_the_subscriptions_it_closes_complete(any_world):
    world = any_world
    ignored, downgraded = world.licensed("ignored"), world.licensed("downgraded")
    world.candidate(ignored), world.candidate(downgraded)
    cands = {c.user_id: c for c in load_candidates(world.engine, ALIAS, AS_OF)}
    first, second = cands[ignored["key"]], cands[downgraded["key"]]

    Journal(world.engine, ALIAS, RUN_ID).confirm_and_close([
        Closing(first, final_action(first), "type 2 still", CandidateState.ATTENTION_REQUIRED, "answered 2xx but ..."),
        Closing(second, final_action(second), "type 1", CandidateState.CLOSED_COMPLETE, "reclaimed")])

    with world.engine.connect() as conn:
        closed = dict(conn.execute(sa.select(removal_candidate.c.user_id, removal_candidate.c.closed_at)).all())
        active = dict(conn.execute(sa.select(software_subscription.c.user_id, software_subscription.c.active)).all())
    assert world.state(first.candidate_id) == "attention_required" and closed[first.user_id] is None
    assert world.state(second.candidate_id) == "closed_complete" and closed[second.user_id] is not None
    assert active == {first.user_id: True, second.user_id: False}


def test_a_lost_answer_to_an_addon_removal_is_settled_by_reading_settings(world):
    user = world.licensed(addons=("webinar",))
    cand = world.candidate(user, "webinar")
    world.sb.faults.add("drop", method="PATCH", path=r"/settings$", count=1)  # the request never applies
    world.reclaim()
    assert world.state(cand) == "closed_complete"
    calls = world.api_calls()
    first, second = [i for i, c in enumerate(calls) if c[0] == "PATCH"]
    assert ("GET", f"/v2/users/{user['id']}/settings") in calls[first + 1:second]  # state read before re-sending
    [row] = world.actions()
    assert row["attempts"] == 2 and row["status"] == "succeeded"


@pytest.mark.parametrize(("addon", "method", "confirmed_by"), [
    ("webinar", "update_user_settings", "a state read shows it applied"),
    (None, "update_user", "the listing after the run shows it applied"),
], ids=["add-on, settings read at once", "seat, listing after the run"])
def test_a_write_applied_behind_a_lost_answer_is_never_sent_twice(world, addon, method, confirmed_by):
    user = world.licensed(addons=(addon,) if addon else ())
    cand = world.candidate(user, addon)
    client = world.client()
    real = getattr(client, method)

    def applied_but_lost(user_id, body):
        real(user_id, body)
        raise ZoomUncertainOutcome("PATCH: 502 after the change was applied")

    setattr(client, method, applied_but_lost)
    world.reclaim(client_factory=lambda: client)
    assert world.state(cand) == "closed_complete"
    assert len(world.writes()) == 1 and confirmed_by in world.actions()[0]["zoom_message"]


@pytest.mark.parametrize("fault", [{"kind": "drop"}, {"kind": "status", "status": 502}], ids=["drop", "502"])
def test_a_lost_downgrade_answer_is_settled_in_the_same_try(world, fault):
    """Without user:read:user:admin only the listing tells: it shows type 2 still, so the write is
    re-checked and sent once more within the same task, which succeeds."""
    user = world.licensed()
    cand = world.candidate(user)
    fault = dict(fault)
    world.sb.faults.add(fault.pop("kind"), method="PATCH", path=r"^/v2/users/[^/]+$", count=1, **fault)

    outcome = world.reclaim()

    assert world.state(cand) == "closed_complete" and len(world.writes()) == 2
    assert outcome.unresolved == [] and world.user(user)["type"] == 1
    [row] = world.actions()
    assert row["status"] == "succeeded" and row["attempts"] == 2


def test_zoom_unreadable_after_a_lost_answer_fails_the_task_and_sends_nothing_more(world):
    user = world.licensed()
    cand = world.candidate(user)
    client = world.client(max_retries=1)

    def lost_then_unreadable(user_id, body):
        world.sb.faults.add("status", status=503, method="GET", path=r"^/v2/users$")  # every listing fails now
        raise ZoomUncertainOutcome("PATCH: connection reset, outcome unknown")

    client.update_user = lost_then_unreadable
    with pytest.raises(ZoomTransientError, match="persisted"):
        world.reclaim(client_factory=lambda: client)
    assert world.state(cand) == "ready" and world.writes() == []
    assert world.actions()[0]["status"] == "uncertain"  # the retry reads the state before anything else


def test_with_user_read_scope_the_user_record_confirms_the_downgrade(make_world):
    world = make_world(scopes=USER_READ_SCOPES)
    user = world.licensed()
    cand = world.candidate(user)
    world.sb.faults.add("drop", method="PATCH", path=r"^/v2/users/[^/]+$", count=1)
    world.reclaim()
    assert world.state(cand) == "closed_complete"
    [row] = world.actions()
    assert row["confirmation"] == "GET /users/{id}: type 1" and row["attempts"] == 2
    assert ("GET", "/v2/users") not in world.api_calls()  # no listing needed with the scope


def test_missing_write_scopes_stop_before_any_write(make_world):
    from zoom_sandbox import DEFAULT_SCOPES

    world = make_world(scopes=tuple(s for s in DEFAULT_SCOPES if s != "user:update:user:admin"))
    cand = world.candidate(world.licensed())
    with pytest.raises(ZoomMissingScopes, match="cannot write to Zoom: reclaim needs user:update:user:admin") as refused:
        world.reclaim()
    assert not refused.value.retryable  # only an admin can grant it: the task fails at once
    assert world.writes() == [] and world.state(cand) == "ready"
