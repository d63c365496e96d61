"""The approve and reclaim operators: the request a person sees, and how the answer reaches reclaim.

A whole Human-in-the-loop run needs the API server to answer the request, which ``dag.test``
cannot do, so the operators are driven here the way the task runner drives them: ``execute``
(which parks the task awaiting input), then ``execute_complete`` with the event Airflow builds
from the answer or from the response timeout.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
import yaml
from airflow.sdk import DAG
from airflow.sdk.exceptions import AirflowFailException, DownstreamTasksSkipped, TaskAwaitingInput

from tests.reclaim.conftest import make_world, world  # noqa: F401  (fixtures)
from tests.reclaim.world import ALIAS, AS_OF, PERSON, make_profile
from zoom_sam.operators.reclaim import APPROVAL_TIMEOUT, ReclaimApprovalOperator, ReclaimOperator
from zoom_sam.warehouse.schema import job_result, reclaim_action, removal_candidate


@pytest.fixture
def wired(world, tmp_path, monkeypatch):
    """approve -> reclaim of an approval-mode profile whose warehouse and Zoom are the World's."""
    path = tmp_path / "acme.yaml"
    path.write_text(yaml.safe_dump({
        "alias": ALIAS, "zoom_conn_id": "zoom_test", "warehouse_conn_id": "wh_test", "reclaim_subscriptions": True,
        "reclaim": {"mode": "approval", "max_per_run": 10, "max_fraction": 1.0},
        "entitlements": [{"software_model": "zoom_meetings_licensed", "purchased": 10, "unit_cost": 149.9}],
    }))
    monkeypatch.setenv("AIRFLOW_CONN_ZOOM_TEST", world.sb.connection_json())
    monkeypatch.setenv("AIRFLOW_CONN_WH_TEST", f'{{"conn_type": "sqlite", "host": "{world.engine.url.database}"}}')
    with DAG("zoom_sam__acme", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=timezone.utc)):
        approve = ReclaimApprovalOperator(task_id="approve", profile_path=str(path), profile_alias=ALIAS)
        reclaim = ReclaimOperator(task_id="reclaim", profile_path=str(path), profile_alias=ALIAS)
        approve >> reclaim
    world.entitle(unit_cost="149.90")
    return SimpleNamespace(approve=approve, reclaim=reclaim, world=world)


def _context(task, answer=None, run_type="scheduled"):
    """What the task runner hands ``execute``: the run's interval end, the TI (with the approve XCom)."""
    ti = SimpleNamespace(id="0190-ti", try_number=1, map_index=-1, xcom_pull=lambda task_ids: answer,
                         xcom_push=lambda key, value: None)
    return {"data_interval_end": AS_OF, "run_id": f"{run_type}__2026-11-28", "ti": ti, "task_instance": ti,
            "task": task, "dag_run": SimpleNamespace(run_type=run_type)}


def _edit_profile(wired, **changes):
    """Someone edits the profile file after the DAG was parsed: the tasks must read it again."""
    path = wired.approve.profile_path
    data = yaml.safe_load(open(path))
    for key, value in changes.items():
        if isinstance(value, dict) and key in data:
            data[key].update(value)
        else:
            data[key] = value
    with open(path, "w") as f:
        yaml.safe_dump(data, f)


def _event(option, by=PERSON, timedout=False, leave_out=None):
    return {"chosen_options": [option], "params_input": {"leave_out": leave_out or []},
            "responded_at": AS_OF + timedelta(hours=9), "responded_by_user": by, "timedout": timedout}


def _ask(wired, monkeypatch) -> dict:
    """Run the approve task up to its wait; returns what it wrote as the request (subject, body, ...)."""
    asked = {}
    monkeypatch.setattr("airflow.providers.standard.operators.hitl.upsert_hitl_detail", lambda **kw: asked.update(kw))
    with pytest.raises(TaskAwaitingInput):
        wired.approve.execute(_context(wired.approve))
    return asked


def _approval(world) -> dict[int, tuple]:
    """candidate_id -> (state, approval_decision, approval_by, approval_at)."""
    c = removal_candidate.c
    with world.engine.connect() as conn:
        return {r.candidate_id: (r.state, r.approval_decision, r.approval_by, r.approval_at) for r in conn.execute(
            sa.select(c.candidate_id, c.state, c.approval_decision, c.approval_by, c.approval_at))}


