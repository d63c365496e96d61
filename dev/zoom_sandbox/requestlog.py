"""What the sandbox was asked and what it answered: tests and benchmarks prove pacing with it.

Records are kept up to ``log_limit`` (oldest dropped first); the per-account, per-category
counters behind ``stats()`` and ``max_per_second()`` cover every request since the last
``clear()``, however long the run.
"""
from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass


@dataclass(slots=True)
class Record:
    ts: float  # when the rate limiter admitted or refused it, else when it arrived (epoch)
    account_id: str | None
    method: str
    path: str
    query: dict
    status: int | None  # None: the connection was dropped without an answer
    category: str | None
    zoom_code: int | None
    metered: bool  # counted against the per-second limit
    body: bytes = b""  # what an API write sent (PATCH / POST / PUT / DELETE below /v2), for audits


class RequestLog:
    def __init__(self, limit: int) -> None:
        self._records: deque[Record] = deque(maxlen=limit)
        self._lock = threading.Lock()
        self._calls: Counter = Counter()  # (account, category) -> requests
        self._limited: Counter = Counter()  # (account, category) -> 429 answers
        self._seconds: dict[tuple, Counter] = {}  # (account, category) -> {second: metered requests}

    def append(self, record: Record) -> None:
        with self._lock:
            self._records.append(record)
            if record.category is None:
                return
            key = (record.account_id, record.category)
            self._calls[key] += 1
            if record.status == 429:
                self._limited[key] += 1
            if record.metered:
                self._seconds.setdefault(key, Counter())[int(record.ts)] += 1

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._calls.clear()
            self._limited.clear()
            self._seconds.clear()

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self):
        with self._lock:
            return iter(list(self._records))

    def __getitem__(self, index):
        with self._lock:
            return list(self._records)[index]

    def max_per_second(self, category: str, account_id: str | None = None) -> int:
        """The most requests of ``category`` served (not refused with 429) in one wall-clock
        second, for one account or all accounts together."""
        return self.busiest_second(category, account_id)[1]

    def busiest_second(self, category: str, account_id: str | None = None) -> tuple[int | None, int]:
        """(epoch second, requests) of the second behind :meth:`max_per_second`: which one it was
        tells what was running then."""
        with self._lock:
            total: Counter = Counter()
            for (acct, cat), seconds in self._seconds.items():
                if cat == category and account_id in (None, acct):
                    total.update(seconds)
            return max(total.items(), key=lambda item: (item[1], -item[0]), default=(None, 0))

    def stats(self) -> dict:
        """Per account and category: calls, 429s and the busiest second."""
        with self._lock:
            keys = set(self._calls)
        out: dict = {}
        for acct, cat in sorted(keys, key=lambda k: (k[0] or "", k[1])):
            busiest_at, most = self.busiest_second(cat, acct)
            out.setdefault(acct, {})[cat] = {
                "calls": self._calls[(acct, cat)],
                "rate_limited": self._limited[(acct, cat)],
                "max_per_second": most,
                "busiest_second": busiest_at,
            }
        return out
