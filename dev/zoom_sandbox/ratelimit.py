"""Zoom's rate limits: per account and per category, shared by every app of the account.

Per-second limits use fixed wall-clock windows (second boundaries), because clients pace
themselves by the wall clock and a Retry-After in the sandbox's shifted time would be useless to
them. The daily Heavy budget counts sandbox days, so a test can exhaust it and then advance the
clock past midnight instead of waiting for one.
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .clock import SandboxClock
from .config import AccountConfig
from .generator import DAY

QPS_MESSAGE = "You have reached the maximum per-second rate limit for this API. Try again later."


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Verdict:
    allowed: bool
    ts: float  # wall-clock time of the decision: the request log files the request under it
    headers: dict = field(default_factory=dict)
    body: dict | None = None


class RateLimiter:
    def __init__(self, retry_after: str, clock: SandboxClock) -> None:
        self._retry_after = retry_after
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], list[int]] = {}  # (account, category) -> [second, admitted]
        self._days: dict[str, list[int]] = {}  # account -> [sandbox day, admitted Heavy requests]

    def admit(self, account: AccountConfig, category: str) -> Verdict:
        limit = account.limit(category)
        with self._lock:
            now = time.time()
            second = int(now)
            window = self._windows.setdefault((account.account_id, category), [second, 0])
            if window[0] != second:
                window[0], window[1] = second, 0
            daily = None
            if category == "Heavy":
                day = int(self._clock.time() // DAY)
                daily = self._days.setdefault(account.account_id, [day, 0])
                if daily[0] != day:
                    daily[0], daily[1] = day, 0
                if daily[1] >= account.daily_heavy_limit:
                    return self._daily_refusal(account, now)
            if window[1] >= limit:
                return self.refusal(category, limit, now)
            window[1] += 1
            if daily is not None:
                daily[1] += 1
            headers = {
                "X-RateLimit-Category": category,
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": str(limit - window[1]),
            }
            return Verdict(True, now, headers)

    def refusal(self, category: str | None, limit: int | None, now: float | None = None) -> Verdict:
        """A per-second 429; also what the burst_429 fault sends while under the limit (outside
        /v2, e.g. on the token endpoint, without a category)."""
        now = time.time() if now is None else now
        headers = {"X-RateLimit-Type": "QPS", "X-RateLimit-Remaining": "0"}
        if category is not None:
            headers.update({"X-RateLimit-Category": category, "X-RateLimit-Limit": str(limit)})
        self._add_retry_after(headers, math.floor(now) + 1, now)
        return Verdict(False, now, headers, {"code": 429, "message": QPS_MESSAGE})

    def _daily_refusal(self, account: AccountConfig, now: float) -> Verdict:
        limit = account.daily_heavy_limit
        sandbox_now = self._clock.time()
        midnight = (sandbox_now // DAY + 1) * DAY
        headers = {
            "X-RateLimit-Category": "Heavy",
            "X-RateLimit-Type": "Daily-limit",
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": "0",
        }
        self._add_retry_after(headers, midnight, sandbox_now)
        message = (
            f"You have exceeded the daily rate limit ({limit}) of Heavy APIs for this account. "
            "You may resume these requests at GMT 00:00:00."
        )
        return Verdict(False, now, headers, {"code": 429, "message": message})

    def _add_retry_after(self, headers: dict, at: float, now: float) -> None:
        if self._retry_after == "iso":
            headers["Retry-After"] = _iso(at)
        elif self._retry_after == "seconds":
            headers["Retry-After"] = str(max(1, math.ceil(at - now)))