def test_approve_asks_with_counts_savings_and_users_then_waits(wired, monkeypatch):
    world = wired.world
    for name in ("alice", "bob"):
        world.candidate(world.licensed(name), state="awaiting_approval")
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example.com/")

    asked = _ask(wired, monkeypatch)

    assert asked["options"] == ["Approve", "Approve all but the listed users", "Reject"]
    assert asked["defaults"] == ["Reject"] and asked["multiple"] is False
    assert asked["params"]["leave_out"]["value"] == [] and asked["params"]["leave_out"]["schema"]["type"] == "array"
    assert asked["subject"] == ("Reclaim 2 unused Zoom subscription(s) of Zoom Integration (acme), "
                                "saving 299.80 USD per year?")
    body = asked["body"]
    assert "**2 subscription(s) of 2 user(s)**" in body and "saving **299.80 USD** per year" in body
    assert "| `zoom_meetings_licensed` | 2 | 299.80 USD |" in body
    assert "| users whose licensing one run changes (`reclaim.max_per_run`) | 10 | 2 (8 to spare) |" in body
    assert "| share of `zoom_meetings_licensed`'s assigned subscriptions (`reclaim.max_fraction`) | 100% | 2 of 2" in body
    assert ("(https://airflow.example.com/zoom-sam/profiles/acme/candidates?as_of=2026-11-28T00%3A00%3A00Z"
            "&state=awaiting_approval)") in body
    assert "| alice@example.com | `zoom_meetings_licensed` | downgrade to Basic (its add-ons removed first) |" in body
    assert "The table lists" not in body  # nothing was cut
    assert "FROM removal_candidate" in body and "counts as Reject" in body
    assert wired.approve.response_timeout == APPROVAL_TIMEOUT
    assert world.api_calls() == []  # asking costs no Zoom call
    assert {decision for _, decision, _, _ in _approval(world).values()} == {None}  # asked, not answered


def test_without_a_base_url_the_link_is_relative_to_the_airflow_ui(wired, monkeypatch):
    monkeypatch.delenv("AIRFLOW__API__BASE_URL", raising=False)
    wired.world.candidate(wired.world.licensed("alice"), state="awaiting_approval")
    body = _ask(wired, monkeypatch)["body"]
    assert "(/zoom-sam/profiles/acme/candidates?as_of=2026-11-28T00%3A00%3A00Z&state=awaiting_approval)" in body


def test_a_long_request_says_it_was_cut_and_how_many_more(wired, monkeypatch):
    monkeypatch.setattr("zoom_sam.reclaim.report.TABLE_LIMIT", 2)
    for name in ("alice", "bob", "carol"):
        wired.world.candidate(wired.world.licensed(name), state="awaiting_approval")
    body = _ask(wired, monkeypatch)["body"]
    assert "**The table lists 2 of the 3 subscriptions of this request; the other 1 are part of it too" in body
    users = body.split("### Users")[1].split("### Evidence")[0]
    assert users.count("@example.com |") == 2 and "| … and 1 more (on the candidates page) |" in users


def test_nothing_to_approve_skips_without_asking(wired, monkeypatch):
    from airflow.sdk.exceptions import AirflowSkipException

    monkeypatch.setattr("airflow.providers.standard.operators.hitl.upsert_hitl_detail",
                        lambda **kw: pytest.fail("nobody must be asked"))
    with pytest.raises(AirflowSkipException):
        wired.approve.execute(_context(wired.approve))


def test_approve_over_a_guard_fails_before_asking(wired, monkeypatch):
    world = wired.world
    for _ in range(11):
        world.candidate(world.licensed(), state="awaiting_approval")
    monkeypatch.setattr("airflow.providers.standard.operators.hitl.upsert_hitl_detail",
                        lambda **kw: pytest.fail("nobody must be asked"))
    with pytest.raises(AirflowFailException, match="max_per_run to at least 11"):
        wired.approve.execute(_context(wired.approve))


