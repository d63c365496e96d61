"""The run-time deadline of a task's Zoom work, checked before every request the client sends.

When a task opens its Zoom client, :func:`deadline_for` reads the account's size from the
warehouse, estimates the work (:mod:`.estimate`) and allows ``timeouts.deadline_factor`` times
that plus :data:`GRACE_S` (for the warehouse writes and a small account's latency). A request
attempted after that raises :class:`DeadlineExceeded`, which says what was expected and why;
the task fails there and is retried like any failure. Before the first snapshot nothing is known
and only the Airflow ceiling applies.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from zoom_sam.errors import RetryableError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from zoom_sam.profiles import Profile
    from zoom_sam.timeouts.estimate import Work
    from zoom_sam.zoom.config import ZoomConfig

log = logging.getLogger(__name__)

DEFAULT_FACTOR = 3.0
MAX_FACTOR = 100.0
GRACE_S = 600.0


class DeadlineExceeded(RetryableError):
    """A task's Zoom work ran far longer than the account's size explains."""


@dataclass
class Deadline:
    """Callable: raises :class:`DeadlineExceeded` once ``budget_s`` have passed since it was made."""

    task_id: str
    budget_s: float
    explanation: str
    clock: Callable[[], float] = time.monotonic
    started: float = field(init=False)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def __call__(self) -> None:
        elapsed = self.clock() - self.started
        if elapsed > self.budget_s:
            raise DeadlineExceeded(
                f"{self.task_id} stopped at its run-time deadline after {_duration(elapsed)}: "
                f"{self.explanation}. The account may have grown since that snapshot, or Zoom answered slower "
                "than its limit (other apps of the account share it); if this recurs, raise "
                "timeouts.deadline_factor in the profile"
            )


def deadline_for(engine: Engine, profile: Profile, task_id: str, config: ZoomConfig, work: Work, *, shards: int = 1,
                 clock: Callable[[], float] = time.monotonic) -> Deadline | None:
    """The deadline of ``task_id``'s ``work`` (an :mod:`.estimate` work model); None before any snapshot."""
    from zoom_sam.timeouts.estimate import expected
    from zoom_sam.timeouts.size import account_size

    size = account_size(engine, profile.alias)
    if size.snapshot_at is None:
        log.info("%s: no snapshot of the account yet, so no run-time deadline; the execution_timeout applies",
                 task_id)
        return None
    guess = expected(work, size, profile, config, shards)
    factor = profile.timeouts.deadline_factor
    budget = factor * guess.seconds + GRACE_S
    shard = f" (one of {shards} shards)" if shards > 1 else ""
    explanation = (f"the deadline was {_duration(budget)}: {factor:g} x the {_duration(guess.seconds)} expected for "
                   f"{guess.describe()}{shard}, from {size.describe()}, + {_duration(GRACE_S)}")
    log.info("%s: run-time deadline %s", task_id, explanation.removeprefix("the deadline was "))
    return Deadline(task_id, budget, explanation, clock)


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"
