"""Bounded, lazy fan-out of independent calls (one per user) over a thread pool.

At most ``max_in_flight`` calls run or wait at any time; items are pulled from the input iterator
only as slots free up, so memory stays flat however many items there are (100,000 users is one
lazily consumed iterator plus ``max_in_flight`` futures). Results are yielded in completion order
as ``(item, result)``; an exception raised by ``fn`` is yielded in place of the result, never
raised. Rate limiting is not done here: ``fn`` calls the client, whose limiters are shared by
every thread.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger(__name__)

_END = object()


def map_concurrent(
    fn: Callable[[T], R],
    items: Iterable[T],
    *,
    max_in_flight: int = 16,
    thread_name_prefix: str = "zoom",
) -> Iterator[tuple[T, R | Exception]]:
    """Run ``fn(item)`` for every item with at most ``max_in_flight`` in flight; yield as they finish.

    Closing the generator early cancels the calls not yet started and waits for the running ones.
    """
    if max_in_flight < 1:
        raise ValueError("max_in_flight must be >= 1")
    source = iter(items)
    pool = ThreadPoolExecutor(max_workers=max_in_flight, thread_name_prefix=thread_name_prefix)
    pending: dict[Future, T] = {}

    def submit_next() -> bool:
        item = next(source, _END)
        if item is _END:
            return False
        pending[pool.submit(fn, item)] = item
        return True

    try:
        while len(pending) < max_in_flight and submit_next():
            pass
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                item = pending.pop(fut)
                try:
                    result: R | Exception = fut.result()
                except Exception as exc:  # noqa: BLE001 - yielded to the caller by contract
                    result = exc
                # refill first, so the pool keeps working while the caller handles this result
                while len(pending) < max_in_flight and submit_next():
                    pass
                yield item, result
    finally:
        for fut in pending:
            fut.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
