"""``job_result``: one row per task run, written whatever the outcome.

The row is what an operator looks at first ("what did last night's run do?"): status, timings,
counts and API statistics, and for a failure the error text. It is written in transactions of its
own, apart from the task's data writes, so a failed task that rolled its data back still leaves
its row. The row is inserted as ``running`` when the task starts, so a task killed outright (no
chance to write anything on the way out) shows as ``running`` with no ``finished_at``; a retry
of the same run overwrites it.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy.engine import Engine

from zoom_sam.vocabulary import JobStatus
from zoom_sam.warehouse.schema import job_result
from zoom_sam.warehouse.upsert import upsert
from zoom_sam.zoom.budget import api_budget

MESSAGE_LIMIT = 4000


@dataclass
class Job:
    """What the task body fills in; written to ``job_result`` when the block exits.

    ``status`` may be set by the body to a more specific outcome than ``success`` (for example
    ``insufficient_history``); an exception always records ``failed``. ``minimal`` is the fewest
    Zoom calls per rate-limit category the task's work needed; the row's
    ``counts.api_budget`` sets the calls of ``api`` against it (``zoom_sam.zoom.budget``).
    """

    counts: dict[str, Any] = field(default_factory=dict)
    api: dict[str, Any] = field(default_factory=dict)
    minimal: dict[str, int] = field(default_factory=dict)
    status: str = JobStatus.SUCCESS
    message: str | None = None


@contextmanager
def record_job(
    engine: Engine,
    *,
    profile_alias: str,
    run_id: str,
    task_id: str,
    as_of: datetime | None,
    try_number: int | None = None,
) -> Iterator[Job]:
    """Record the enclosed block as one ``job_result`` row keyed by (profile, run, task)."""
    started = datetime.now(timezone.utc)
    clock = time.monotonic()
    key = {"profile_alias": profile_alias, "run_id": run_id, "task_id": task_id}
    job = Job()
    _write(engine, {**key, "as_of": as_of, "status": "running", "try_number": try_number,
                    "started_at": started, "finished_at": None, "duration_s": None,
                    "counts": {}, "api": {}, "message": None})
    try:
        yield job
    except BaseException as exc:
        job.status = JobStatus.FAILED
        job.message = secret_free_message(exc)
        raise
    finally:
        _write(engine, {**key, "as_of": as_of, "status": job.status, "try_number": try_number,
                        "started_at": started, "finished_at": datetime.now(timezone.utc),
                        "duration_s": round(time.monotonic() - clock, 3),
                        "counts": {**job.counts, "api_budget": api_budget(job.api, job.minimal)},
                        "api": job.api, "message": job.message})


def secret_free_message(exc: BaseException) -> str:
    """``Type: text`` of an exception with every secret Airflow knows of masked, bounded in size.

    Connection passwords and extras fetched in the task are registered with Airflow's secrets
    masker, which is what the task log uses too; the same masking keeps them out of the table.
    """
    from airflow.sdk._shared.secrets_masker import redact  # the path Airflow 3.3 points to

    text = f"{type(exc).__name__}: {redact(str(exc))}"
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def _write(engine: Engine, row: dict[str, Any]) -> None:
    upsert(engine, job_result, [row])
