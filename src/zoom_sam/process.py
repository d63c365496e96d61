"""The one contract of every zoom-sam process: ``run(ctx, zoom) -> Summary``.

Each step of a profile's run (download, the activity sweep and its completion, reconcile, the
approval request, reclaim) is a plain function ``run(ctx: RunContext, zoom: ZoomAccess) -> Summary``
in its own package. The operators' common base (:mod:`zoom_sam.operators.base`) builds the context
from the Airflow task, opens the warehouse and the job record, and writes the summary back; tests
and benchmarks call the same functions with a context of their own, no scheduler involved.

``zoom`` hands out the profile's Zoom client on first use only, so a process with nothing to do
makes no Zoom call and opens no connection; a process that never talks to Zoom ignores it.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from zoom_sam.errors import ConfigurationError
from zoom_sam.vocabulary import TaskId

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from zoom_sam.profiles import Profile
    from zoom_sam.rules import Rules
    from zoom_sam.warehouse.jobs import Job
    from zoom_sam.zoom.client import ZoomClient
    from zoom_sam.zoom.config import ZoomConfig


class RunOptionsError(ConfigurationError):
    """A run's parameters are not the ones zoom-sam knows, or not of their type: nothing runs.

    A parameter may only make a run do less than its profile says; a key it does not know could
    be someone's attempt at more, so it is refused rather than ignored.
    """


@dataclass(frozen=True)
class RunOptions:
    """What a person asked of a run triggered by hand (the DAG's Params), each only ever making it
    safer than its profile: none can make a dry-run profile write, raise a guard or widen a rule.

    A scheduled run has none set and runs exactly as its profile says. The reclaim mode they lead
    to is decided in one place, :func:`zoom_sam.reclaim.model.run_mode`; the tasks they leave out
    by :meth:`skips`.
    """

    dry_run_only: bool = False
    reconcile_latest_snapshot_only: bool = False
    skip_activity: bool = False

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_run(cls, params: Mapping[str, Any] | None, conf: Mapping[str, Any] | None) -> RunOptions:
        """The options of a run from its resolved ``params`` and the ``conf`` it was triggered with.

        Airflow checks the Params' types when a run is triggered but lets unknown ``conf`` keys
        through, and a task's context may carry params of its own (the approval form's): only the
        known names are read from ``params``, and ``conf`` may hold nothing else. Raises
        :class:`RunOptionsError` for an unknown key or a value that is not a boolean.
        """
        known = cls.names()
        unknown = sorted(set(conf or {}) - set(known))
        if unknown:
            raise RunOptionsError(
                f"unknown run parameter(s) {', '.join(map(repr, unknown))} in the run's conf: refused, nothing runs; "
                f"a run accepts only {', '.join(known)} (each true or false)")
        values = {**{k: v for k, v in (params or {}).items() if k in known}, **(conf or {})}
        wrong = sorted(k for k, v in values.items() if not isinstance(v, bool))
        if wrong:
            raise RunOptionsError(
                "run parameter(s) " + ", ".join(f"{k}={values[k]!r}" for k in wrong)
                + " must be true or false: refused, nothing runs")
        return cls(**values)

    def limiting(self) -> tuple[str, ...]:
        """The names of the options set, each of which limits the run."""
        return tuple(name for name in self.names() if getattr(self, name))

    def skips(self, task_id: str) -> str | None:
        """Why ``task_id`` does nothing in this run, or None when it runs."""
        if self.reconcile_latest_snapshot_only and task_id in (
                TaskId.DOWNLOAD_SUBSCRIPTIONS, TaskId.SWEEP_ACTIVITY, TaskId.PULL_ACTIVITY):
            return ("skipped by the run parameter reconcile_latest_snapshot_only: the latest snapshot already in "
                    "the warehouse is reconciled, nothing is downloaded or pulled from Zoom")
        if self.skip_activity and task_id in (TaskId.SWEEP_ACTIVITY, TaskId.PULL_ACTIVITY):
            return "skipped by the run parameter skip_activity: no activity is pulled from Zoom in this run"
        return None


@dataclass
class RunContext:
    """What a process knows of the run it works for.

    ``inputs`` carries what upstream tasks handed over (the sweep shards' results, the approval
    answer); ``run_type`` is Airflow's DagRunType value (``"backfill"`` plans reclaim as a dry run);
    ``options`` what a person limited the run to (:class:`RunOptions`).
    """

    profile: Profile
    warehouse: Engine
    as_of: datetime
    run_id: str
    job: Job
    rules: Rules
    task_id: str = ""
    try_number: int = 1
    interval_start: datetime | None = None
    run_type: str | None = None
    inputs: Mapping[str, Any] = field(default_factory=dict)
    options: RunOptions = field(default_factory=RunOptions)


@dataclass
class Summary:
    """What a process did: ``report`` is the task's return value (its XCom); the rest lands in
    the task's ``job_result`` row (``counts`` merged into what the process recorded on the way)."""

    report: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, Any] = field(default_factory=dict)
    status: str | None = None
    message: str | None = None
    api: dict[str, Any] | None = None
    minimal: dict[str, int] | None = None

    def record(self, job: Job) -> None:
        job.counts.update(self.counts)
        if self.status is not None:
            job.status = self.status
        if self.message is not None:
            job.message = self.message
        if self.api is not None:
            job.api = self.api
        if self.minimal is not None:
            job.minimal = self.minimal


def context_for(warehouse: Engine, profile: Profile, as_of: datetime, *, run_id: str, **fields: Any) -> RunContext:
    """The context of a run of ``profile``: a fresh job record and the rules the warehouse recorded
    for the profile (what every task of a run judges by), unless ``fields`` give them.

    The operators' base builds every task's context with it; tests and benchmarks call processes
    with one of their own, no scheduler involved.
    """
    from zoom_sam.rules import Rules
    from zoom_sam.warehouse.jobs import Job

    if "job" not in fields:
        fields["job"] = Job()
    if "rules" not in fields:
        with warehouse.connect() as conn:
            fields["rules"] = Rules.recorded(conn, profile.alias)
    return RunContext(profile=profile, warehouse=warehouse, as_of=as_of, run_id=run_id, **fields)


class ZoomAccess(Protocol):
    """The profile's Zoom client, opened on first use, and its configuration, read without a request."""

    def client(self) -> ZoomClient: ...

    def config(self) -> ZoomConfig: ...


class GivenZoom:
    """A ``ZoomAccess`` over a client someone else opened and closes (tests, benchmarks)."""

    def __init__(self, client: ZoomClient | None = None, factory: Callable[[], ZoomClient] | None = None) -> None:
        self._client, self._factory = client, factory

    def client(self) -> ZoomClient:
        if self._client is None:
            if self._factory is None:
                raise RuntimeError("this process was given no Zoom client")
            self._client = self._factory()
        return self._client

    def config(self) -> ZoomConfig:
        return self.client().config

