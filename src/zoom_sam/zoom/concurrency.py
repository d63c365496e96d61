"""Bounded, lazy fan-out of independent calls (one per user) over a thread pool.

At most ``max_in_flight`` calls run or wait at any time; items are pulled from the input iterator
only as slots free up, so memory stays flat however many items there are (100,000 users is one
lazily consumed iterator plus ``max_in_flight`` futures). Results are yielded in completion order
as ``(item, result)``; an exception raised by ``fn`` is yielded in place of the result, never
raised. Rate limiting is not done here: ``fn`` calls the client, whose limiters are shared by
every thread. :func:`with_progress` logs how the fan-out goes.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

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


def read_ahead(items: Iterable[T], *, ahead: int, thread_name: str = "zoom-read-ahead") -> Iterator[T]:
    """``items``, produced by a thread of their own up to ``ahead`` items before they are taken.

    A listing that feeds :func:`map_concurrent` is pulled in the thread that refills the pool: when
    it needs the next page, that thread waits for the page's turn in the rate limiter behind the
    queued calls, plus the page's latency, and meanwhile the pool runs dry (measured: 53 calls/s of
    the 57 a download could make). Read ahead, the next page is there before it is needed. Closing
    this generator stops the producer after the item it is on; its error is raised here, in order.
    """
    if ahead < 1:
        raise ValueError("ahead must be >= 1")
    buffer: queue.Queue = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                buffer.put((item, None))
                if stop.is_set():
                    return
            buffer.put((_END, None))
        except BaseException as exc:  # noqa: BLE001 - raised in the consumer by contract
            buffer.put((_END, exc))

    producer = threading.Thread(target=produce, name=thread_name, daemon=True)
    producer.start()
    try:
        while True:
            item, error = buffer.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        while producer.is_alive():  # free a producer blocked on a full buffer, then let it end
            try:
                buffer.get(timeout=0.1)
            except queue.Empty:
                pass
        producer.join()


def with_progress(results: Generator[tuple[T, R | Exception], None, None], *, every: int, label: str,
                  stats: Callable[[], dict[str, Any]]) -> Iterator[tuple[T, R | Exception]]:
    """``results`` passed through, logged at INFO every ``every`` results and once at the end.

    A fan-out over 100,000 users runs for a long time; the log says how far it is, how many
    failed and what it cost in calls, 429s and retries (``stats()``: the client's counters).
    """
    t0 = time.monotonic()
    done = failed = 0
    try:
        for item, result in results:
            done += 1
            if isinstance(result, Exception):
                failed += 1
            if every and done % every == 0:
                st = stats()
                rate = done / max(1e-9, time.monotonic() - t0)
                log.info("Zoom: %d %s done (%d failed), %.1f/s; calls %s, 429s %d, retries %d",
                         done, label, failed, rate, st["calls"], st["throttled_429"], st["retries"])
            yield item, result
    finally:
        results.close()
    if done:
        log.info("Zoom: finished %d %s (%d failed) in %.1fs", done, label, failed, time.monotonic() - t0)