@pytest.mark.parametrize(("event", "decision"), [
    (_event("Reject"), "rejected"),
    (_event("Reject", by=None, timedout=True), "timed_out"),
    (_event("Approve", by=None, timedout=True), "timed_out"),  # a default of Approve would still be nobody's
    (_event("Approve all but the listed users", leave_out=["alice@example.com"]), "left_out"),
], ids=["reject", "response timeout", "timeout recorded as Approve", "everyone left out"])
def test_an_answer_that_approves_nothing_skips_the_reclaim_and_is_recorded(wired, monkeypatch, event, decision):
    world = wired.world
    seat = world.candidate(world.licensed("alice"), state="awaiting_approval")
    _ask(wired, monkeypatch)

    with pytest.raises(DownstreamTasksSkipped) as skipped:
        wired.approve.execute_complete(_context(wired.approve), event)

    assert skipped.value.tasks == ["reclaim"]
    state, recorded, by, at = _approval(world)[seat]
    assert (state, recorded) == ("awaiting_approval", decision)
    if decision == "timed_out":
        assert by is None
    else:
        assert (by, at) == ("SAM manager (sam)", AS_OF + timedelta(hours=9))
    with world.engine.connect() as conn:
        job = conn.execute(sa.select(job_result).where(job_result.c.task_id == "approve")).mappings().one()
    assert job["counts"]["decision"] == ("approved" if decision == "left_out" else decision)  # all but: everyone
    assert job["counts"]["approved"] == 0 and job["counts"]["requested"] == 1
    assert job["counts"]["models"] == {"zoom_meetings_licensed": 1}


def test_approve_lets_the_reclaim_run_and_the_answer_is_on_every_row(wired, monkeypatch):
    world = wired.world
    seat = world.candidate(world.licensed(), state="awaiting_approval")
    _ask(wired, monkeypatch)
    answer = wired.approve.execute_complete(_context(wired.approve), _event("Approve"))

    summary = wired.reclaim.execute(_context(wired.reclaim, answer))

    assert summary["closed_complete"] == 1 and world.state(seat) == "closed_complete"
    assert _approval(world)[seat][1:] == ("approved", "SAM manager (sam)", AS_OF + timedelta(hours=9))
    (action,) = world.actions()
    assert (action["approval_decision"], action["approval_by"], action["approval_at"]) == (
        "approved", "SAM manager (sam)", AS_OF + timedelta(hours=9))
    with world.engine.connect() as conn:
        job = conn.execute(sa.select(job_result).where(job_result.c.task_id == "reclaim")).mappings().one()
    assert job["status"] == "success" and job["counts"]["closed_complete"] == 1
    assert job["counts"]["savings"]["zoom_meetings_licensed"]["saving"] == 149.9 and job["api"]["calls"]["Light"] == 1


def test_approve_all_but_the_listed_users_writes_to_nobody_listed(wired, monkeypatch):
    """The approver leaves bob out (typed in capitals, by email) and carol (by her Zoom user id):
    only alice is written; bob's seat and add-on and carol's seat stay open, marked left out."""
    world = wired.world
    alice, bob, carol = world.licensed("alice"), world.licensed("bob", addons=("webinar",)), world.licensed("carol")
    kept = {world.candidate(alice, state="awaiting_approval")}
    left = {world.candidate(bob, state="awaiting_approval"), world.candidate(bob, "webinar", state="awaiting_approval"),
            world.candidate(carol, state="awaiting_approval")}
    world.entitle("zoom_webinar_500", unit_cost="690.00")
    world.covered()
    _ask(wired, monkeypatch)
    answer = wired.approve.execute_complete(_context(wired.approve), _event(
        "Approve all but the listed users", leave_out=["BOB@example.com", f"  {carol['id']}\n"]))

    summary = wired.reclaim.execute(_context(wired.reclaim, answer))

    assert summary["closed_complete"] == 1 and summary["not_approved"] == 3
    assert world.writes() == [("PATCH", f"/v2/users/{alice['id']}")]
    approval = _approval(world)
    assert {approval[c][:2] for c in kept} == {("closed_complete", "approved")}
    assert {approval[c][:2] for c in left} == {("awaiting_approval", "left_out")}
    assert {a["candidate_id"] for a in world.actions()} == kept


@pytest.mark.parametrize(("event", "match"), [
    (_event("Approve all but the listed users", leave_out=["bob@example.com", "bobby@example.com"]),
     "leaves out bobby@example.com, who is not a user of this request"),
    (_event("Approve", leave_out=["bob@example.com"]), "lists users to leave out"),
    (_event("Approve all but the listed users"), "lists nobody to leave out"),
    ({**_event("Approve all but the listed users"), "params_input": {"leave_out": ["bob@example.com"], "max": 99}},
     "form fields"),
], ids=["unknown user", "Approve with users listed", "all but nobody", "unknown form field"])
def test_an_answer_that_is_not_one_clear_intent_is_refused_and_writes_nothing(wired, monkeypatch, event, match):
    world = wired.world
    seats = [world.candidate(world.licensed(name), state="awaiting_approval") for name in ("alice", "bob")]
    _ask(wired, monkeypatch)

    with pytest.raises(AirflowFailException, match=match):
        wired.approve.execute_complete(_context(wired.approve), event)
    assert {_approval(world)[s][:2] for s in seats} == {("awaiting_approval", "refused")}

    # reclaim handed the same answer anyway (a re-wired DAG) refuses it too
    with pytest.raises(AirflowFailException):
        wired.reclaim.execute(_context(wired.reclaim, event))
    assert world.api_calls() == [] and world.actions() == []


