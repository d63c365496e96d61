"""The DAG file as Airflow parses it: one DAG per profile, its shape, and bad profiles isolated."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

from airflow.dag_processing.dagbag import DagBag
from airflow.sdk import CronTriggerTimetable

from zoom_sam import dag_factory
from zoom_sam.operators.reclaim import APPROVAL_TIMEOUT
from zoom_sam.profiles import DEFAULT_PROFILES_DIR
from zoom_sam.timeouts.ceiling import DEFAULT_TASK_MINUTES, TASK_IDS

DAG_FILE = "zoom_sam_dags.py"
GOOD = "alias: {alias}\nzoom_conn_id: zoom_{alias}\n"


def parse() -> DagBag:
    return DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])


def import_error(bag: DagBag) -> str:
    (path, message), = bag.import_errors.items()
    assert path.endswith(DAG_FILE)
    return message


def test_every_shipped_profile_becomes_a_dag(monkeypatch):
    monkeypatch.delenv("ZOOM_SAM_TASK_RETRIES", raising=False)
    monkeypatch.setenv("ZOOM_SAM_PROFILES_DIR", str(DEFAULT_PROFILES_DIR))
    bag = parse()
    assert bag.import_errors == {}
    dag = bag.dags["zoom_sam__demo"]
    assert [t.task_id for t in dag.tasks][:2] == ["validate_profile", "download_subscriptions"]
    assert dag.get_task("validate_profile").downstream_task_ids == {"download_subscriptions"}
    assert dag.get_task("validate_profile").upstream_task_ids == set()
    assert dag.max_active_runs == 1 and dag.catchup is False
    assert {"zoom-sam", "profile:demo"} <= set(dag.tags)
    task = dag.get_task("download_subscriptions")
    assert (task.retries, task.retry_exponential_backoff) == (dag_factory.DEFAULT_RETRIES, 2.0)
    assert task.pool == "default_pool"
    assert "`zoom_demo`" in dag.doc_md and "svc-*@example.com" in dag.doc_md and "dry_run" in dag.doc_md


def test_schedule_is_midnight_utc_with_one_day_intervals(profiles):
    """The resulting data interval [day-1, day) is asserted end to end in test_dag_runs."""
    (profiles / "acme.yaml").write_text(GOOD.format(alias="acme"))
    timetable = parse().dags["zoom_sam__acme"].timetable
    assert type(timetable) is CronTriggerTimetable
    assert (timetable.expression, str(timetable.timezone), timetable.interval) == ("0 0 * * *", "UTC", timedelta(days=1))


def test_pool_and_retries_follow_profile_and_environment(profiles, monkeypatch):
    (profiles / "a.yaml").write_text(GOOD.format(alias="a") + "pool: zoom_account_1\n")
    (profiles / "b.yaml").write_text(GOOD.format(alias="b"))
    monkeypatch.setenv("ZOOM_SAM_TASK_RETRIES", "5")
    bag = parse()
    assert {t.pool for t in bag.dags["zoom_sam__a"].tasks} == {"zoom_account_1"}
    assert {t.pool for t in bag.dags["zoom_sam__b"].tasks} == {"default_pool"}
    assert {t.retries for t in bag.dags["zoom_sam__b"].tasks} == {5}


BAD_FILES = {
    "missing.yaml": ("alias: missing\n", "field 'zoom_conn_id' is required"),
    "unknown.yaml": (GOOD.format(alias="unknown") + "reclaim_subscription: true\n",
                     "field 'reclaim_subscription' is not a profile field; valid fields here"),
    "wrong_type.yaml": (GOOD.format(alias="wrong_type") + "download_activity: maybe\n",
                        "field 'download_activity'"),
    "bad_alias.yaml": ("alias: Bad Alias\nzoom_conn_id: z\n", "field 'alias'"),
    "zz_duplicate.yaml": (GOOD.format(alias="good"), "'good' is already the alias of good.yaml"),
    "mode.yaml": (GOOD.format(alias="mode") + "reclaim:\n  mode: yolo\n", "'dry_run', 'approval' or 'automatic'"),
    "negative.yaml": (GOOD.format(alias="negative") + "rules:\n  - software_model: '*'\n"
                      "    last_activity_threshold_days: -30\n", "from 1 to 36,500"),
    "twice.yaml": (GOOD.format(alias="twice") + "download_activity: true\ndownload_activity: false\n",
                   "line 4, column 1: key 'download_activity' is given twice in the same mapping (first at line 3)"),
    "blank_conn.yaml": ("alias: blank_conn\nzoom_conn_id: ' '\n", "field 'zoom_conn_id': is blank"),
    "too_big.yaml": (GOOD.format(alias="too_big") + "entitlements:\n  - {software_model: x, purchased: 3000000000}\n",
                     "field 'entitlements[0].purchased': Input should be less than or equal to 2147483647"),
}


def test_each_bad_profile_is_one_clear_import_error_and_the_good_dags_still_load(profiles):
    (profiles / "good.yaml").write_text(GOOD.format(alias="good"))
    (profiles / "other.yaml").write_text(GOOD.format(alias="other") + "download_activity: false\n")
    for name, (text, _) in BAD_FILES.items():
        (profiles / name).write_text(text)
    bag = parse()
    assert sorted(bag.dag_ids) == ["zoom_sam__good", "zoom_sam__other"]
    message = import_error(bag)
    assert f"{len(BAD_FILES)} integration profile file(s) are invalid" in message
    for name, (_, expected) in BAD_FILES.items():
        paragraph = next(p for p in message.split("\n\n") if f"profiles/{name} is invalid" in p)
        assert expected in paragraph, (name, paragraph)


def test_fixing_the_profile_clears_the_import_error(profiles):
    (profiles / "acme.yaml").write_text("alias: acme\n")
    assert "zoom_conn_id" in import_error(parse())
    (profiles / "acme.yaml").write_text(GOOD.format(alias="acme"))
    bag = parse()
    assert bag.import_errors == {} and bag.dag_ids == ["zoom_sam__acme"]


def test_tasks_follow_the_profile_switches(profiles):
    (profiles / "full.yaml").write_text(GOOD.format(alias="full") + "reclaim_subscriptions: true\n"
                                        "reclaim: {mode: approval}\n")
    (profiles / "lean.yaml").write_text(GOOD.format(alias="lean") + "download_activity: false\n")
    bag = parse()

    def chain_of(dag_id):
        dag = bag.dags[dag_id]
        order, task = [], dag.get_task("validate_profile")
        while task:
            order.append(task.task_id)
            task = dag.get_task(next(iter(task.downstream_task_ids))) if task.downstream_task_ids else None
        assert len(order) == len(dag.tasks)
        return order

    assert chain_of("zoom_sam__full") == ["validate_profile", "download_subscriptions", "sweep_activity",
                                          "pull_activity", "reconcile", "approve", "reclaim"]
    assert chain_of("zoom_sam__lean") == ["validate_profile", "download_subscriptions", "reconcile"]


def test_every_task_has_the_profiles_execution_timeout_and_per_task_overrides_win(profiles):
    approval = "reclaim_subscriptions: true\nreclaim: {mode: approval}\n"
    (profiles / "full.yaml").write_text(GOOD.format(alias="full") + approval)
    (profiles / "tuned.yaml").write_text(GOOD.format(alias="tuned") + approval + "timeouts:\n  task_minutes: 90\n"
                                         "  per_task: {sweep_activity: 720, approve: 5}\n")
    bag = parse()
    full = {t.task_id: t.execution_timeout for t in bag.dags["zoom_sam__full"].tasks}
    assert set(full) == set(TASK_IDS) == {step.task_id for step in dag_factory.PIPELINE}
    assert set(full.values()) == {timedelta(minutes=DEFAULT_TASK_MINUTES)}
    tuned = bag.dags["zoom_sam__tuned"]
    assert {t.task_id: t.execution_timeout for t in tuned.tasks} == {
        **{task_id: timedelta(minutes=90) for task_id in TASK_IDS},
        "sweep_activity": timedelta(hours=12), "approve": timedelta(minutes=5)}
    assert tuned.get_task("approve").response_timeout == APPROVAL_TIMEOUT  # the wait for a person is apart


def test_parsing_is_cheap_and_builds_only_the_dag_a_task_needs(profiles):
    for alias in ("a", "b", "c"):
        (profiles / f"{alias}.yaml").write_text(GOOD.format(alias=alias))
    probe = (
        "import json, sys; from airflow.dag_processing.dagbag import DagBag; "
        f"bag = DagBag(dag_folder={os.environ['AIRFLOW__CORE__DAGS_FOLDER']!r}); "
        "print(json.dumps({'dags': sorted(bag.dag_ids), 'errors': list(bag.import_errors), "
        "'modules': sorted(m for m in sys.modules if m.startswith('zoom_sam.'))}))"
    )
    env = {**os.environ, "_AIRFLOW_PARSING_CONTEXT_DAG_ID": "zoom_sam__b"}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert (result["dags"], result["errors"]) == (["zoom_sam__b"], [])
    loaded = set(result["modules"])
    for heavy in ("zoom_sam.hooks.zoom", "zoom_sam.zoom.client", "zoom_sam.warehouse.engine",
                  "zoom_sam.subscriptions.process"):
        assert heavy not in loaded
