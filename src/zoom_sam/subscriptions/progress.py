"""Progress lines for long listings and the summary table a download ends with.

A 100,000-user account takes a quarter of an hour at Zoom's rate limits; the task log says
where it is (pages, users so far, rate) every few seconds instead of going quiet.
"""
from __future__ import annotations

import logging
import math
import time
from collections import Counter


class Progress:
    """Counts users listed and settings read, and logs a line at most every ``every_s`` seconds.

    ``page_size`` is the client's (``ZoomConfig.page_size``): the line says which page a listing is at.
    """

    def __init__(self, log: logging.Logger, page_size: int, every_s: float = 10.0):
        self.log = log
        self.page_size = page_size
        self.every_s = every_s
        self.started = time.monotonic()
        self._last = self.started
        self.users = Counter()  # status -> users listed
        self.settings_read = 0
        self.settings_missing = 0

    def listed(self, status: str) -> None:
        self.users[status] += 1
        self._maybe_log(status)

    def settings(self, found: bool) -> None:
        if found:
            self.settings_read += 1
        else:
            self.settings_missing += 1

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def _maybe_log(self, status: str) -> None:
        now = time.monotonic()
        if now - self._last < self.every_s:
            return
        self._last = now
        total = sum(self.users.values())
        self.log.info(
            "listing %s users: page %d, %d %s users so far (%d in all), %d settings read, %.0f users/s",
            status, math.ceil(self.users[status] / self.page_size), self.users[status], status, total,
            self.settings_read, total / max(now - self.started, 1e-9),
        )


def summary_table(by_model: dict[str, dict[str, int]], new: int, gone: int,
                  unrecognized: dict[str, int], users: Counter) -> str:
    """A fixed-width table of the snapshot for the end of the task log."""
    lines = [f"{'software model':<32} {'active':>8} {'excluded':>9} {'ended':>7}"]
    for model, c in sorted(by_model.items()):
        lines.append(f"{model:<32} {c['active']:>8} {c['excluded']:>9} {c['ended']:>7}")
    for identifier, count in sorted(unrecognized.items()):
        lines.append(f"{'? ' + identifier + ' (unrecognized)':<32} {count:>8}")
    lines.append(f"new subscriptions: {new}, ended this run: {gone}; users: "
                 + ", ".join(f"{status} {n}" for status, n in sorted(users.items())))
    return "\n".join(lines)