def test_a_candidate_opened_after_the_request_is_not_written_on_its_answer(wired, monkeypatch):
    """The reconcile is cleared and re-run while the request waits, and opens dave's candidate for
    the same as-of: the approver never saw him, so the answer cannot reclaim him."""
    world = wired.world
    alice = world.candidate(world.licensed("alice"), state="awaiting_approval")
    world.covered()
    _ask(wired, monkeypatch)
    dave = world.candidate(world.licensed("dave"), state="awaiting_approval")
    answer = wired.approve.execute_complete(_context(wired.approve), _event("Approve"))

    summary = wired.reclaim.execute(_context(wired.reclaim, answer))

    assert world.state(alice) == "closed_complete" and world.state(dave) == "awaiting_approval"
    assert summary["not_approved"] == 1 and _approval(world)[dave][1] is None
    assert len(world.writes()) == 1


def test_asking_again_in_the_same_run_forgets_the_first_request(wired, monkeypatch):
    """The approve task is cleared and asks again after alice's candidate was excluded: an Approve of
    the second request cannot reach alice through the stamp of the first."""
    world = wired.world
    alice = world.candidate(world.licensed("alice", dept="Board"), state="awaiting_approval")
    bob = world.candidate(world.licensed("bob"), state="awaiting_approval")
    world.covered()
    _ask(wired, monkeypatch)
    _edit_profile(wired, exclusions={"users": [{"dept": "Board"}]})
    asked = _ask(wired, monkeypatch)
    assert asked["subject"].startswith("Reclaim 1 unused")
    _edit_profile(wired, exclusions={"users": []})  # and the exclusion is lifted again before the answer
    answer = wired.approve.execute_complete(_context(wired.approve), _event("Approve"))

    wired.reclaim.execute(_context(wired.reclaim, answer))

    assert world.state(bob) == "closed_complete" and world.state(alice) == "awaiting_approval"
    assert _approval(world)[alice][1] is None


def test_yesterdays_answer_approves_nothing_today(wired, monkeypatch):
    """Day 2: the candidates were asked about by yesterday's run; an Approve handed to today's
    reclaim (a stale XCom, a re-wired DAG) finds no request of today's run and writes nothing."""
    world = wired.world
    seat = world.candidate(world.licensed(), state="awaiting_approval")
    _ask(wired, monkeypatch)
    yesterday = wired.approve.execute_complete(_context(wired.approve), _event("Approve"))
    today = _context(wired.reclaim, yesterday)
    today["run_id"] = "scheduled__2026-11-29"

    summary = wired.reclaim.execute(today)

    assert summary["closed_complete"] == 0 and summary["not_approved"] == 1
    assert world.api_calls() == [] and world.state(seat) == "awaiting_approval"


@pytest.mark.parametrize("answer", [None, _event("Reject"), _event("Approve", by=None, timedout=True)],
                         ids=["no answer", "reject", "timeout recorded as Approve"])
def test_reclaim_refuses_to_write_without_a_persons_approve(wired, monkeypatch, answer):
    world = wired.world
    seat = world.candidate(world.licensed(), state="awaiting_approval")
    _ask(wired, monkeypatch)
    with pytest.raises(AirflowFailException, match="no Approve from a person"):
        wired.reclaim.execute(_context(wired.reclaim, answer))
    assert world.api_calls() == [] and world.state(seat) == "awaiting_approval"


def test_an_approve_the_approve_task_did_not_record_writes_nothing(wired, monkeypatch):
    """The request was made but its answer step never ran (a re-wired DAG hands reclaim an Approve
    directly): no candidate is recorded approved, so nothing is written."""
    world = wired.world
    seat = world.candidate(world.licensed(), state="awaiting_approval")
    _ask(wired, monkeypatch)

    summary = wired.reclaim.execute(_context(wired.reclaim, _event("Approve")))

    assert summary["not_approved"] == 1 and world.api_calls() == [] and world.state(seat) == "awaiting_approval"


