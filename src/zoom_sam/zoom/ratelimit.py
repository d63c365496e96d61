"""Client-side rate limiting for Zoom's per-account, per-category limits.

Zoom counts requests per account and per rate-limit category (Light / Medium / Heavy), shared by
every app of the account. One :class:`RateLimiter` exists per (account, category) in a process
(:func:`get_limiter`, a module-level registry), so every thread and every client of that account
in the process draws from the same budget.

Algorithm: GCRA with zero burst tolerance, i.e. a reservation schedule. Each caller reserves the
next free slot ``tat`` (theoretical arrival time) and the schedule advances by one emission
interval ``1 / (rate * safety)``. Requests therefore leave evenly spaced and never bunch up: in
any 1-second window at most ``rate * safety`` (+1 at a window boundary) requests start. The
default safety factor 0.95 leaves room for network jitter between the client and the server's
own fixed 1-second windows.

GCRA spaces the *schedule*; a thread that wakes late would still leave close behind the next
one, so a second guard caps actual releases in any sliding 1-second interval (a log of the last
releases) at the most the schedule itself puts in a second, ``ceil(rate * safety)``, and never
above the whole part of ``rate``. A sliding cap implies the same cap in every fixed window,
whatever the server's window boundaries. Rounding the schedule's count up matters for fractional
paces: a shard sending at a quarter of 57/s (14.25) held to 14 a second would make four shards
send 56 where one process sends 57; ``floor(rate)`` keeps ``n`` shards of a limit within it in
every second whatever their phases (4 x 15 = 60).

A 429 pauses the whole limiter (:meth:`RateLimiter.pause_until`): threads holding a reservation
inside the pause wake up, see it and queue again behind it, so no thread keeps hammering.

Slowing a limiter down (:meth:`RateLimiter.set_rate`, as a sharded sweep does when another shard
joins) voids the slots it handed out at the old pace: every thread holding one queues again on
the new schedule when it wakes, and the 1-second release log carries over. Otherwise the
reservations already made (up to ``max_in_flight`` calls: over a second ahead at Zoom's Pro
limits) would still leave at the old pace, on top of the new shard's calls.
"""
from __future__ import annotations

import email.utils
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime, timezone

from zoom_sam.zoom.timestamps import parse_zoom_time

PLAN_LIMITS: Mapping[str, Mapping[str, float]] = {
    "pro": {"Light": 30.0, "Medium": 20.0, "Heavy": 10.0},
    "business": {"Light": 80.0, "Medium": 60.0, "Heavy": 40.0},
}
DEFAULT_PLAN = "business"
DEFAULT_SAFETY = 0.95


def plan_limits(plan: str | None = None, overrides: Mapping[str, float] | None = None) -> dict[str, float]:
    """requests/second per category for a plan (``pro`` | ``business``), optionally overridden."""
    key = (plan or DEFAULT_PLAN).strip().lower()
    if key in {"business+", "business_plus", "enterprise", "education", "partner", "partners"}:
        key = "business"
    if key not in PLAN_LIMITS:
        raise ValueError(f"unknown Zoom plan {plan!r}; expected one of {sorted(PLAN_LIMITS)}")
    limits = dict(PLAN_LIMITS[key])
    for cat, value in (overrides or {}).items():
        name = str(cat).capitalize()
        if name not in limits:
            raise ValueError(f"unknown rate-limit category {cat!r}; expected Light, Medium or Heavy")
        value = float(value)
        if value <= 0:
            raise ValueError(f"rate limit for {name} must be > 0, got {value}")
        limits[name] = value
    return limits


