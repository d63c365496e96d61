"""Injected failures, so clients prove they survive what Zoom and networks really do.

A fault matches requests (path regex, method, account) and fires on some of its matches: with
``probability`` (a seeded RNG, so a run is repeatable), on ``every`` Nth match, or always; and
``count`` caps how often it fires in total, so ``count=3`` alone means "the first three
matching requests". Control endpoints under /_sandbox are never faulted.

Most kinds act before the request is answered (:meth:`Faults.hits`); the answer kinds of
:mod:`.garble` change a 200 after it (:meth:`Faults.garble`), and match only answers they can
change, so ``count=1`` on a listing's path means "the first page that can be garbled".
"""
from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field

from . import garble
from .messages import Response

KINDS = ("status", "drop", "slow", "burst_429", "expire_tokens", "ignore_window") + garble.KINDS
_OPTIONS = {"status": {"status"}, "slow": {"delay_s"}, "malformed": {"shape", "field"}}
_GATEWAY_STATUSES = (500, 502, 503, 504)
_TERMINAL = ("status", "drop", "burst_429")


@dataclass
class Fault:
    kind: str
    path: re.Pattern | None
    method: str | None
    account_id: str | None
    probability: float | None
    count: int | None
    every: int | None
    status: int
    delay_s: float
    rng: random.Random
    shape: str | None = None
    field: str | None = None
    matched: int = 0
    fired: int = 0

    def matches(self, method: str, path: str, account_id: str | None) -> bool:
        return (
            (self.method is None or self.method == method)
            and (self.account_id is None or self.account_id == account_id)
            and (self.path is None or self.path.search(path) is not None)
        )

    def fire(self) -> bool:
        """Called on a matching request: does the fault hit it?"""
        if self.count is not None and self.fired >= self.count:
            return False
        self.matched += 1
        if self.every is not None and self.matched % self.every:
            return False
        if self.probability is not None and self.rng.random() >= self.probability:
            return False
        self.fired += 1
        return True

    def describe(self) -> dict:
        return {
            "kind": self.kind,
            "path": self.path.pattern if self.path else None,
            "method": self.method,
            "account_id": self.account_id,
            "probability": self.probability,
            "count": self.count,
            "every": self.every,
            "matched": self.matched,
            "fired": self.fired,
            **({"status": self.status} if self.kind == "status" else {}),
            **({"delay_s": self.delay_s} if self.kind == "slow" else {}),
            **({"shape": self.shape, "field": self.field} if self.kind == "malformed" else {}),
        }


@dataclass
class Hits:
    """The faults that fired on one request, by effect."""

    status: int | None = None
    drop: bool = False
    delay_s: float = 0.0
    burst_429: bool = False
    expire_tokens: list = field(default_factory=list)  # account ids (None: every account)
    ignore_window: bool = False


class Faults:
    def __init__(self, seed: int = 0) -> None:
        self._seed = seed
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._added = 0

    def add(
        self,
        kind: str,
        *,
        path: str | None = None,
        method: str | None = None,
        probability: float | None = None,
        count: int | None = None,
        every: int | None = None,
        account_id: str | None = None,
        **kw,
    ) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"fault kind must be one of {KINDS}, not {kind!r}")
        unknown = set(kw) - _OPTIONS.get(kind, set())
        if unknown:
            raise ValueError(f"fault {kind!r} takes no option(s) {sorted(unknown)}")
        if probability is not None and not 0 <= probability <= 1:
            raise ValueError("probability must be within [0, 1]")
        if (every is not None and every < 1) or (count is not None and count < 0):
            raise ValueError("every must be >= 1 and count >= 0")
        try:
            pattern = re.compile(path) if path else None
        except re.error as e:
            raise ValueError(f"path is not a regular expression: {e}") from None
        status = int(kw.get("status", 500))
        if kind == "status" and status not in _GATEWAY_STATUSES:
            raise ValueError(f"status faults answer one of {_GATEWAY_STATUSES}")
        shape, field_name = _shape_and_field(kind, kw)
        with self._lock:
            fault = Fault(
                kind=kind,
                path=pattern,
                method=method.upper() if method else None,
                account_id=account_id,
                probability=probability,
                count=count,
                every=every,
                status=status,
                delay_s=float(kw.get("delay_s", 5.0)),
                rng=random.Random(self._seed * 1_000_003 + self._added),
                shape=shape,
                field=field_name,
            )
            self._added += 1
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def __iter__(self):
        with self._lock:
            return iter(list(self._faults))

    def hits(self, method: str, path: str, account_id: str | None) -> Hits:
        """The faults that fire on a request. At most one ends it (drop, status or burst_429, the
        first added wins); the others are not even consulted, so their counts stay unspent."""
        hits = Hits()
        with self._lock:
            for f in self._faults:
                if f.kind in garble.KINDS:
                    continue
                if f.kind in _TERMINAL and (hits.drop or hits.status or hits.burst_429):
                    continue
                if not f.matches(method, path, account_id) or not f.fire():
                    continue
                if f.kind == "status":
                    hits.status = f.status
                elif f.kind == "drop":
                    hits.drop = True
                elif f.kind == "slow":
                    hits.delay_s += f.delay_s
                elif f.kind == "burst_429":
                    hits.burst_429 = True
                elif f.kind == "expire_tokens":
                    hits.expire_tokens.append(f.account_id)
                else:
                    hits.ignore_window = True
        return hits

    def garble(self, method: str, path: str, account_id: str | None, query: dict, response: Response) -> Response:
        """The answer as the answer faults leave it: the first one that can change it and fires
        does; the others are not consulted, so their counts stay unspent."""
        with self._lock:
            for f in self._faults:
                if (f.kind in garble.KINDS and f.matches(method, path, account_id)
                        and garble.applies(f.kind, f.shape, f.field, query, response) and f.fire()):
                    return garble.apply(f.kind, f.shape, f.field, query, response)
        return response


def _shape_and_field(kind: str, kw: dict) -> tuple[str | None, str | None]:
    """A malformed fault's shape and the field it works on (checked), else (None, None)."""
    if kind != "malformed":
        return None, None
    shape = kw.get("shape")
    if shape not in garble.SHAPES:
        raise ValueError(f"a malformed fault needs shape, one of {garble.SHAPES}, not {shape!r}")
    if shape not in garble.DEFAULT_FIELD:
        if "field" in kw:
            raise ValueError(f"shape {shape!r} takes no field")
        return shape, None
    field_name = kw.get("field", garble.DEFAULT_FIELD[shape])
    if not isinstance(field_name, str) or not field_name:
        raise ValueError("field must be the name of a field of the answer")
    return shape, field_name
