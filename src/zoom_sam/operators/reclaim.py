"""approve and reclaim: the operators over :mod:`zoom_sam.reclaim`.

``approve`` (approval mode only) is Airflow's Human-in-the-loop :class:`HITLOperator` with three
options (Approve, Approve all but the listed users, Reject) and one form field, the users to leave
out; its subject and body are built from the warehouse when the task runs. The answer is read and
recorded on the request's candidates by :func:`zoom_sam.reclaim.approval.answer` when the task
resumes: an answer that approves something lets ``reclaim`` run; Reject, the response timeout
(whose default answer is Reject), and leaving every user out skip it; an answer that cannot be
read as one intent fails the task. ``reclaim`` in approval mode reads the answer itself again and
writes only what it approves, so a cleared or re-wired ``approve`` cannot open the way by accident.
"""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk import Param
from airflow.sdk.bases.skipmixin import SkipMixin

from zoom_sam.operators.base import ProfileOperator
from zoom_sam.vocabulary import ApprovalOption, JobStatus, Mode
from zoom_sam.warehouse.lock_names import STATE

if TYPE_CHECKING:
    from zoom_sam.process import RunContext, Summary
    from zoom_sam.profiles import Profile

APPROVE_TASK_ID = "approve"
# The next daily run of a profile waits for this one (max_active_runs=1): an unanswered request
# gives way before the next run is due, and that run asks again with fresh candidates.
APPROVAL_TIMEOUT = timedelta(hours=23)
# Where the Airflow plugin mounts the views (zoom_sam.ui.plugin.URL_PREFIX, which imports Airflow's
# plugin manager: a test keeps the two equal).
VIEWS_PREFIX = "/zoom-sam"
# The approval form's field; the same name as zoom_sam.reclaim.approval.LEAVE_OUT (a test keeps them
# equal: this module is imported when DAG files are parsed and must not import the process).
LEAVE_OUT = "leave_out"


def needs_approval(profile: Profile) -> bool:
    """Whether a profile's DAG has the approval step."""
    return profile.reclaim_subscriptions and profile.reclaim.mode == Mode.APPROVAL


def views_url() -> str:
    """The views' root: absolute from Airflow's ``[api] base_url``, else relative to the UI's host."""
    from airflow.sdk import conf

    base = conf.get("api", "base_url", fallback=None) or ""
    return base.rstrip("/") + VIEWS_PREFIX


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


class ReclaimApprovalOperator(ProfileOperator, HITLOperator, SkipMixin):
    """Ask a person to approve this run's reclaim (Browse -> Required Actions, or the REST API).

    The request is built when the task runs (``ProfileOperator.execute``, which also records it in
    ``job_result``); then the task waits in ``awaiting_input`` without holding a worker slot. When
    it resumes, the answer is recorded (the same ``job_result`` row then holds the decision).
    """

    ui_color = "#fff4d6"
    inherits_from_skipmixin = True
    process = "zoom_sam.reclaim.approval:run"

    def __init__(self, *, response_timeout: timedelta | None = APPROVAL_TIMEOUT, **kwargs: Any) -> None:
        kwargs.setdefault("subject", "Approve the reclaim of unused Zoom subscriptions")
        # The DAG hands its run Params in too; the form shows only the task's own (as HITLOperator
        # keeps them), and the run's options are read from the run, not from this form.
        kwargs.pop("params", None)
        leave_out = Param([], type="array", items={"type": "string"}, title="Users to leave out",
                          description=f"Only with '{ApprovalOption.APPROVE_ALL_BUT}': one email or Zoom user id "
                                      "per line; their subscriptions are not changed.")
        super().__init__(options=[str(o) for o in ApprovalOption], defaults=str(ApprovalOption.REJECT),
                         multiple=False, params={LEAVE_OUT: leave_out}, response_timeout=response_timeout, **kwargs)

    def inputs(self, context: Any) -> dict[str, Any]:
        from zoom_sam.reclaim.approval import RESPONSE_TIMEOUT, VIEWS_URL

        return {RESPONSE_TIMEOUT: self.response_timeout, VIEWS_URL: views_url()}

    def execute(self, context: Any) -> Any:
        from airflow.sdk.exceptions import AirflowSkipException

        request = ProfileOperator.execute(self, context)
        if request.get("not_asked"):
            return request  # reclaim runs in the mode run_mode decided, which needs no answer
        if not request["candidates"]:
            raise AirflowSkipException("no candidate to reclaim in this run: nobody is asked, nothing is reclaimed")
        self.subject, self.body = request["subject"], request["body"]
        return HITLOperator.execute(self, context)

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        """Record the answer on the request's candidates; skip ``reclaim`` unless something was approved."""
        from zoom_sam.reclaim.approval import APPROVAL_ANSWER

        if "error" in event:
            self.process_trigger_event_error(event)
        decided = self.run_process(context, "zoom_sam.reclaim.approval:answer", **{APPROVAL_ANSWER: event})
        if decided["approved"]:
            return {key: event.get(key) for key in ("chosen_options", "params_input", "responded_at",
                                                    "responded_by_user")}
        self.log.info("nothing approved (%s): skipping %s", decided["decision"], sorted(self.downstream_task_ids))
        self.skip(ti=context["ti"], tasks=[t for t in context["task"].get_direct_relatives(upstream=False)
                                           if not t.is_teardown])
        return decided
