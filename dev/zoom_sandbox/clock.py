"""The sandbox's notion of time.

Token lifetimes, page-token expiry, "upcoming" versus "previous" meetings and the report's
six-month horizon all read this clock, never the wall clock, so a test can jump an hour ahead
with ``advance`` instead of sleeping. The clock starts at the configured anchor and then runs at
wall-clock speed, so a long benchmark still sees tokens expire. Rate-limit windows are the
exception: they are wall-clock seconds, because clients pace themselves by the wall clock.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone


class SandboxClock:
    def __init__(self, start: datetime) -> None:
        self._start_ts = start.timestamp()
        self._started = time.monotonic()
        self._offset = 0.0
        self._lock = threading.Lock()

    def time(self) -> float:
        """Seconds since the epoch, sandbox time."""
        return self._start_ts + (time.monotonic() - self._started) + self._offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), tz=timezone.utc)

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._offset += seconds
        return self.now()
