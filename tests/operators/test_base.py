"""The operators' base around any process: the context it builds, the summary it records, and
which errors fail the task at once (no retry can fix them) or are left to Airflow's retries."""
from __future__ import annotations

import gc
import json
import re
import sys
import types
from types import SimpleNamespace

import pendulum
import pytest
import sqlalchemy as sa
from airflow.sdk.exceptions import AirflowFailException

from zoom_sam.errors import ConfigurationError, RetryableError, ZoomSamError
from zoom_sam.operators.base import ProfileOperator
from zoom_sam.process import Summary
from zoom_sam.reclaim.guards import GuardExceeded
from zoom_sam.reclaim.process import ReclaimNotApproved
from zoom_sam.warehouse.engine import engine_for_url
from zoom_sam.warehouse.schema import job_result, reclamation_rule
from zoom_sam.zoom.errors import ZoomMissingScopes, ZoomRateLimited, ZoomTransientError

PROFILE = "alias: acme\nzoom_conn_id: zoom_acme\nwarehouse_conn_id: acme_warehouse\n"
AS_OF = pendulum.datetime(2026, 11, 28, tz="UTC")


class ProbeOperator(ProfileOperator):
    process = "probe_process:run"


@pytest.fixture
def probe(tmp_path, monkeypatch):
    """A process module the base imports by name; the test decides what its run does."""
    (tmp_path / "acme.yaml").write_text(PROFILE)
    db = tmp_path / "w.db"
    monkeypatch.setenv("AIRFLOW_CONN_ACME_WAREHOUSE", json.dumps({"conn_type": "sqlite", "host": str(db)}))
    module = types.ModuleType("probe_process")
    monkeypatch.setitem(sys.modules, "probe_process", module)
    task = ProbeOperator(task_id="probe", profile_path=str(tmp_path / "acme.yaml"), profile_alias="acme")
    context = {"data_interval_start": AS_OF.subtract(days=1), "data_interval_end": AS_OF, "run_id": "r1",
               "ti": SimpleNamespace(try_number=2, map_index=-1), "dag_run": SimpleNamespace(run_type="backfill")}
    engine = engine_for_url(f"sqlite:///{db}")
    yield SimpleNamespace(module=module, task=task, context=context, engine=engine)
    engine.dispose()


def _job(engine) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(job_result)).mappings().one())


def test_the_process_gets_the_run_and_its_recorded_rules_and_its_summary_is_recorded(probe):
    seen = {}

    def run(ctx, zoom):
        seen.update(alias=ctx.profile.alias, as_of=ctx.as_of, run_id=ctx.run_id, try_number=ctx.try_number,
                    interval_start=ctx.interval_start, run_type=ctx.run_type,
                    threshold=ctx.rules.for_model("zoom_meetings_licensed").threshold_days)
        ctx.job.counts["on_the_way"] = 1
        return Summary(report={"done": True}, counts={"rows": 3}, status="dry_run", message="nothing written")

    probe.module.run = run
    probe.task.execute(probe.context)  # creates the schema; no rule recorded yet: the default
    assert seen["threshold"] == 60
    with probe.engine.begin() as conn:
        conn.execute(reclamation_rule.insert(), [{
            "profile_alias": "acme", "rule_index": 0, "software_model_pattern": "zoom_*",
            "last_activity_threshold_days": 30, "disassociate_pending_invitations": False, "source": "profile"}])
        conn.execute(job_result.delete())

    assert probe.task.execute(probe.context) == {"done": True}

    assert seen == {"alias": "acme", "as_of": AS_OF, "run_id": "r1", "try_number": 2,
                    "interval_start": AS_OF.subtract(days=1), "run_type": "backfill", "threshold": 30}
    job = _job(probe.engine)
    assert (job["status"], job["message"], job["try_number"]) == ("dry_run", "nothing written", 2)
    assert job["counts"]["on_the_way"] == 1 and job["counts"]["rows"] == 3


def _collected_walks(obj) -> bool:
    """Whether the cyclic collector's generations hold ``obj`` (a full collection walks it)."""
    return any(o is obj for generation in (0, 1, 2) for o in gc.get_objects(generation=generation))


