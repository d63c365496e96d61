"""One DAG ``zoom_sam__<alias>`` per integration profile, built from :data:`PIPELINE`.

The DAG file ``dags/zoom_sam_dags.py`` only calls :func:`register_dags`. Parsing stays cheap: the
profiles are read from local YAML, nothing touches the network or a database, and the operator
modules import their heavy dependencies only when a task runs.

Adding a process is one line in :data:`PIPELINE`: a :class:`Step` with its task id, a callable
building the operator from ``task_id``, ``profile_path``, ``profile_alias`` and
``execution_timeout`` (a :class:`~zoom_sam.operators.base.ProfileOperator` subclass is one), and
the profile switch it depends on. Steps run in the order listed. Every task's
``execution_timeout`` is the profile's ceiling for it (:mod:`zoom_sam.timeouts.ceiling`).

A profile that does not validate must not take the other profiles' DAGs down, yet must be
reported where Airflow shows problems: as an import error of the DAG file. Airflow records import
errors per file, and a module that raises loses all its DAGs, so the good DAGs are registered as
usual and one extra DAG, :class:`InvalidProfiles`, fails Airflow's own validation with one
paragraph per bad profile (file, field, fix). Airflow reports that failure as the file's import
error and bags every other DAG of the file.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from airflow.sdk import DAG, BaseOperator, CronTriggerTimetable, Param, chain, get_parsing_context

from zoom_sam.errors import ConfigurationError
from zoom_sam.operators.activity import PullActivityOperator, sweep_activity_tasks
from zoom_sam.operators.download_subscriptions import DownloadSubscriptionsOperator
from zoom_sam.operators.reclaim import ReclaimApprovalOperator, ReclaimOperator, needs_approval
from zoom_sam.operators.reconcile import ReconcileOperator
from zoom_sam.operators.validate_profile import ValidateProfileOperator
from zoom_sam.profiles import LoadedProfile, Profile, ProfileError, load_profiles
from zoom_sam.timeouts.ceiling import execution_timeout
from zoom_sam.vocabulary import TaskId

INVALID_PROFILES_DAG_ID = "zoom_sam__invalid_profiles"
SCHEDULE_CRON = "0 0 * * *"
DEFAULT_RETRIES = 3
RETRIES_ENV = "ZOOM_SAM_TASK_RETRIES"


@dataclass(frozen=True)
class Step:
    """One task of the profile pipeline and the profile switch that decides whether it exists.

    ``options`` gives ``build`` what it needs from the profile already loaded for the DAG, so no
    step reads the profile file again while the DAG file is parsed.
    """

    task_id: str
    build: Callable[..., BaseOperator]
    when: Callable[[Profile], bool] = lambda profile: True
    options: Callable[[Profile], dict] = lambda profile: {}


PIPELINE: tuple[Step, ...] = (
    Step(TaskId.VALIDATE_PROFILE, ValidateProfileOperator),
    Step(TaskId.DOWNLOAD_SUBSCRIPTIONS, DownloadSubscriptionsOperator),
    Step(TaskId.SWEEP_ACTIVITY, sweep_activity_tasks, when=lambda profile: profile.download_activity,
         options=lambda profile: {"shards": profile.activity_shards}),
    Step(TaskId.PULL_ACTIVITY, PullActivityOperator, when=lambda profile: profile.download_activity),
    Step(TaskId.RECONCILE, ReconcileOperator),
    Step(TaskId.APPROVE, ReclaimApprovalOperator, when=needs_approval),
    Step(TaskId.RECLAIM, ReclaimOperator, when=lambda profile: profile.reclaim_subscriptions),
)


def run_params() -> dict[str, Param]:
    """The Params of a run triggered by hand: each can only make the run do less than its profile.

    Their names are those of :class:`~zoom_sam.process.RunOptions`, which reads them (and refuses
    any other key a run's conf carries); a scheduled run takes the defaults, which change nothing.
    """
    return {
        "dry_run_only": Param(False, type="boolean", title="Dry run only",
                              description="Plan the reclaim without writing to Zoom and without asking for "
                                          "approval, whatever the profile's mode."),
        "reconcile_latest_snapshot_only": Param(
            False, type="boolean", title="Reconcile the latest snapshot only",
            description="Reconcile on demand: no download, no activity pull (no Zoom call); reconcile the latest "
                        "snapshot in the warehouse as of its own as-of; the reclaim only plans."),
        "skip_activity": Param(False, type="boolean", title="Skip the activity pull",
                               description="Download subscriptions but pull no activity; reconcile runs only if "
                                           "the activity already reaches the run's as-of; the reclaim only plans."),
    }


class ProfileImportError(ConfigurationError):
    """Raised while Airflow validates the DAG file: one or more profiles are invalid."""


class InvalidProfiles(DAG):
    """A DAG that exists only to fail Airflow's DAG validation with the profiles' errors."""

    def validate(self) -> None:
        raise ProfileImportError(self.description)


def task_retries() -> int:
    """Retries per task: ``ZOOM_SAM_TASK_RETRIES`` (tests set 0: dag.test waits out real delays)."""
    return int(os.environ.get(RETRIES_ENV, DEFAULT_RETRIES))


def build_dag(loaded: LoadedProfile, retries: int | None = None) -> DAG:
    """The DAG of one profile; tasks follow :data:`PIPELINE` and the profile's switches."""
    profile = loaded.profile
    default_args = {
        "retries": task_retries() if retries is None else retries,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(hours=1),
    }
    if profile.pool:  # only when configured: a fresh Airflow has just default_pool
        default_args["pool"] = profile.pool
    with DAG(
        dag_id=profile.dag_id,
        description=profile.display_name,
        # Real daily intervals: a run's as-of (data_interval_end) is midnight UTC closing the day.
        schedule=CronTriggerTimetable(SCHEDULE_CRON, timezone="UTC", interval=timedelta(days=1)),
        catchup=False,
        max_active_runs=1,
        default_args=default_args,
        tags=["zoom-sam", f"profile:{profile.alias}", f"reclaim:{_reclaim_tag(profile)}"],
        doc_md=doc_md(loaded),
        params=run_params(),
    ) as dag:
        tasks = [
            step.build(task_id=step.task_id, profile_path=str(loaded.path), profile_alias=profile.alias,
                       execution_timeout=execution_timeout(profile.timeouts, step.task_id), **step.options(profile))
            for step in PIPELINE
            if step.when(profile)
        ]
        chain(*tasks)
    return dag


def register_dags(folder: Path | None = None) -> list[DAG]:
    """Build (and so register) the DAG of every valid profile, and the error DAG for the rest.

    When Airflow parses the file to run one task of one DAG, only that DAG is built.
    """
    found = load_profiles(folder)
    wanted = get_parsing_context().dag_id
    ours = {lp.profile.dag_id for lp in found.profiles}
    dags = [build_dag(lp) for lp in found.profiles if wanted not in ours or lp.profile.dag_id == wanted]
    if found.errors and wanted not in ours:
        dags.append(_invalid_profiles_dag(found.errors))
    return dags


def doc_md(loaded: LoadedProfile) -> str:
    """The DAG's documentation: the profile's settings (connection ids only; never secrets)."""
    profile = loaded.profile
    rows = [
        ("profile file", f"`{loaded.path.name}`"),
        ("display name", profile.display_name),
        ("Zoom connection", f"`{profile.zoom_conn_id}`"),
        ("warehouse connection", f"`{profile.warehouse_conn_id}` (absent: embedded SQLite)"),
        ("pool", f"`{profile.pool}`" if profile.pool else "default_pool"),
        ("analyze activity from", str(profile.analyze_activity_from or
                                      f"first run's as-of - {profile.max_lookback_days} days")),
        ("download activity", str(profile.download_activity).lower()),
        ("reclaim subscriptions", str(profile.reclaim_subscriptions).lower()),
        ("reclaim", f"mode {profile.reclaim.mode}, at most {profile.reclaim.max_per_run} per run and "
                    f"{profile.reclaim.max_fraction:.0%} of a model's seats"),
        ("rules", "; ".join(f"`{r.software_model}` {r.last_activity_threshold_days} days"
                            for r in profile.rules) or "none (60-day default)"),
        ("excluded users", ", ".join(f"{u.field} `{u.pattern}`" for u in profile.exclusions.users) or "none"),
        ("excluded identifiers", ", ".join(f"`{p}`" for p in profile.exclusions.identifiers) or "none"),
        ("entitlements", "; ".join(f"`{e.software_model}` {e.purchased} x {e.unit_cost} {e.currency}"
                                   for e in profile.entitlements) or "none"),
        ("timeouts", f"{profile.timeouts.task_minutes} min per task"
                     + "".join(f", `{t}` {m} min" for t, m in profile.timeouts.per_task.items())
                     + f"; run-time deadline {profile.timeouts.deadline_factor:g} x expected"),
        ("identifier models", ", ".join(f"`{k}` -> `{v}`" for k, v in profile.identifier_models.items()) or "none"),
    ]
    table = "\n".join(f"| {name} | {value} |" for name, value in rows)
    return (
        f"# {profile.display_name} (`{profile.alias}`)\n\n"
        "Software Asset Management for Zoom: downloads who holds which paid Zoom subscription into "
        "the warehouse, daily; a run's as-of is the end of its data interval (midnight UTC).\n\n"
        f"| setting | value |\n|---|---|\n{table}\n"
    )


def _reclaim_tag(profile: Profile) -> str:
    return profile.reclaim.mode if profile.reclaim_subscriptions else "off"


def _invalid_profiles_dag(errors: tuple[ProfileError, ...]) -> DAG:
    message = (
        f"{len(errors)} integration profile file(s) are invalid; their DAGs are not loaded "
        "(the other profiles' DAGs are):\n\n" + "\n\n".join(str(e) for e in errors)
    )
    with InvalidProfiles(dag_id=INVALID_PROFILES_DAG_ID, description=message, schedule=None) as dag:
        pass
    return dag