def _nobody_asked(monkeypatch):
    monkeypatch.setattr("airflow.providers.standard.operators.hitl.upsert_hitl_detail",
                        lambda **kw: pytest.fail("nobody must be asked"))


def test_a_backfill_run_plans_as_a_dry_run_and_never_writes(wired, monkeypatch):
    world = wired.world
    seat = world.candidate(world.licensed(), state="awaiting_approval")
    _nobody_asked(monkeypatch)

    assert wired.approve.execute(_context(wired.approve, run_type="backfill"))["not_asked"] is True
    summary = wired.reclaim.execute(_context(wired.reclaim, run_type="backfill"))

    assert summary["dry_run"] is True and summary["closed_complete"] == 1
    assert world.writes() == [] and world.state(seat) == "awaiting_approval"


def test_reclaim_turned_off_after_parsing_writes_nothing(wired, monkeypatch):
    from airflow.sdk.exceptions import AirflowSkipException

    world = wired.world
    seat = world.candidate(world.licensed(), state="awaiting_approval")
    _edit_profile(wired, reclaim_subscriptions=False)
    _nobody_asked(monkeypatch)

    wired.approve.execute(_context(wired.approve))
    with pytest.raises(AirflowSkipException, match="reclaim_subscriptions is false"):
        wired.reclaim.execute(_context(wired.reclaim, _event("Approve")))
    assert world.api_calls() == [] and world.state(seat) == "awaiting_approval"


def test_dry_run_set_after_parsing_plans_without_asking_or_writing(wired, monkeypatch):
    world = wired.world
    world.candidate(world.licensed(), state="awaiting_approval")
    _edit_profile(wired, reclaim={"mode": "dry_run"})
    _nobody_asked(monkeypatch)

    wired.approve.execute(_context(wired.approve))
    summary = wired.reclaim.execute(_context(wired.reclaim, _event("Approve")))

    assert summary["dry_run"] is True and world.writes() == []


@pytest.mark.parametrize("recorded", [True, False], ids=["recorded opt-in, file edited to out", "the reverse"])
def test_approve_and_reclaim_judge_by_the_rules_the_run_recorded(wired, monkeypatch, recorded):
    """The profile file's rule flips between the run's download (which recorded the rules the
    reconcile used) and its approval and reclaim: both still act on the recorded rule."""
    world = wired.world
    invited = world.licensed("invited", pending=True)
    cand = world.candidate(invited, state="awaiting_approval")
    rule = {"software_model": "*", "last_activity_threshold_days": 60}
    world.record_rules(make_profile("approval", rules=[{**rule, "disassociate_pending_invitations": recorded}]))
    _edit_profile(wired, rules=[{**rule, "disassociate_pending_invitations": not recorded}])
    asked = {}
    monkeypatch.setattr("airflow.providers.standard.operators.hitl.upsert_hitl_detail", lambda **kw: asked.update(kw))

    if recorded:
        with pytest.raises(TaskAwaitingInput):
            wired.approve.execute(_context(wired.approve))
        assert asked["subject"].startswith("Reclaim 1 unused Zoom subscription(s)")
        answer = wired.approve.execute_complete(_context(wired.approve), _event("Approve"))
    else:
        from airflow.sdk.exceptions import AirflowSkipException

        with pytest.raises(AirflowSkipException, match="no candidate to reclaim"):
            wired.approve.execute(_context(wired.approve))
        assert asked == {}
        answer = _event("Approve")
    wired.reclaim.execute(_context(wired.reclaim, answer))

    if recorded:
        assert world.user(invited) is None and world.state(cand) == "closed_complete"
        assert world.writes() == [("DELETE", "/v2/users/invited@example.com")]
    else:  # not in the request (nothing to write): closed without a write, as automatic mode closes it
        assert world.user(invited) is not None and world.writes() == []
        assert world.states()[cand][0] == "closed_skipped"


def test_the_request_links_to_the_page_the_views_serve_and_names_the_form_field_the_process_reads():
    from zoom_sam.operators.reclaim import LEAVE_OUT, VIEWS_PREFIX
    from zoom_sam.reclaim import approval
    from zoom_sam.ui.app import create_app
    from zoom_sam.ui.plugin import URL_PREFIX

    assert VIEWS_PREFIX == URL_PREFIX and LEAVE_OUT == approval.LEAVE_OUT
    assert create_app().url_path_for("candidates_page", alias="acme") == approval.CANDIDATES_PAGE.format(alias="acme")
