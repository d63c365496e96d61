"""The approve and reclaim tasks in a profile's DAG follow its switches and its reclaim mode."""
from __future__ import annotations

import pytest
import yaml

from tests.reclaim.world import make_profile
from zoom_sam.dag_factory import build_dag
from zoom_sam.operators.reclaim import APPROVAL_TIMEOUT, ReclaimApprovalOperator, ReclaimOperator
from zoom_sam.profiles import LoadedProfile


@pytest.fixture
def dag_of(tmp_path):
    def build(mode: str, reclaim_subscriptions: bool = True):
        profile = make_profile(mode, reclaim_subscriptions=reclaim_subscriptions)
        path = tmp_path / "acme.yaml"
        path.write_text(yaml.safe_dump(profile.settings()))
        return build_dag(LoadedProfile(path, profile), retries=0)

    return build


def test_approval_mode_puts_the_approval_between_reconcile_and_reclaim(dag_of):
    dag = dag_of("approval")
    approve, reclaim = dag.get_task("approve"), dag.get_task("reclaim")
    assert isinstance(approve, ReclaimApprovalOperator) and isinstance(reclaim, ReclaimOperator)
    assert approve.upstream_task_ids == {"reconcile"} and approve.downstream_task_ids == {"reclaim"}
    assert reclaim.upstream_task_ids == {"approve"} and reclaim.trigger_rule == "all_success"
    assert approve.defaults == ["Reject"] and approve.response_timeout == APPROVAL_TIMEOUT
    assert approve.options == ["Approve", "Approve all but the listed users", "Reject"] and not approve.multiple
    assert set(approve.params) == {"leave_out"}  # the form shows its own field, not the run's parameters


@pytest.mark.parametrize("mode", ["dry_run", "automatic"])
def test_other_modes_reclaim_right_after_reconcile(dag_of, mode):
    dag = dag_of(mode)
    assert "approve" not in dag.task_ids
    assert dag.get_task("reclaim").upstream_task_ids == {"reconcile"}


def test_no_reclaim_task_when_the_profile_does_not_reclaim(dag_of):
    dag = dag_of("approval", reclaim_subscriptions=False)
    assert "reclaim" not in dag.task_ids and "approve" not in dag.task_ids
    assert "reconcile" in dag.task_ids
