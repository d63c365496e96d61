"""The Airflow ``execution_timeout`` of every task of a profile DAG: the hard ceiling.

It is fixed when the DAG is parsed, when nothing about the account can be known, so it comes from
the profile (``timeouts.task_minutes``, ``timeouts.per_task``). The default leaves a threefold
margin over the longest task of the largest accounts the project targets (100,000 users: about
two hours of rate-limited calls in the activity sweep); the run-time deadline is what scales with
the account. A task over its ceiling is killed by Airflow and retried like any failure.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from zoom_sam.vocabulary import TaskId

#: Tasks whose ceiling a profile can set on its own (``approve``'s ceiling covers building the
#: request, the wait for a person is its response timeout).
TASK_IDS = tuple(task.value for task in TaskId)
DEFAULT_TASK_MINUTES = 360
#: A profile DAG runs daily with one active run: a task longer than a day only delays the next.
MAX_TASK_MINUTES = 24 * 60


def execution_timeout(timeouts: Any, task_id: str) -> timedelta:
    """The ceiling of ``task_id`` under a profile's ``timeouts`` settings."""
    return timedelta(minutes=timeouts.per_task.get(task_id, timeouts.task_minutes))
