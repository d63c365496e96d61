"""The two moments the operators' base notifies at, and which events each one raises.

:func:`finished` runs after a process succeeded, inside its ``job_result`` record, so the
outcome of the sends lands in the task's counts (``notifications: {sent, failed}``). It reads
only the process's :class:`~zoom_sam.process.Summary` and the warehouse, never the processes'
internals: the approve task's report (candidates), the reclaim's (outcome and savings), and the
download's counts (its unrecognized identifiers, against those of the previous snapshot).

:func:`failed` is the tasks' ``on_failure_callback``: Airflow calls it once a task failed for
good (a retry ahead calls ``on_retry_callback`` instead, so nobody is told of a failure that the
next try may mend), also for failures outside the process (a warehouse down, the execution
timeout); only a profile that no longer loads tells nobody, having no target to name. Its counts
are added to the ``job_result`` row the task left, when there is one.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from zoom_sam.notify import messages
from zoom_sam.notify.redaction import connection_secrets
from zoom_sam.notify.send import Delivery, deliver
from zoom_sam.reclaim.approval import APPROVAL_ANSWER
from zoom_sam.vocabulary import JobStatus, TaskId

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from zoom_sam.notify.messages import Message
    from zoom_sam.process import RunContext, Summary
    from zoom_sam.profiles import Profile

log = logging.getLogger(__name__)


def finished(ctx: RunContext, summary: Summary) -> None:
    """Tell the profile's targets what this task found that matters; record how the sends went."""
    profile = ctx.profile
    if not profile.notifications.targets():
        return
    try:
        found = [m for m in _after(ctx, summary) if m is not None]
        if found:
            ctx.job.counts["notifications"] = _deliver(profile, found).counts()
    except Exception:  # noqa: BLE001 - the process succeeded; telling about it must not undo that
        log.warning("notifications of %s could not be prepared; the task goes on", ctx.task_id, exc_info=True)


def failed(profile_path: str, context: Mapping[str, Any], job_task_id: str) -> None:
    """Tell the profile's targets that a task failed (or that a guard stopped a reclaim).

    Never raises: a failed task is already failing, and its callback must not add a second error.
    """
    from zoom_sam.profiles import ProfileError, load_profile

    try:
        profile = load_profile(profile_path)
    except ProfileError as exc:
        log.warning("no notification of this failure: the profile cannot be read (%s)", exc)
        return
    if not profile.notifications.targets():
        return
    try:
        counts = _deliver(profile, [failure_message(profile, context)]).counts()
    except Exception:  # noqa: BLE001 - see the docstring
        log.warning("the failure notification itself failed; the task's own error stands", exc_info=True)
        return
    try:
        _add_counts(profile, context["run_id"], job_task_id, counts)
    except Exception:  # noqa: BLE001 - the warehouse may be what failed the task
        log.warning("notifications %s not recorded in job_result (the warehouse is not writable)", counts,
                    exc_info=True)


def failure_message(profile: Profile, context: Mapping[str, Any]) -> Message:
    """The message of a failed task: a guard's stop, or any other error."""
    from zoom_sam.reclaim.guards import GuardExceeded

    ti = context["ti"]
    error = original_error(context.get("exception"))
    links = _links()
    if isinstance(error, GuardExceeded):
        return messages.guard_stopped(profile, context["run_id"], ti.task_id, error, links)
    return messages.process_failed(profile, context["run_id"], ti.task_id, ti.map_index, ti.try_number, error, links)


def original_error(error: BaseException | None) -> BaseException | None:
    """The error behind Airflow's ``AirflowFailException``: the base turns an error no retry can fix
    into one (``raise ... from None``), which keeps the original as its ``__context__``."""
    from airflow.sdk.exceptions import AirflowFailException

    if isinstance(error, AirflowFailException) and error.__context__ is not None:
        return error.__context__
    return error


def _after(ctx: RunContext, summary: Summary) -> list[Message | None]:
    profile, links = ctx.profile, _links()
    if ctx.task_id == TaskId.APPROVE:
        # The approve task runs twice through the base: the request, then (resumed) the answer,
        # whose inputs carry it. Once answered, nobody is waiting any more.
        if APPROVAL_ANSWER in ctx.inputs:
            return []
        return [messages.approval_waiting(profile, ctx.run_id, ctx.as_of, ctx.task_id, summary.report, links)]
    if ctx.task_id == TaskId.RECLAIM:
        return [messages.reclaim_done(profile, ctx.run_id, ctx.as_of, ctx.task_id, summary.report, links)]
    if ctx.task_id == TaskId.DOWNLOAD_SUBSCRIPTIONS:
        current = ctx.job.counts.get("unrecognized") or {}
        previous = previous_unrecognized(ctx.warehouse, profile.alias, ctx.run_id)
        return [messages.unrecognized_appeared(profile, ctx.run_id, ctx.as_of, current, previous, links)]
    return []


def previous_unrecognized(engine: Engine, alias: str, run_id: str) -> dict[str, int] | None:
    """The unrecognized identifiers of the latest snapshot merged by another run (what the
    download recorded in its ``job_result`` counts); None when this is the profile's first."""
    from zoom_sam.warehouse.schema import job_result

    with engine.connect() as conn:
        counts = conn.execute(
            sa.select(job_result.c.counts)
            .where(job_result.c.profile_alias == alias, job_result.c.task_id == TaskId.DOWNLOAD_SUBSCRIPTIONS.value,
                   job_result.c.status == JobStatus.SUCCESS.value, job_result.c.run_id != run_id)
            .order_by(job_result.c.finished_at.desc())
            .limit(1)
        ).scalar_one_or_none()
    return None if counts is None else dict(counts.get("unrecognized") or {})


def _deliver(profile: Profile, found: list[Message]) -> Delivery:
    targets = profile.notifications
    secrets = connection_secrets([profile.zoom_conn_id, profile.warehouse_conn_id,
                                  *(t.conn_id for t in targets.targets())])
    return deliver(targets, found, secrets)


def _add_counts(profile: Profile, run_id: str, job_task_id: str, counts: dict[str, int]) -> None:
    from zoom_sam.warehouse.engine import get_engine
    from zoom_sam.warehouse.schema import job_result

    engine = get_engine(profile.warehouse_conn_id)
    try:
        key = (job_result.c.profile_alias == profile.alias, job_result.c.run_id == run_id,
               job_result.c.task_id == job_task_id)
        with engine.begin() as conn:
            row = conn.execute(sa.select(job_result.c.counts).where(*key)).scalar_one_or_none()
            if row is not None:
                conn.execute(sa.update(job_result).where(*key).values(counts={**row, "notifications": counts}))
    finally:
        engine.dispose()


def _links() -> messages.Links:
    from airflow.sdk.configuration import conf

    from zoom_sam.ui.plugin import URL_PREFIX

    return messages.Links(conf.get("api", "base_url", fallback=None) or None, URL_PREFIX)
