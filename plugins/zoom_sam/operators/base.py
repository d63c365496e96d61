"""ProfileOperator: the thin base of every per-profile task of a ``zoom_sam__<alias>`` DAG.

It does the same things for every process, so each operator is only its ``run`` body:

1. loads and validates the profile file at run time (the file may have changed since parsing);
2. the as-of of the run: its ``data_interval_end`` (a manually triggered run without a logical
   date has no interval; its ``run_after`` is used instead);
3. the warehouse engine of the profile, with the schema created or migrated first;
4. a ``job_result`` row for the task, whatever the outcome;
5. for a task whose body must not overlap the same step of another run of the profile
   (``warehouse_lock``), the profile's warehouse lock around the body
   (:mod:`zoom_sam.warehouse.locks`); the time spent waiting lands in ``job_result.counts``.

Errors a retry cannot fix (an invalid profile, a warehouse from a newer zoom-sam, an
``analyze_activity_from`` out of range, Zoom refusing the connection's credentials or its
refresh-token chain) fail the task at once instead of being retried; a token endpoint that is
down or lost an answer is left to Airflow's retries.

Heavy imports (SQLAlchemy, the Zoom client) happen in ``execute``: DAG files import this module
at parse time.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from zoom_sam.profiles import Profile
    from zoom_sam.timeouts.estimate import Work
    from zoom_sam.warehouse.jobs import Job
    from zoom_sam.zoom.client import ZoomClient


@dataclass
class ProfileRun:
    """What a profile task body gets: the profile, the warehouse, the run and its job record."""

    profile: Profile
    engine: Engine
    as_of: datetime
    run_id: str
    job: Job
    context: Any
    task_id: str
    try_number: int = 1

    def zoom_client(self, work: Work, *, shards: int = 1) -> ZoomClient:
        """The profile's Zoom client, held to the run-time deadline of ``work`` (README "Timeouts").

        ``work`` is the task's model in :mod:`zoom_sam.timeouts.estimate`; with ``shards`` above 1
        the task is one of that many, and its deadline is the whole sweep's (the shards share the
        account's limit through :mod:`zoom_sam.activity.shared_rate`).
        """
        from zoom_sam.hooks.zoom import ZoomHook
        from zoom_sam.timeouts.deadline import deadline_for

        client = ZoomHook(self.profile.zoom_conn_id).get_conn()
        client.deadline = deadline_for(self.engine, self.profile, self.task_id, client.config, work, shards=shards)
        return client


def job_task_id(task_id: str, map_index: int | None) -> str:
    """The job_result key of a task instance: each mapped instance (an activity shard) keeps its own row."""
    return f"{task_id}[{map_index}]" if map_index is not None and map_index >= 0 else task_id


def as_of_of(context: Any) -> datetime:
    """The as-of of a run: ``data_interval_end``, else ``run_after``, as an aware UTC datetime."""
    value = context.get("data_interval_end") or context["dag_run"].run_after
    return datetime.fromtimestamp(value.timestamp(), tz=timezone.utc)


class ProfileOperator(BaseOperator):
    """Base class of the tasks of a profile DAG; subclasses implement :meth:`run`.

    :param profile_path: the profile's YAML file (read again when the task runs).
    :param profile_alias: the alias the DAG was built for; the file must still declare it.
    """

    ui_color = "#e8f1fb"
    # The warehouse lock (zoom_sam.warehouse.lock_names: STATE, COVERAGE) the body runs under; None: none.
    warehouse_lock: str | None = None

    def __init__(self, *, profile_path: str, profile_alias: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.profile_path = str(profile_path)
        self.profile_alias = profile_alias

    def run(self, run: ProfileRun) -> dict[str, Any]:
        """The task body; returns a small JSON summary (it becomes the XCom)."""
        raise NotImplementedError

    def execute(self, context: Any) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowFailException

        from zoom_sam.profiles import ActivityStartError, ProfileError, load_profile
        from zoom_sam.warehouse.engine import get_engine
        from zoom_sam.warehouse.jobs import record_job
        from zoom_sam.warehouse.locks import profile_lock
        from zoom_sam.warehouse.migrate import SchemaTooNewError, ensure_schema
        from zoom_sam.zoom.errors import ZoomAuthError
        from zoom_sam.warehouse.owner import Owner

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
                as_of = as_of_of(context)
                ti = context["ti"]
                task_id = job_task_id(self.task_id, ti.map_index)
                with record_job(engine, profile_alias=profile.alias, run_id=context["run_id"], task_id=task_id,
                                as_of=as_of, try_number=ti.try_number) as job:
                    run = ProfileRun(profile, engine, as_of, context["run_id"], job, context, self.task_id,
                                     ti.try_number)
                    if self.warehouse_lock is None:
                        return self.run(run)
                    owner = Owner(context["run_id"], task_id, ti.try_number)
                    with profile_lock(engine, profile.alias, self.warehouse_lock, owner) as waited:
                        job.counts["lock_wait_s"] = round(waited, 3)
                        return self.run(run)
            finally:
                engine.dispose()
        except (ProfileError, SchemaTooNewError, ActivityStartError) as exc:
            raise AirflowFailException(str(exc)) from None
        except ZoomAuthError as exc:
            if exc.retryable:
                raise
            raise AirflowFailException(str(exc)) from None
