"""When a Zoom request is sent again, and what happens first: one policy for every send.

Every path that sends to Zoom (a read, a write, a page of a listing, a call of the thread pool)
goes through :meth:`RetryPolicy.run`, so they all repeat a request for the same reasons only:

* **BACKOFF**: the answer was lost on the way (a 5xx, a dropped or timed-out connection, a garbled
  2xx answer) and the request may be asked again (a read, or a write that provably never reached
  Zoom); for the token endpoint (:mod:`zoom_sam.zoom.token_endpoint`), also a 429. Bounded
  exponential backoff with jitter, ``max_retries`` times.
* **THROTTLED**: Zoom turned the request away unprocessed (HTTP 429). The wait is Zoom's
  ``Retry-After`` (backoff when it gives none), ``max_429_retries`` times, never longer than
  ``max_retry_after``; the caller holds it (it pauses the account's limiter, not only this thread).
* **RENEWED**: Zoom refused the access token (HTTP 401); it is renewed and the request sent once
  more.

Everything else is never repeated by the client: a write whose outcome is unknown, a daily rate
limit, and every other 4xx, a missing scope first of all (only an admin can grant it).
"""
from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, TypeVar

from zoom_sam.zoom.errors import ZoomError
from zoom_sam.zoom.ratelimit import backoff_delay

if TYPE_CHECKING:
    from zoom_sam.zoom.config import ZoomConfig

log = logging.getLogger(__name__)

T = TypeVar("T")


class Kind(Enum):
    """Why an attempt may be repeated; each reason has its own budget."""

    BACKOFF = "backoff"
    THROTTLED = "throttled"
    RENEWED = "renewed"


@dataclass(frozen=True)
class Again:
    """An attempt the policy may repeat.

    ``give_up(retries)`` is the error raised once the policy stops; ``wait`` is what Zoom asked
    for (``Retry-After``, THROTTLED only); ``prepare(delay)`` readies the resend (renew the token,
    pause the limiter) and, when given, replaces the policy's own sleep.
    """

    kind: Kind
    why: str
    give_up: Callable[[int], ZoomError]
    wait: float | None = None
    prepare: Callable[[float], None] | None = None


@dataclass
class RetryPolicy:
    """How often and after how long a request is repeated (the connection's retry extras)."""

    max_retries: int = 5
    max_429_retries: int = 10
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_retry_after: float = 120.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    @classmethod
    def of(cls, config: ZoomConfig, *, sleep: Callable[[float], None] = time.sleep,
           rng: random.Random | None = None) -> RetryPolicy:
        return cls(max_retries=config.max_retries, max_429_retries=config.max_429_retries,
                   backoff_base=config.backoff_base, backoff_max=config.backoff_max,
                   max_retry_after=config.max_retry_after, sleep=sleep, rng=rng or random.Random())

    def backoff(self, retries: int) -> float:
        return backoff_delay(retries, self.backoff_base, self.backoff_max, self.rng)

    def run(self, attempt: Callable[[], T | Again], *, on_retry: Callable[[float], None]) -> T:
        """``attempt()`` until it returns a result, repeating each :class:`Again` the policy allows.

        ``on_retry(slept)`` is told of every repeat, with the seconds the policy slept before it.
        """
        retries = dict.fromkeys(Kind, 0)
        while True:
            outcome = attempt()
            if not isinstance(outcome, Again):
                return outcome
            done = retries[outcome.kind]
            delay = self._delay(outcome, done)
            retries[outcome.kind] = done + 1
            if outcome.prepare is not None:
                outcome.prepare(delay)
                on_retry(0.0)
                continue
            log.warning("Zoom %s; retry %d/%d in %.2fs", outcome.why, done + 1, self.max_retries, delay)
            on_retry(delay)
            self.sleep(delay)

    def _delay(self, outcome: Again, done: int) -> float:
        """The wait before repeating ``outcome`` for the ``done + 1``-th time; raises its give-up error instead."""
        if outcome.kind is Kind.RENEWED:
            if done >= 1:
                raise outcome.give_up(done) from None
            return 0.0
        if outcome.kind is Kind.BACKOFF:
            if done >= self.max_retries:
                raise outcome.give_up(done) from None
            return self.backoff(done)
        wait = outcome.wait if outcome.wait is not None and outcome.wait > 0 else self.backoff(done)
        if done >= self.max_429_retries or wait > self.max_retry_after:
            raise outcome.give_up(done) from None
        return wait
