"""approve and reclaim: the operators over :mod:`zoom_sam.reclaim`.

``approve`` (approval mode only) is Airflow's Human-in-the-loop :class:`ApprovalOperator`, with a
subject and body built from the warehouse when the task runs. Approve lets ``reclaim`` run;
Reject, and the response timeout (whose default answer is Reject), skip it. ``reclaim`` in
approval mode also reads the answer itself and refuses to write without an Approve from a person,
so a cleared or re-wired ``approve`` cannot open the way by accident.
"""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.standard.operators.hitl import ApprovalOperator

from zoom_sam.operators.base import ProfileOperator
from zoom_sam.vocabulary import JobStatus, Mode
from zoom_sam.warehouse.lock_names import STATE

if TYPE_CHECKING:
    from zoom_sam.process import RunContext, Summary
    from zoom_sam.profiles import Profile

APPROVE_TASK_ID = "approve"
# The next daily run of a profile waits for this one (max_active_runs=1): an unanswered request
# gives way before the next run is due, and that run asks again with fresh candidates.
APPROVAL_TIMEOUT = timedelta(hours=23)


def needs_approval(profile: Profile) -> bool:
    """Whether a profile's DAG has the approval step."""
    return profile.reclaim_subscriptions and profile.reclaim.mode == Mode.APPROVAL


class ReclaimOperator(ProfileOperator):
    """Reclaim this run's candidates in the profile's mode (dry_run | approval | automatic).

    Runs under the profile's ``state`` lock, so no reconcile or download merge of another run
    changes the candidates while they are re-checked and written to Zoom.
    """

    ui_color = "#fbe8e8"
    warehouse_lock = STATE
    process = "zoom_sam.reclaim.process:run"
    zoom_work = "reclaim_work"

    def inputs(self, context: Any) -> dict[str, Any]:
        from zoom_sam.reclaim.approval import APPROVAL_ANSWER

        return {APPROVAL_ANSWER: context["ti"].xcom_pull(task_ids=APPROVE_TASK_ID)}

    def finish(self, context: Any, ctx: RunContext, summary: Summary) -> None:
        from airflow.sdk.exceptions import AirflowSkipException


        if summary.status == JobStatus.DISABLED:
            raise AirflowSkipException(summary.message)


class ReclaimApprovalOperator(ProfileOperator, ApprovalOperator):
    """Ask a person to approve this run's reclaim (Browse -> Required Actions, or the REST API).

    The request is built when the task runs (``ProfileOperator.execute``, which also records it in
    ``job_result``); then the task waits in ``awaiting_input`` without holding a worker slot.
    """

    ui_color = "#fff4d6"
    process = "zoom_sam.reclaim.approval:run"

    def __init__(self, *, response_timeout: timedelta | None = APPROVAL_TIMEOUT, **kwargs: Any) -> None:
        kwargs.setdefault("subject", "Approve the reclaim of unused Zoom subscriptions")
        super().__init__(defaults="Reject", response_timeout=response_timeout, **kwargs)

    def inputs(self, context: Any) -> dict[str, Any]:
        from zoom_sam.reclaim.approval import RESPONSE_TIMEOUT

        return {RESPONSE_TIMEOUT: self.response_timeout}

    def execute(self, context: Any) -> Any:
        from airflow.sdk.exceptions import AirflowSkipException

        request = ProfileOperator.execute(self, context)
        if request.get("not_asked"):
            return request  # reclaim runs in the mode run_mode decided, which needs no answer
        if not request["candidates"]:
            raise AirflowSkipException("no candidate to reclaim in this run: nobody is asked, nothing is reclaimed")
        self.subject, self.body = request["subject"], request["body"]
        return ApprovalOperator.execute(self, context)
