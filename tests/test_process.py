"""The run's options (the DAG's Params of a run triggered by hand): read strictly, only ever limiting."""
from __future__ import annotations

import pytest

from zoom_sam.process import RunOptions, RunOptionsError
from zoom_sam.vocabulary import TaskId


def test_a_scheduled_run_has_no_option_set():
    options = RunOptions.from_run({"dry_run_only": False, "reconcile_latest_snapshot_only": False,
                                   "skip_activity": False}, {})
    assert options == RunOptions() and options.limiting() == ()
    assert all(options.skips(task) is None for task in TaskId)
    assert RunOptions.from_run(None, None) == RunOptions()


def test_the_conf_wins_over_the_params_and_other_params_are_not_options():
    options = RunOptions.from_run({"dry_run_only": False, "leave_out": ["a@example.com"]}, {"dry_run_only": True})
    assert options == RunOptions(dry_run_only=True)


@pytest.mark.parametrize("conf", [{"unknown": True}, {"dry_run_only": None}, {"skip_activity": "yes"},
                                  {"reconcile_latest_snapshot_only": 1}, {"dry_run_only": False, "mode": "automatic"}])
def test_a_forged_conf_is_refused(conf):
    with pytest.raises(RunOptionsError, match="refused, nothing runs"):
        RunOptions.from_run({}, conf)


def test_which_tasks_each_option_leaves_out():
    latest = RunOptions(reconcile_latest_snapshot_only=True)
    assert {t for t in TaskId if latest.skips(t)} == {TaskId.DOWNLOAD_SUBSCRIPTIONS, TaskId.SWEEP_ACTIVITY,
                                                       TaskId.PULL_ACTIVITY}
    assert {t for t in TaskId if RunOptions(skip_activity=True).skips(t)} == {TaskId.SWEEP_ACTIVITY,
                                                                               TaskId.PULL_ACTIVITY}
    assert {t for t in TaskId if RunOptions(dry_run_only=True).skips(t)} == set()