@pytest.mark.parametrize("error", [None, RetryableError("the lock is held elsewhere")], ids=["succeeds", "fails"])
def test_the_process_runs_with_what_the_task_held_before_it_frozen_out_of_the_collector(probe, error):
    """What the task process held before (Airflow, the imports) is not walked by the process's full
    collections; after the process, succeeded or not, it is collectable again."""
    held_before = {"held": []}
    assert _collected_walks(held_before)
    walked = []

    def run(ctx, zoom):
        walked.append(_collected_walks(held_before))
        if error:
            raise error
        return Summary()

    probe.module.run = run
    if error:
        with pytest.raises(RetryableError):
            probe.task.execute(probe.context)
    else:
        probe.task.execute(probe.context)

    assert walked == [False]
    assert _collected_walks(held_before) and gc.get_freeze_count() == 0


def test_a_process_with_nothing_to_do_opens_no_zoom_client(probe, monkeypatch):
    import zoom_sam.hooks.zoom as hook

    monkeypatch.setattr(hook.ZoomHook, "get_conn", lambda self: pytest.fail("a Zoom client was opened"))
    probe.module.run = lambda ctx, zoom: Summary()
    probe.task.execute(probe.context)
    assert _job(probe.engine)["api"] == {}


@pytest.mark.parametrize("error", [
    ConfigurationError("the connection names no account"),
    GuardExceeded("would downgrade 30 of 40 seats"),
    ReclaimNotApproved("nobody approved"),
    ZoomMissingScopes(missing=("user:update:user:admin",), message="reclaim cannot write"),
], ids=lambda e: type(e).__name__)
def test_an_error_no_retry_can_fix_fails_the_task_at_once(probe, error):
    def run(ctx, zoom):
        raise error

    probe.module.run = run
    with pytest.raises(AirflowFailException, match=re.escape(str(error))):
        probe.task.execute(probe.context)
    assert _job(probe.engine)["status"] == "failed"


@pytest.mark.parametrize("error", [
    RetryableError("the lock is held elsewhere"),
    ZoomTransientError("GET /users: HTTP 503 after the retries allowed"),
    ZoomRateLimited("still 429 after the retries allowed", category="Medium"),
], ids=lambda e: type(e).__name__)
def test_an_error_a_retry_may_fix_is_left_to_airflow(probe, error):
    def run(ctx, zoom):
        raise error

    probe.module.run = run
    with pytest.raises(type(error)):
        probe.task.execute(probe.context)


def test_every_error_says_whether_a_retry_helps():
    assert not ZoomSamError().retryable and RetryableError().retryable
    assert issubclass(ConfigurationError, ValueError) and not ConfigurationError().retryable
    assert not ZoomMissingScopes(missing=("a",)).retryable


@pytest.mark.parametrize(("conf", "match"), [
    ({"dry_run_only": True, "max_per_run": 1000}, "unknown run parameter\\(s\\) 'max_per_run'"),
    ({"reclaim_mode": "automatic"}, "unknown run parameter\\(s\\) 'reclaim_mode'"),
    ({"dry_run_only": "false"}, "dry_run_only='false' must be true or false"),
    ({"skip_activity": 0}, "skip_activity=0 must be true or false"),
], ids=["a guard raised", "a mode forced", "a string for a boolean", "a number for a boolean"])
def test_a_forged_conf_fails_the_task_at_once_before_its_process_runs(probe, conf, match):
    probe.module.run = lambda ctx, zoom: pytest.fail("the process must not run")
    probe.context["dag_run"] = SimpleNamespace(run_type="manual", conf=conf)
    with pytest.raises(AirflowFailException, match=match):
        probe.task.execute(probe.context)
    job = _job(probe.engine)
    assert job["status"] == "failed" and "RunOptionsError" in job["message"]


def test_the_run_parameters_reach_the_process(probe):
    seen = {}
    probe.module.run = lambda ctx, zoom: seen.update(options=ctx.options) or Summary()
    probe.context["dag_run"] = SimpleNamespace(run_type="manual", conf={"dry_run_only": True})
    probe.context["params"] = {"dry_run_only": True, "skip_activity": False, "leave_out": []}  # a task's own too
    probe.task.execute(probe.context)
    assert seen["options"].limiting() == ("dry_run_only",)


def test_a_task_a_run_parameter_leaves_out_does_nothing_and_says_why(probe, monkeypatch, caplog):
    probe.module.run = lambda ctx, zoom: pytest.fail("the process must not run")
    probe.task.task_id = "pull_activity"
    probe.context["dag_run"] = SimpleNamespace(run_type="manual", conf={"skip_activity": True})

    assert probe.task.execute(probe.context)["skipped"] is True

    job = _job(probe.engine)
    assert job["status"] == "skipped" and job["message"].startswith("skipped by the run parameter skip_activity")
    assert "pull_activity of acme does nothing in this run: skipped by the run parameter skip_activity" in caplog.text
