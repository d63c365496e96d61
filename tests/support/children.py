"""What the child processes of the concurrency tests do.

Each body runs in a spawned interpreter (``tests.support.processes``), builds its own engine and
Zoom client from URLs and connection JSON, and meets the other children at the points a test
names through ``multiprocessing`` events and barriers. Return values are small and picklable.
"""
from __future__ import annotations

import logging
import os
from contextlib import contextmanager

from tests.support.processes import TIMEOUT_S

LOCK_LOGGER = "zoom_sam.warehouse.locks"


class _Signal(logging.Handler):
    """Sets an event when a log line starts with ``prefix``, and keeps every line it sees."""

    def __init__(self, prefix: str, event) -> None:
        super().__init__(logging.INFO)
        self.prefix = prefix
        self.event = event
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = record.getMessage()
        self.lines.append(line)
        if line.startswith(self.prefix):
            self.event.set()


@contextmanager
def signal_on_log(prefix: str, event):
    """Within the block, ``event`` is set when the lock module logs a line starting with ``prefix``."""
    log = logging.getLogger(LOCK_LOGGER)
    handler = _Signal(prefix, event)
    level = log.level
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    try:
        yield handler.lines
    finally:
        log.removeHandler(handler)
        log.setLevel(level)


def _wait(event_or_barrier) -> None:
    if hasattr(event_or_barrier, "parties"):
        event_or_barrier.wait(TIMEOUT_S)
    elif not event_or_barrier.wait(TIMEOUT_S):
        raise TimeoutError("the other process never signalled")


# ---------------------------------------------------------------------------------------- locks

def hold_lock(url: str, alias: str, name: str, run_id: str, held, release, die: bool = False) -> int:
    """Take a warehouse lock, say so (``held``), then hold it until ``release``, or die holding it."""
    from zoom_sam.warehouse.engine import engine_for_url
    from zoom_sam.warehouse.locks import profile_lock
    from zoom_sam.warehouse.owner import Owner

    engine = engine_for_url(url)
    with profile_lock(engine, alias, name, Owner(run_id, "holder")):
        held.set()
        if die:
            os._exit(0)  # killed outright: no release, no clean-up of any kind
        _wait(release)
    return os.getpid()