class RateLimiter:
    """Evenly spaced admission at ``rate * safety`` requests per second, pausable on 429."""

    def __init__(
        self,
        rate: float,
        *,
        safety: float = DEFAULT_SAFETY,
        name: str = "",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = name
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tat = 0.0
        self._paused_until = 0.0
        self._epoch = 0  # bumped when a slow-down voids the slots handed out so far
        self._released: deque[float] = deque()
        self.interval = 0.0
        self.set_rate(rate, safety)

    def set_rate(self, rate: float, safety: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0")
        if safety is not None and not (0 < safety <= 1):
            raise ValueError("safety must be in (0, 1]")
        with self._lock:
            self.rate = float(rate)
            if safety is not None:
                self.safety = float(safety)
            slower = self.interval and 1.0 / (self.rate * self.safety) > self.interval
            self.interval = 1.0 / (self.rate * self.safety)
            self.window_cap = max(1, min(math.ceil(self.rate * self.safety - 1e-9), math.floor(self.rate + 1e-9)))
            self._released = deque(self._released, maxlen=self.window_cap)
            if slower:
                self._epoch += 1
                self._tat = self._released[-1] + self.interval if self._released else self._clock()

    @property
    def effective_rate(self) -> float:
        return self.rate * self.safety

    def acquire(self) -> float:
        """Block until this caller may send one request; return the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                slot = max(self._tat, now, self._paused_until)
                self._tat = slot + self.interval
                epoch = self._epoch
            delay = slot - now
            if delay > 0:
                self._sleep(delay)
                waited += delay
            while True:
                with self._lock:
                    now = self._clock()
                    if now < self._paused_until or epoch != self._epoch:
                        break  # paused by a 429 or slowed down while this caller slept: queue again
                    rel = self._released
                    if len(rel) < self.window_cap or now - rel[0] >= 1.0:
                        rel.append(now)
                        return waited
                    hold = rel[0] + 1.0 - now  # late wake-ups bunched up: keep the 1-second cap
                self._sleep(hold)
                waited += hold

    def pause_until(self, until: float) -> None:
        """Stop admitting requests until monotonic time ``until`` (all threads)."""
        with self._lock:
            if until > self._paused_until:
                self._paused_until = until
            if self._tat < until:
                self._tat = until

    def pause(self, seconds: float) -> None:
        self.pause_until(self._clock() + max(0.0, seconds))

    @property
    def paused_for(self) -> float:
        with self._lock:
            return max(0.0, self._paused_until - self._clock())

    def __repr__(self) -> str:
        return f"RateLimiter({self.name or '?'}, {self.rate:g}/s x {self.safety:g})"


_REGISTRY: dict[tuple[str, str], RateLimiter] = {}
_REGISTRY_LOCK = threading.Lock()


def get_limiter(account_key: str, category: str, rate: float, safety: float = DEFAULT_SAFETY) -> RateLimiter:
    """The process-wide limiter of (account, category); created on first use, re-rated if changed."""
    key = (account_key, category)
    with _REGISTRY_LOCK:
        limiter = _REGISTRY.get(key)
        if limiter is None:
            limiter = _REGISTRY[key] = RateLimiter(rate, safety=safety, name=f"{category}")
            return limiter
    if limiter.rate != rate or limiter.safety != safety:
        limiter.set_rate(rate, safety)
    return limiter


def reset_limiters() -> None:
    """Forget every limiter (tests)."""
    with _REGISTRY_LOCK:
        _REGISTRY.clear()


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: Zoom's ISO date-time, delta-seconds or an HTTP-date.

    None when absent or unparseable. Never negative.
    """
    text = (value or "").strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    when = parse_zoom_time(text) or _http_date(text)
    if when is None:
        return None
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def retry_after_seconds(value: str | None, server_date: str | None) -> float | None:
    """Seconds to wait for a 429's ``Retry-After``. An absolute one is measured against our clock,
    unless the server's ``Date`` header shows a skew of more than 5 s: then against the server's."""
    now = datetime.now(timezone.utc)
    server_now = _http_date(server_date or "")
    if server_now is not None and abs((server_now - now).total_seconds()) > 5:
        now = server_now
    return parse_retry_after(value, now)


def _http_date(text: str) -> datetime | None:
    """An HTTP-date (``Sat, 28 Nov 2026 12:00:04 GMT``) as an aware datetime, UTC when it names no zone."""
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with (equal) jitter: in [d/2, d], d = min(cap, base * 2**attempt)."""
    d = min(cap, base * (2 ** max(0, attempt)))
    r = (rng or random).random()
    return d / 2 + r * d / 2
