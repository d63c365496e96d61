"""ProfileOperator: the thin base of every per-profile task of a ``zoom_sam__<alias>`` DAG.

Every task does the same around its process (``run(ctx, zoom) -> Summary``, :mod:`zoom_sam.process`),
so each operator only names its process:

1. loads and validates the profile file at run time (the file may have changed since parsing);
2. the as-of of the run: its ``data_interval_end`` (a manually triggered run without a logical
   date has no interval; its ``run_after`` is used instead);
3. the warehouse engine of the profile, with the schema created or migrated first;
4. a ``job_result`` row for the task, whatever the outcome;
5. for a task whose body must not overlap the same step of another run of the profile
   (``warehouse_lock``), the profile's warehouse lock around the body
   (:mod:`zoom_sam.warehouse.locks`); the time spent waiting lands in ``job_result.counts``;
6. the rules the run recorded (:mod:`zoom_sam.rules`), so every task judges by the same ones;
7. the run's parameters (:class:`~zoom_sam.process.RunOptions`), refused when unknown or mistyped,
   and what they leave this task to do (:mod:`zoom_sam.reconcile.on_demand`): a task they leave
   out does nothing, and says why in its ``job_result`` and log;
8. the profile's notifications (:mod:`zoom_sam.notify`): after the process, and when the task failed
   for good;
9. what the task process holds before the process starts (Airflow, the imports, the parsed DAG:
   hundreds of thousands of objects) frozen out of Python's cyclic garbage collector while it
   runs (``gc.freeze``). Otherwise each full collection walks all of it: 0.4 to 0.8 s measured in
   the process of ``airflow dags test``, every thread stopped meanwhile, so a rate-paced phase
   lost that time to an idle limiter. Unfrozen after the process, so nothing stays uncollectable
   when tasks share a process.

A :class:`~zoom_sam.errors.ZoomSamError` a retry cannot fix (an invalid profile, a warehouse from
a newer zoom-sam, a missing scope, a guard, Zoom refusing the connection's credentials) fails the
task at once; a retryable one is left to Airflow's retries.

Heavy imports (SQLAlchemy, the Zoom client) happen in ``execute``: DAG files import this module
at parse time.
"""
from __future__ import annotations

import gc
import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from zoom_sam.process import RunContext, Summary
    from zoom_sam.profiles import Profile
    from zoom_sam.warehouse.jobs import Job
    from zoom_sam.zoom.client import ZoomClient
    from zoom_sam.zoom.config import ZoomConfig

log = logging.getLogger(__name__)


def job_task_id(task_id: str, map_index: int | None) -> str:
    """The job_result key of a task instance: each mapped instance (an activity shard) keeps its own row."""
    return f"{task_id}[{map_index}]" if map_index is not None and map_index >= 0 else task_id


def as_of_of(context: Any) -> datetime:
    """The as-of of a run: ``data_interval_end``, else ``run_after``, as an aware UTC datetime."""
    value = context.get("data_interval_end") or context["dag_run"].run_after
    return datetime.fromtimestamp(value.timestamp(), tz=timezone.utc)


