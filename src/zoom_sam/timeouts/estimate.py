"""How long a task's Zoom calls should take, from the account's size and the client's limits.

Zoom's per-account rate limit is what bounds a large account, so a task's expected duration is
its requests per rate-limit category over the pace the client allows itself in that category:
the limit times ``rate_safety``, or ``max_in_flight`` calls of up to :data:`CALL_SECONDS` each
when that is slower. Each task with Zoom calls has a work model, counted from the last snapshot
generously (every holder as if it needed every call):

* :func:`download_work`: a page of users per ``page_size`` and status, and one settings read
  per holder (Medium);
* :func:`sweep_work`: per holder of the shard, previous and upcoming meetings, and webinars for
  webinar holders (Medium); the ``host_report`` source adds a report page per ``page_size``
  users per day of ``max_lookback_days`` (Heavy);
* :func:`reclaim_work`: the active and pending listings, five reads per open candidate
  (Medium) and three writes per candidate (Light).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from zoom_sam.timeouts.size import AccountSize
from zoom_sam.vocabulary import UserStatus
from zoom_sam.zoom.endpoints import HEAVY, LIGHT, MEDIUM

if TYPE_CHECKING:
    from zoom_sam.profiles import Profile
    from zoom_sam.zoom.config import ZoomConfig

CALL_SECONDS = 0.5

#: (account size, profile, client config, shards) -> requests per rate-limit category
Work = Callable[[AccountSize, "Profile", "ZoomConfig", int], dict[str, int]]


@dataclass(frozen=True)
class Expected:
    """A task's expected Zoom work: requests and the pace per category, and the seconds they take."""

    requests: Mapping[str, int]
    pace: Mapping[str, float]

    @property
    def seconds(self) -> float:
        return sum(n / self.pace[category] for category, n in self.requests.items())

    def describe(self) -> str:
        return ", ".join(f"{n:,} {category} requests at {self.pace[category]:.1f}/s"
                         for category, n in self.requests.items() if n)


def expected(work: Work, size: AccountSize, profile: Profile, config: ZoomConfig, shards: int = 1) -> Expected:
    requests = work(size, profile, config, shards)
    pace = {category: min(config.limits[category] * config.rate_safety, config.max_in_flight / CALL_SECONDS)
            for category in requests}
    return Expected(requests, pace)


def _pages(users: int, config: ZoomConfig) -> int:
    return math.ceil(users / config.page_size)


def download_work(size: AccountSize, profile: Profile, config: ZoomConfig, shards: int) -> dict[str, int]:
    return {MEDIUM: _pages(size.users, config) + len(UserStatus) + size.holders}


def sweep_work(size: AccountSize, profile: Profile, config: ZoomConfig, shards: int) -> dict[str, int]:
    holders, webinars = math.ceil(size.holders / shards), math.ceil(size.webinar_holders / shards)
    work = {MEDIUM: 2 * holders + webinars}
    if profile.activity_source == "host_report":
        work[HEAVY] = (profile.max_lookback_days + 1) * _pages(size.users, config)
    return work


def reclaim_work(size: AccountSize, profile: Profile, config: ZoomConfig, shards: int) -> dict[str, int]:
    return {MEDIUM: 2 * _pages(size.users, config) + 5 * size.candidates, LIGHT: 3 * size.candidates}
