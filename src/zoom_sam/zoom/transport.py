"""Sending one request to Zoom's API: limits, the access token, and the one retry policy.

Every request (:meth:`Transport.send`):

* first takes a slot from the process-wide limiter of its (account, category);
* 401 (code 124, invalid/expired token): the token is renewed once and the request repeated;
* 429: ``Retry-After`` (ISO date-time or seconds; exponential backoff with jitter when absent)
  pauses the whole (account, category) limiter, then the request is repeated (reads and writes:
  a 429 was not executed); a daily limit is raised at once as :class:`ZoomRateLimited`;
* 5xx, timeouts, dropped connections: reads are retried with bounded exponential backoff and
  jitter; a write is retried only when it provably never reached Zoom (connection refused or
  connect timeout), otherwise :class:`ZoomUncertainOutcome` is raised and nothing is repeated;
* a 2xx read answer is checked against its endpoint's shape (:mod:`zoom_sam.zoom.shapes`) before
  anyone reads it; a malformed one (``null``, empty, not JSON, a list, items that are not
  objects, settings without ``feature``) is retried under the same policy as a 5xx, since a proxy
  may garble one answer, and then raised as :class:`ZoomMalformedResponse`, never returned as an
  empty result;
* any other 4xx raises a :class:`ZoomApiError` subclass at once with Zoom's code and message
  (:mod:`zoom_sam.zoom.answers`); a missing scope is never sent again.

How often and after how long a request is repeated is :class:`zoom_sam.zoom.retry.RetryPolicy`.
"""
from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from zoom_sam.zoom import endpoints, paging
from zoom_sam.zoom.answers import ErrorAnswer, json_or_none, read_answer
from zoom_sam.zoom.auth import AccessToken, TokenProvider
from zoom_sam.zoom.config import ZoomConfig
from zoom_sam.zoom.errors import (
    ZoomError,
    ZoomMalformedResponse,
    ZoomRateLimited,
    ZoomTransientError,
    ZoomUncertainOutcome,
)
from zoom_sam.zoom.network import never_reached_server
from zoom_sam.zoom.ratelimit import RateLimiter, get_limiter, retry_after_seconds
from zoom_sam.zoom.retry import Again, Kind, RetryPolicy

log = logging.getLogger(__name__)

_TRANSIENT_EXC = (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                  requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)


