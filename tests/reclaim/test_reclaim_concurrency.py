"""Two reclaims of the same candidates at once: each write reaches Zoom at most once.

Two layers keep them apart. The reclaim task runs under the profile's ``state`` lock, so a
second run's task waits, then finds the candidates closed. Below the task, the journal claims
each candidate compare-and-set before any intent, so two reclaims that meet without the lock
still never send the same write twice, and the one that stands back says which run has it.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
import yaml

from tests.reclaim.world import ALIAS, AS_OF, make_profile
from tests.support.children import reclaim_run, reclaim_task
from tests.support.processes import CTX, run_concurrently, start
from zoom_sam.reclaim.journal import CLAIM_LEASE, CandidateTaken, Journal
from zoom_sam.reclaim.model import DOWNGRADE, Action
from zoom_sam.reclaim.selection import load_candidates
from zoom_sam.vocabulary import CandidateState
from zoom_sam.warehouse.schema import job_result, removal_candidate

DAILY = "scheduled__2026-11-28"
MANUAL = "manual__2026-11-28T06:00:00+00:00"


def populate(world) -> tuple[set[int], set[tuple[str, str]]]:
    """Users with idle seats (two with an idle webinar add-on too): their candidates and Zoom's writes."""
    candidates, writes = set(), set()
    for n in range(4):
        addons = ("webinar",) if n < 2 else ()
        user = world.licensed(f"idle{n}", addons=addons)
        candidates.add(world.candidate(user))
        writes.add(("PATCH", f"/v2/users/{user['id']}"))
        for addon in addons:
            candidates.add(world.candidate(user, addon))
            writes.add(("PATCH", f"/v2/users/{user['id']}/settings"))
    return candidates, writes


def claims(world) -> dict[int, str]:
    with world.engine.connect() as conn:
        return dict(conn.execute(sa.select(removal_candidate.c.candidate_id, removal_candidate.c.claimed_by)).all())


def test_two_reclaims_meeting_without_the_lock_send_each_write_once(any_world):
    world = any_world
    candidates, expected_writes = populate(world)
    url = world.engine.url.render_as_string(hide_password=False)
    meet = CTX.Barrier(2)
    profile = make_profile("automatic").model_dump(mode="json")

    results = run_concurrently(reclaim_run, *[(url, world.sb.connection_json(), profile, run_id, AS_OF.isoformat(),
                                               meet) for run_id in (DAILY, MANUAL)])

    writes = Counter(world.writes())
    assert set(writes) == expected_writes and set(writes.values()) == {1}
    assert {c: world.state(c) for c in candidates} == dict.fromkeys(candidates, CandidateState.CLOSED_COMPLETE)
    owners = claims(world)
    assert set(owners.values()) <= {DAILY, MANUAL}
    assert all(a["run_id"] == owners[a["candidate_id"]] for a in world.actions())  # the journal agrees
    by_run = {run_id: {c for c, owner in owners.items() if owner == run_id} for run_id in (DAILY, MANUAL)}
    for run_id, result in zip((DAILY, MANUAL), results):
        if by_run[run_id] == candidates:  # it did everything; the other one found nothing left to do
            continue
        # The run that stood back for some candidates says so, and why.
        assert result["incomplete"] and "CandidateTaken: candidate" in result["incomplete"]
        assert "is being reclaimed by run" in result["incomplete"] or "already (claimed by run" in result["incomplete"]


def test_a_second_reclaim_task_waits_for_the_first_and_finds_nothing_left(any_world, tmp_path):
    world = any_world
    candidates, expected_writes = populate(world)
    path = tmp_path / "acme.yaml"
    path.write_text(yaml.safe_dump({
        "alias": ALIAS, "zoom_conn_id": "zoom_test", "warehouse_conn_id": "wh_test", "reclaim_subscriptions": True,
        "reclaim": {"mode": "automatic", "max_per_run": 100, "max_fraction": 1.0}}))
    env = {"AIRFLOW_CONN_ZOOM_TEST": world.sb.connection_json(), "AIRFLOW_CONN_WH_TEST": _connection(world.engine)}
    holding, proceed = CTX.Event(), CTX.Event()

    first = start(reclaim_task, (env, str(path), DAILY, AS_OF.isoformat(), holding, proceed))
    first.expect(holding)  # the daily run's reclaim holds the lock ...
    second = start(reclaim_task, (env, str(path), MANUAL, AS_OF.isoformat(), None, proceed))
    # ... until the manual run's reclaim says it waits for it (that sets proceed)
    (daily,), (manual,) = first.wait(), second.wait()

    writes = Counter(world.writes())
    assert set(writes) == expected_writes and set(writes.values()) == {1}
    assert daily["summary"]["closed_complete"] == len(candidates)
    assert manual["summary"]["selected"] == 0 and manual["summary"]["writes"] == 0
    waiting = next(line for line in manual["log"] if line.startswith("waiting for"))
    assert waiting.startswith(f"waiting for the warehouse lock 'state' of profile acme, held by run {DAILY}, "
                              "task reclaim try 1, on ")
    with world.engine.connect() as conn:
        waited = dict(conn.execute(sa.select(job_result.c.run_id, job_result.c.counts)).all())
    assert waited[MANUAL]["lock_wait_s"] > 0 and waited[DAILY]["lock_wait_s"] < waited[MANUAL]["lock_wait_s"]


def test_an_intent_is_written_only_while_the_candidate_is_open_and_not_claimed_by_another_run(world):
    user = world.licensed("idle")
    world.candidate(user)
    (cand,) = load_candidates(world.engine, ALIAS, AS_OF)
    action = Action(cand.candidate_id, DOWNGRADE, user["id"])
    daily, manual = Journal(world.engine, ALIAS, DAILY), Journal(world.engine, ALIAS, MANUAL)

    daily.intent(cand, action, None)
    taken = (rf"candidate {cand.candidate_id} \(idle@example.com zoom_meetings_licensed\) is being reclaimed by "
             rf"run {DAILY} \(claimed .*; run {re.escape(MANUAL)} leaves it alone and sends nothing to Zoom for it")
    with pytest.raises(CandidateTaken, match=taken):
        manual.intent(cand, action, None)
    with pytest.raises(CandidateTaken):
        manual.close(cand, CandidateState.CLOSED_COMPLETE, "not its candidate")
    daily.intent(cand, action, {"attempts": 1})  # the same run again (a retry): still its own
    assert [(a["run_id"], a["attempts"]) for a in world.actions()] == [(DAILY, 2)]

    with world.engine.begin() as conn:  # the daily run died for good, longer ago than the claim lasts
        conn.execute(removal_candidate.update().values(
            claimed_at=datetime.now(timezone.utc) - CLAIM_LEASE - timedelta(minutes=1)))
    manual.intent(cand, action, {"attempts": 2})
    assert claims(world) == {cand.candidate_id: MANUAL}

    assert manual.close(cand, CandidateState.CLOSED_COMPLETE, "reclaimed")
    with pytest.raises(CandidateTaken, match="is closed_complete already \\(claimed by run manual__"):
        daily.intent(cand, action, None)
    assert world.writes() == []  # the journal alone never calls Zoom


def _connection(engine) -> str:
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return json.dumps({"conn_type": "sqlite", "host": url.database})
    return json.dumps({"conn_type": "postgres", "host": url.host, "port": url.port, "login": url.username,
                       "password": url.password or "", "schema": url.database})
