"""Progress lines of a sweep: holders done / total, calls, rate achieved against the limit, ETA.

A sweep of 100,000 holders at 60 requests/second takes half an hour; the task log says where it
is every few seconds, and the rate line shows at a glance whether the sweep is bound by Zoom's
limit (achieved close to the limit) or by something else (latency, too few calls in flight).
"""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zoom_sam.zoom.client import ZoomClient


def api_delta(after: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """What one phase cost: the difference of two ``client.stats()`` snapshots."""
    out: dict[str, Any] = {}
    for key, value in after.items():
        if isinstance(value, dict):
            out[key] = {k: v - before.get(key, {}).get(k, 0) for k, v in value.items()}
        elif isinstance(value, (int, float)):
            out[key] = round(value - before.get(key, 0), 3)
    return out


class SweepProgress:
    """Counts holders done and logs a line at most every ``every_s`` seconds (and at the end)."""

    def __init__(self, log: logging.Logger, client: ZoomClient, *, total: int, category: str,
                 label: str = "holders", every_s: float = 10.0) -> None:
        self.log = log
        self.client = client
        self.total = total
        self.category = category
        self.label = label
        self.every_s = every_s
        self.limit = client.limiter(category).rate
        self.before = client.stats()
        self.started = time.monotonic()
        self._last = self.started
        self.done = 0

    def step(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._last >= self.every_s:
            self._last = now
            self.log.info("%s", self.line(now))

    def api(self) -> dict[str, Any]:
        return api_delta(self.client.stats(), self.before)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def line(self, now: float | None = None) -> str:
        elapsed = max((now or time.monotonic()) - self.started, 1e-9)
        api = self.api()
        calls = api["calls"].get(self.category, 0)
        rate = calls / elapsed
        left = self.total - self.done
        eta = left * elapsed / self.done if self.done else float("nan")
        pct = 100.0 * self.done / self.total if self.total else 100.0
        return (f"{self.label} {self.done:,}/{self.total:,} ({pct:.1f}%), {self.category} calls {calls:,}, "
                f"{rate:.1f}/s of the {self.limit:g}/s limit ({100.0 * rate / self.limit:.0f}%), "
                f"429s {api['throttled_429']}, retries {api['retries']}, elapsed {_clock(elapsed)}, "
                f"ETA {_clock(eta)}")

    def finish(self) -> None:
        self.log.info("%s", self.line())


def _clock(seconds: float) -> str:
    if seconds != seconds:  # NaN: nothing done yet
        return "?"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"