class CallStats:
    """Counters of one client, summed over its threads (see :meth:`ZoomClient.stats`)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls = {c: 0 for c in endpoints.CATEGORIES}
        self.retries = 0
        self.throttled_429 = 0
        self.waited_s = 0.0
        self.errors = 0
        self.token_requests = 0

    def add(self, **kw: float) -> None:
        with self.lock:
            for k, v in kw.items():
                setattr(self, k, getattr(self, k) + v)

    def call(self, category: str) -> None:
        with self.lock:
            self.calls[category] = self.calls.get(category, 0) + 1

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"calls": dict(self.calls), "retries": self.retries, "throttled_429": self.throttled_429,
                    "waited_s": round(self.waited_s, 3), "errors": self.errors,
                    "token_requests": self.token_requests}


class Transport:
    """Sends requests for one client: one HTTP session per thread, the account's shared limiters.

    ``deadline``, when set, is called before every attempt and raises to stop the work (a task's
    run-time deadline, :mod:`zoom_sam.timeouts.deadline`).
    """

    def __init__(self, config: ZoomConfig, auth: TokenProvider, retry: RetryPolicy, stats: CallStats) -> None:
        self.config = config
        self.auth = auth
        self.retry = retry
        self.stats = stats
        self.deadline: Callable[[], None] | None = None
        self._local = threading.local()
        self._sessions: weakref.WeakSet[requests.Session] = weakref.WeakSet()
        self._sessions_lock = threading.Lock()
        self._limiters: dict[str, RateLimiter] = {
            cat: get_limiter(config.account_key, cat, rate, config.rate_safety)
            for cat, rate in config.limits.items()
        }

    def close(self) -> None:
        with self._sessions_lock:
            sessions = list(self._sessions)
        for s in sessions:
            s.close()

    def limiter(self, category: str) -> RateLimiter:
        return self._limiters.get(category) or self._limiters[endpoints.MEDIUM]

    def _session(self) -> requests.Session:
        s = getattr(self._local, "session", None)
        if s is None:
            s = requests.Session()
            adapter = HTTPAdapter(pool_connections=2, pool_maxsize=2, max_retries=0)
            s.mount("https://", adapter)
            s.mount("http://", adapter)
            s.headers.update({"Accept": "application/json", "User-Agent": "zoom-sam/0.1"})
            self._local.session = s
            with self._sessions_lock:
                self._sessions.add(s)
        return s

    def send(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None) -> Any:
        """One API call under the retry policy; the JSON body (a write's may be None)."""
        method = method.upper()
        if not path.startswith("/"):
            path = "/" + path
        request = _Request(method, path, endpoints.lookup(method, path),
                           {k: v for k, v in (params or {}).items() if v is not None}, json)
        return self.retry.run(lambda: self._attempt(request),
                              on_retry=lambda slept: self.stats.add(retries=1, waited_s=slept))

    def _attempt(self, req: _Request) -> Any:
        """Send ``req`` once: its body, an :class:`Again` the policy may repeat, or an error raised."""
        cfg = self.config
        if self.deadline is not None:
            self.deadline()
        tok = self.auth.get_token()
        waited = self.limiter(req.ep.category).acquire()
        if waited:
            self.stats.add(waited_s=waited)
        self.stats.call(req.ep.category)
        try:
            resp = self._session().request(
                req.method, cfg.base_url + req.path, params=req.params, json=req.json,
                timeout=(min(10.0, cfg.timeout), cfg.timeout), headers={"Authorization": f"Bearer {tok.value}"},
            )
        except _TRANSIENT_EXC as exc:
            return self._lost_connection(req, type(exc).__name__, never_reached_server(exc))
        if resp.status_code < 300:
            if req.ep.is_write:
                return json_or_none(resp)  # the write succeeded (2xx); its body does not matter
            body, problem = read_answer(resp, req.ep, req.params)
            if problem is None:
                return body
            where = paging.label(req.path, req.params)  # a listing's status or type says which one
            return Again(Kind.BACKOFF, f"{req.method} {where}: malformed answer ({problem})",
                         lambda n: ZoomMalformedResponse(req.method, where, problem, status=resp.status_code,
                                                         retries=n))
        answer = ErrorAnswer.of(resp, (tok.value,))
        if answer.status == 401 and not answer.missing_scope:
            return Again(Kind.RENEWED, f"{req.method} {req.path}: HTTP 401",
                         lambda n: answer.error(req.method, req.path, req.ep),
                         prepare=lambda _: self._renew(req, tok, answer))
        if answer.status == 429:
            return self._throttled(req, resp, answer)
        if answer.status >= 500:
            return self._server_error(req, answer)
        raise answer.error(req.method, req.path, req.ep)

    def _lost_connection(self, req: _Request, kind: str, unsent: bool) -> Again:
        if req.ep.is_write and not unsent:
            log.error("Zoom %s %s: %s after the request may have reached Zoom; not retrying a write",
                      req.method, req.path, kind)
            raise ZoomUncertainOutcome(
                f"{req.method} {req.path}: outcome unknown ({kind} after sending; Zoom may or may not have "
                "applied it). Re-read the object before retrying.", method=req.method, path=req.path) from None
        return Again(Kind.BACKOFF, f"{req.method} {req.path}: {kind}",
                     lambda n: ZoomTransientError(f"{req.method} {req.path}: {kind} persisted after {n} retries"))

    def _server_error(self, req: _Request, answer: ErrorAnswer) -> Again:
        method, path, status = req.method, req.path, answer.status
        if req.ep.is_write:
            log.error("Zoom %s %s: HTTP %s; outcome of the write unknown, not retrying", method, path, status)
            raise ZoomUncertainOutcome(
                f"{method} {path}: HTTP {status} from Zoom; the write may or may not have been applied. "
                "Re-read the object before retrying.", method=method, path=path, status=status)
        zoom_says = f" (Zoom code {answer.code}: {answer.message})" if answer.code is not None else ""
        return Again(Kind.BACKOFF, f"{method} {path}: HTTP {status}",
                     lambda n: ZoomTransientError(f"{method} {path}: HTTP {status} persisted after {n} retries"
                                                  f"{zoom_says}"))

    def _throttled(self, req: _Request, resp: requests.Response, answer: ErrorAnswer) -> Again:
        self.stats.add(throttled_429=1)
        method, path = req.method, req.path
        category = resp.headers.get("X-RateLimit-Category") or req.ep.category
        if category not in self._limiters:
            category = req.ep.category
        limit_type = resp.headers.get("X-RateLimit-Type") or ""
        retry_after = resp.headers.get("Retry-After")
        if "daily" in limit_type.lower():
            raise ZoomRateLimited(
                f"{method} {path}: Zoom daily rate limit reached for {category} "
                f"(Retry-After {retry_after or 'not given'}): {answer.message}",
                category=category, limit_type=limit_type, retry_after=retry_after)

        def give_up(n: int) -> ZoomError:
            return ZoomRateLimited(
                f"{method} {path}: still rate limited (HTTP 429, {category}) after {n} retries"
                f"{f'; Retry-After {retry_after}' if retry_after else ''}: {answer.message}",
                category=category, limit_type=limit_type or None, retry_after=retry_after)

        def pause(wait: float) -> None:
            limiter = self.limiter(category)
            # the first 429 of a pause is news; the ones already in flight with it are not
            level = logging.DEBUG if limiter.paused_for > 0 else logging.WARNING
            log.log(level, "Zoom %s %s: 429 (%s %s); pausing all %s requests for %.2fs", method, path,
                    category, limit_type or "QPS", category, wait)
            limiter.pause(wait)

        return Again(Kind.THROTTLED, f"{method} {path}: HTTP 429", give_up,
                     wait=retry_after_seconds(retry_after, resp.headers.get("Date")), prepare=pause)

    def _renew(self, req: _Request, tok: AccessToken, answer: ErrorAnswer) -> None:
        log.info("Zoom %s %s: 401 (code %s); renewing the access token once", req.method, req.path, answer.code)
        self.auth.invalidate(tok)


@dataclass(frozen=True, slots=True)
class _Request:
    """One request as every attempt sends it."""

    method: str
    path: str
    ep: endpoints.Endpoint
    params: dict[str, Any]
    json: Any
