"""The approve and reclaim operators: the request a person sees, and how the answer reaches reclaim.

A whole Human-in-the-loop run needs the API server to answer the request, which ``dag.test``
cannot do, so the operators are driven here the way the task runner drives them: ``execute``
(which parks the task awaiting input), then ``execute_complete`` with the event Airflow builds
from the answer or from the response timeout.
"""
from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
import yaml
from airflow.sdk import DAG
from airflow.sdk.exceptions import AirflowFailException, DownstreamTasksSkipped, TaskAwaitingInput

from tests.reclaim.conftest import make_world, world  # noqa: F401  (fixtures)
from tests.reclaim.world import ALIAS, AS_OF, make_profile
from zoom_sam.operators.reclaim import APPROVAL_TIMEOUT, ReclaimApprovalOperator, ReclaimOperator
from zoom_sam.warehouse.schema import job_result

PERSON = {"id": "sam", "name": "SAM manager"}


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
        if isinstance(value, dict):
            data[key].update(value)
        else:
            data[key] = value
    with open(path, "w") as f:
        yaml.safe_dump(data, f)


def _event(option, by=PERSON, timedout=False):
    return {"chosen_options": [option], "params_input": {}, "responded_at": AS_OF, "responded_by_user": by,
            "timedout": timedout}


def test_approve_asks_with_counts_savings_and_users_then_waits(wired, monkeypatch):
    world = wired.world
    for name in ("alice", "bob"):
        world.candidate(world.licensed(name), state="awaiting_approval")
    asked = {}
    monkeypatch.setattr("airflow.providers.standard.operators.hitl.upsert_hitl_detail", lambda **kw: asked.update(kw))

    with pytest.raises(TaskAwaitingInput):
        wired.approve.execute(_context(wired.approve))

    assert asked["options"] == ["Approve", "Reject"] and asked["defaults"] == ["Reject"]
    assert asked["subject"] == ("Reclaim 2 unused Zoom subscription(s) of Zoom Integration (acme), "
                                "saving 299.80 USD per year?")
    body = asked["body"]
    assert "| `zoom_meetings_licensed` | 2 | 299.80 USD |" in body
    assert "| alice@example.com | `zoom_meetings_licensed` | downgrade to Basic (its add-ons removed first) |" in body
    assert "FROM removal_candidate" in body and "counts as Reject" in body
    assert wired.approve.response_timeout == APPROVAL_TIMEOUT
    assert world.api_calls() == []  # asking costs no Zoom call


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


@pytest.mark.parametrize("event", [_event("Reject"), _event("Reject", by=None, timedout=True)],
                         ids=["reject", "response timeout"])
def test_reject_and_timeout_skip_the_reclaim(wired, event):
    with pytest.raises(DownstreamTasksSkipped) as skipped:
        wired.approve.execute_complete(_context(wired.approve), event)
    assert skipped.value.tasks == ["reclaim"]


def test_approve_lets_the_reclaim_run(wired):
    world = wired.world
    seat = world.candidate(world.licensed(), state="awaiting_approval")
    answer = wired.approve.execute_complete(_context(wired.approve), _event("Approve"))

    summary = wired.reclaim.execute(_context(wired.reclaim, answer))

    assert summary["closed_complete"] == 1 and world.state(seat) == "closed_complete"
    with world.engine.connect() as conn:
        job = conn.execute(sa.select(job_result).where(job_result.c.task_id == "reclaim")).mappings().one()
    assert job["status"] == "success" and job["counts"]["closed_complete"] == 1
    assert job["counts"]["savings"]["zoom_meetings_licensed"]["saving"] == 149.9 and job["api"]["calls"]["Light"] == 1


@pytest.mark.parametrize("answer", [None, _event("Reject"), _event("Approve", by=None, timedout=True)],
                         ids=["no answer", "reject", "timeout recorded as Approve"])
def test_reclaim_refuses_to_write_without_a_persons_approve(wired, answer):
    world = wired.world
    seat = world.candidate(world.licensed(), state="awaiting_approval")
    with pytest.raises(AirflowFailException, match="no Approve from a person"):
        wired.reclaim.execute(_context(wired.reclaim, answer))
    assert world.api_calls() == [] and world.state(seat) == "awaiting_approval"


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
    else:
        from airflow.sdk.exceptions import AirflowSkipException

        with pytest.raises(AirflowSkipException, match="no candidate to reclaim"):
            wired.approve.execute(_context(wired.approve))
        assert asked == {}
    wired.reclaim.execute(_context(wired.reclaim, _event("Approve")))

    if recorded:
        assert world.user(invited) is None and world.state(cand) == "closed_complete"
        assert world.writes() == [("DELETE", "/v2/users/invited@example.com")]
    else:
        assert world.user(invited) is not None and world.writes() == []
        assert world.states()[cand] == ("closed_skipped", "pending invitation: its rule does not set "
                                                          "disassociate_pending_invitations")