class ProfileOperator(BaseOperator):
    """Base class of the tasks of a profile DAG: each subclass names its process.

    A subclass sets :attr:`process` (``"module:function"``, a ``run(ctx, zoom) -> Summary`` of
    :mod:`zoom_sam.process`, imported when the task runs) and, when the process talks to Zoom,
    :attr:`zoom_work` (its model in :mod:`zoom_sam.timeouts.estimate`, which sizes the deadline of
    its Zoom calls). :meth:`inputs` hands over what upstream tasks produced; :meth:`finish` does
    what only Airflow can (outlet events, skipping).

    :param profile_path: the profile's YAML file (read again when the task runs).
    :param profile_alias: the alias the DAG was built for; the file must still declare it.
    """

    ui_color = "#e8f1fb"
    # The warehouse lock (zoom_sam.warehouse.lock_names: STATE, COVERAGE) the body runs under; None: none.
    warehouse_lock: str | None = None
    process: str = ""
    zoom_work: str | None = None
    # How many tasks share the account's rate limit with this one (the sweep's shards).
    zoom_shards: int = 1

    def __init__(self, *, profile_path: str, profile_alias: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.profile_path = str(profile_path)
        self.profile_alias = profile_alias
        self.on_failure_callback = [*self.on_failure_callback, self._notify_failure]

    def inputs(self, context: Any) -> dict[str, Any]:
        """What the process needs from upstream tasks (XComs); none by default."""
        return {}

    def finish(self, context: Any, ctx: RunContext, summary: Summary) -> None:
        """After the process succeeded and its summary was recorded: Airflow-only follow-ups."""

    def _notify_failure(self, context: Any) -> None:
        """Airflow's callback once the task failed for good: the profile's targets are told
        (:mod:`zoom_sam.notify.tasks`); a retry ahead is no failure to tell anyone about."""
        from zoom_sam.notify.tasks import failed

        failed(self.profile_path, context, job_task_id(self.task_id, context["ti"].map_index))

    def execute(self, context: Any) -> dict[str, Any]:
        return self.run_process(context, self.process)

    def run_process(self, context: Any, process: str, **inputs: Any) -> dict[str, Any]:
        """Run ``process`` (``"module:function"``) for this task, ``inputs`` added to :meth:`inputs`.

        A task that works in two steps (the approval: the request, then the answer) runs a second
        process through the same profile, warehouse and job record.
        """
        from airflow.sdk.exceptions import AirflowFailException

        from zoom_sam.errors import ZoomSamError
        from zoom_sam.profiles import ProfileError, load_profile
        from zoom_sam.warehouse.engine import get_engine
        from zoom_sam.warehouse.migrate import ensure_schema

        gc.freeze()
        try:
            profile = load_profile(self.profile_path)
            if profile.alias != self.profile_alias:
                raise ProfileError(self.profile_path, [
                    f"field 'alias' is now {profile.alias!r} but this DAG was built for {self.profile_alias!r}; "
                    "wait for the DAG file to be parsed again"
                ])
            engine = get_engine(profile.warehouse_conn_id)
            try:
                ensure_schema(engine)
                return self._run(context, profile, engine, process, inputs)
            finally:
                engine.dispose()
        except ZoomSamError as exc:
            if exc.retryable:
                raise
            raise AirflowFailException(str(exc)) from None
        finally:
            gc.unfreeze()

    def _run(self, context: Any, profile: Profile, engine: Engine, process_name: str,
             inputs: dict[str, Any]) -> dict[str, Any]:
        from importlib import import_module

        from zoom_sam.notify.tasks import finished as notify_finished
        from zoom_sam.process import RunOptions, Summary, context_for
        from zoom_sam.reconcile.on_demand import task_plan
        from zoom_sam.vocabulary import JobStatus
        from zoom_sam.warehouse.jobs import record_job
        from zoom_sam.warehouse.locks import profile_lock
        from zoom_sam.warehouse.owner import Owner

        module, name = process_name.split(":")
        process = getattr(import_module(module), name)
        dag_run, ti, run_id = context.get("dag_run"), context["ti"], context["run_id"]
        task_id = job_task_id(self.task_id, ti.map_index)
        run_type = getattr(dag_run, "run_type", None)
        with record_job(engine, profile_alias=profile.alias, run_id=run_id, task_id=task_id, as_of=as_of_of(context),
                        try_number=ti.try_number) as job:
            options = RunOptions.from_run(context.get("params"), getattr(dag_run, "conf", None))
            as_of, skipped = task_plan(engine, profile, options, self.task_id, as_of_of(context))
            ctx = context_for(engine, profile, as_of, run_id=run_id, job=job, task_id=self.task_id,
                              try_number=ti.try_number, interval_start=_utc(context.get("data_interval_start")),
                              run_type=getattr(run_type, "value", run_type), inputs={**self.inputs(context), **inputs},
                              options=options)
            zoom = TaskZoom(profile, engine, self.task_id, self.zoom_work, self.zoom_shards)
            try:
                if skipped:
                    log.warning("%s of %s does nothing in this run: %s", self.task_id, profile.alias, skipped)
                    summary = Summary(report={"skipped": True, "reason": skipped}, status=JobStatus.SKIPPED,
                                      message=skipped)
                elif self.warehouse_lock is None:
                    summary = process(ctx, zoom)
                else:
                    owner = Owner(run_id, task_id, ti.try_number)
                    with profile_lock(engine, profile.alias, self.warehouse_lock, owner) as waited:
                        job.counts["lock_wait_s"] = round(waited, 3)
                        summary = process(ctx, zoom)
            finally:
                zoom.close(job)
            summary.record(job)
            if not skipped:
                notify_finished(ctx, summary)
                self.finish(context, ctx, summary)
            return summary.report


class TaskZoom:
    """A task's Zoom client, opened on the process's first ask and held to the task's run-time
    deadline (:mod:`zoom_sam.timeouts.deadline`); its call counts land in ``job_result``.

    ``work`` names the task's model in :mod:`zoom_sam.timeouts.estimate` (None: the task may not
    call Zoom); with ``shards`` above 1 the task is one of that many, and its deadline is the whole
    sweep's (the shards share the account's limit through :mod:`zoom_sam.activity.shared_rate`).
    """

    def __init__(self, profile: Profile, engine: Engine, task_id: str, work: str | None, shards: int = 1) -> None:
        self.profile, self.engine, self.task_id, self.work, self.shards = profile, engine, task_id, work, shards
        self._client: ZoomClient | None = None

    def client(self) -> ZoomClient:
        if self._client is None:
            from zoom_sam.hooks.zoom import ZoomHook
            from zoom_sam.timeouts import estimate
            from zoom_sam.timeouts.deadline import deadline_for

            if self.work is None:
                raise RuntimeError(f"task {self.task_id} declares no Zoom work: it may not call Zoom")
            client = ZoomHook(self.profile.zoom_conn_id).get_conn()
            client.deadline = deadline_for(self.engine, self.profile, self.task_id, client.config,
                                           getattr(estimate, self.work), shards=self.shards)
            self._client = client
        return self._client

    def config(self) -> ZoomConfig:
        """The connection's settings as the client would use them; a bad one raises a ConfigurationError."""
        from zoom_sam.hooks.zoom import ZoomHook

        return ZoomHook(self.profile.zoom_conn_id).get_config()

    def close(self, job: Job) -> None:
        if self._client is not None:
            job.api = job.api or self._client.stats()
            self._client.close()


def _utc(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value.timestamp(), tz=timezone.utc) if value is not None else None
