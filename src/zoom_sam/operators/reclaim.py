"""approve and reclaim: the operators over :mod:`zoom_sam.reclaim`.

``approve`` (approval mode only) is Airflow's Human-in-the-loop :class:`ApprovalOperator`, with a
subject and body built from the warehouse when the task runs. Approve lets ``reclaim`` run;
Reject, and the response timeout (whose default answer is Reject), skip it. ``reclaim`` in
approval mode also reads the answer itself and refuses to write without an Approve from a person,
so a cleared or re-wired ``approve`` cannot open the way by accident.

In the DAG factory both are lines of ``PIPELINE``, after ``reconcile``::

    Step(APPROVE_TASK_ID, ReclaimApprovalOperator, when=needs_approval),
    Step("reclaim", ReclaimOperator, when=lambda p: p.reclaim_subscriptions),
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.providers.standard.operators.hitl import ApprovalOperator

from zoom_sam.operators.base import ProfileOperator, ProfileRun
from zoom_sam.warehouse.lock_names import STATE

APPROVE_TASK_ID = "approve"
# The next daily run of a profile waits for this one (max_active_runs=1): an unanswered request
# gives way before the next run is due, and that run asks again with fresh candidates.
APPROVAL_TIMEOUT = timedelta(hours=23)


def needs_approval(profile: Any) -> bool:
    """Whether a profile's DAG has the approval step."""
    return profile.reclaim_subscriptions and profile.reclaim.mode == "approval"


def _fail_fast(exc: BaseException) -> BaseException:
    """Errors a retry cannot fix fail the task at once (AirflowFailException), with the message."""
    from airflow.sdk.exceptions import AirflowFailException

    from zoom_sam.reclaim import GuardExceeded, ReclaimNotApproved

    if isinstance(exc, (GuardExceeded, ReclaimNotApproved, PermissionError)):
        return AirflowFailException(str(exc))
    return exc


class ReclaimOperator(ProfileOperator):
    """Reclaim this run's candidates in the profile's mode (dry_run | approval | automatic).

    Runs under the profile's ``state`` lock, so no reconcile or download merge of another run
    changes the candidates while they are re-checked and written to Zoom.
    """

    ui_color = "#fbe8e8"
    warehouse_lock = STATE

    def run(self, run: ProfileRun) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowSkipException

        from zoom_sam.reclaim import reclaim
        from zoom_sam.reclaim.approval import approved
        from zoom_sam.reclaim.model import APPROVAL, run_mode
        from zoom_sam.timeouts.estimate import reclaim_work

        mode, why = run_mode(run.profile, _run_type(run.context))
        self.log.info("reclaim: %s", why)
        if mode is None:
            run.job.status = "disabled"
            raise AirflowSkipException(why)
        answer = run.context["ti"].xcom_pull(task_ids=APPROVE_TASK_ID) if mode == APPROVAL else None
        try:
            outcome = reclaim(run.engine, run.profile, as_of=run.as_of, run_id=run.run_id, approved=approved(answer),
                              mode=mode, client_factory=lambda: run.zoom_client(reclaim_work))
        except Exception as exc:
            raise _fail_fast(exc) from None
        summary = outcome.summary()
        run.job.counts.update({k: v for k, v in summary.items() if isinstance(v, (int, float)) and k != "dry_run"})
        run.job.counts["savings"] = summary["savings"]
        run.job.api, run.job.minimal = outcome.api, outcome.minimal
        if outcome.dry_run:
            run.job.status = "dry_run"
        return summary


class ReclaimApprovalOperator(ProfileOperator, ApprovalOperator):
    """Ask a person to approve this run's reclaim (Browse -> Required Actions, or the REST API).

    The request is built when the task runs (``ProfileOperator.execute`` -> :meth:`run`, which
    also records it in ``job_result``); then the task waits in ``awaiting_input`` without holding
    a worker slot.
    """

    ui_color = "#fff4d6"

    def __init__(self, *, response_timeout: timedelta | None = APPROVAL_TIMEOUT, **kwargs: Any) -> None:
        kwargs.setdefault("subject", "Approve the reclaim of unused Zoom subscriptions")
        super().__init__(defaults="Reject", response_timeout=response_timeout, **kwargs)

    def execute(self, context: Any) -> Any:
        from airflow.sdk.exceptions import AirflowSkipException

        counts = ProfileOperator.execute(self, context)
        if counts.get("not_asked"):
            return counts  # reclaim runs in the mode run_mode decided, which needs no answer
        if not counts["candidates"]:
            raise AirflowSkipException("no candidate to reclaim in this run: nobody is asked, nothing is reclaimed")
        return ApprovalOperator.execute(self, context)

    def run(self, run: ProfileRun) -> dict[str, Any]:
        from zoom_sam.reclaim.approval import approval_request
        from zoom_sam.reclaim.model import APPROVAL, run_mode

        mode, why = run_mode(run.profile, _run_type(run.context))
        if mode != APPROVAL:
            self.log.info("nobody is asked: %s", why)
            run.job.status = "not_asked"
            return {"not_asked": True, "reason": why}
        try:
            request = approval_request(run.engine, run.profile, run.as_of, self.response_timeout)
        except Exception as exc:
            raise _fail_fast(exc) from None
        run.job.counts.update(request.counts())
        if not request.candidates:
            run.job.status = "nothing_to_approve"
        self.subject, self.body = request.subject, request.body
        return request.counts()


def _run_type(context: Any) -> str | None:
    """The run's DagRunType as a plain string ("scheduled", "manual", "backfill", ...)."""
    run_type = getattr(context.get("dag_run"), "run_type", None)
    return getattr(run_type, "value", run_type)
