"""Run test bodies in child processes, the way Airflow runs two tasks: separate interpreters.

Children are spawned, not forked, so the parent's sandbox server threads and open database
connections stay out of them; a body must therefore be a module-level function (it is imported
by name in the child). Synchronise through the ``multiprocessing`` primitives of :data:`CTX`
(events, barriers) handed to the bodies, never by sleeping.
"""
from __future__ import annotations

import multiprocessing
import time
import traceback
from collections.abc import Callable
from typing import Any

CTX = multiprocessing.get_context("spawn")
TIMEOUT_S = 180


def _child(index: int, body: Callable[..., Any], args: tuple, results) -> None:
    try:
        results.put((index, True, body(*args)))
    except BaseException:  # noqa: BLE001 - the parent re-raises it with the child's traceback
        results.put((index, False, traceback.format_exc()))


class Children:
    """Child processes started by :func:`start`."""

    def __init__(self, processes: list, results) -> None:
        self.processes = processes
        self.results = results

    def expect(self, event) -> None:
        """Wait until ``event`` is set; fail at once (with its traceback) if a child ends first."""
        deadline = time.monotonic() + TIMEOUT_S
        while not event.wait(0.2):
            if time.monotonic() > deadline:
                raise AssertionError("no child process signalled in time")
            if not all(p.is_alive() for p in self.processes):
                self.wait()
                raise AssertionError("a child process ended before it signalled")

    def wait(self) -> list[Any]:
        """The bodies' return values in call order; fails with a child's traceback when its body raised."""
        answers = {}
        try:
            for _ in self.processes:
                index, ok, value = self.results.get(timeout=TIMEOUT_S)
                if not ok:
                    raise AssertionError(f"child process {index} failed:\n{value}")
                answers[index] = value
        finally:
            for process in self.processes:
                process.join(timeout=TIMEOUT_S)
                if process.is_alive():
                    process.kill()
        return [answers[i] for i in range(len(self.processes))]


def start(body: Callable[..., Any], *calls: tuple) -> Children:
    """Start ``body(*args)`` once per ``args`` in ``calls``, each in its own process."""
    results = CTX.Queue()
    processes = [CTX.Process(target=_child, args=(i, body, args, results), daemon=True)
                 for i, args in enumerate(calls)]
    for process in processes:
        process.start()
    return Children(processes, results)


def run_concurrently(body: Callable[..., Any], *calls: tuple) -> list[Any]:
    """:func:`start` and wait: the bodies' return values in call order."""
    return start(body, *calls).wait()
