"""ZoomClient: the Zoom REST API v2 calls zoom-sam needs, with auth, paging, limits and retries.

Plain library: no Airflow import. :class:`zoom_sam.hooks.zoom.ZoomHook` builds one from an Airflow
connection; scripts and tests build one from :class:`ZoomConfig` directly.

Behaviour in one place (:meth:`ZoomClient.request`):

* every request first takes a slot from the process-wide limiter of its (account, category);
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
* any other 4xx raises a :class:`ZoomApiError` subclass at once with Zoom's code and message.

Listings are walked by :mod:`zoom_sam.zoom.paging` (restarts, loops, completeness).
"""
from __future__ import annotations

import logging
import random
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import requests
from requests.adapters import HTTPAdapter

from zoom_sam.zoom import endpoints, paging, shapes, scopes as scopes_mod
from zoom_sam.zoom.auth import AccessToken, AccountCredentialsAuth, MaskFn, TokenProvider
from zoom_sam.zoom.concurrency import map_concurrent as _map_concurrent
from zoom_sam.zoom.extras import (
    GRANT_ACCOUNT_CREDENTIALS,
    GRANT_REFRESH_TOKEN,
    ZoomConfigError,
    config_problems,
    parse_extras,
)
from zoom_sam.zoom.errors import (
    ZoomApiError,
    ZoomAuthError,
    ZoomError,
    ZoomMalformedResponse,
    ZoomMissingScopes,
    ZoomNotFound,
    ZoomRateLimited,
    ZoomTransientError,
    ZoomUncertainOutcome,
)
from zoom_sam.zoom.network import never_reached_server
from zoom_sam.zoom.ratelimit import (
    DEFAULT_PLAN,
    DEFAULT_SAFETY,
    RateLimiter,
    backoff_delay,
    get_limiter,
    parse_retry_after,
    plan_limits,
)
from zoom_sam.zoom.redact import scrub
from zoom_sam.zoom.refresh_chain import RefreshTokenAuth, TokenChainStore
from zoom_sam.zoom.token_endpoint import DEFAULT_OAUTH_URL, TokenEndpoint

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.zoom.us/v2"
PAGE_SIZE = 300

T = TypeVar("T")
R = TypeVar("R")


def normalize_base_url(host: str | None) -> str:
    """Connection host -> API base URL. Empty -> Zoom's global API; no scheme -> https; no path -> /v2."""
    host = (host or "").strip()
    if not host:
        return DEFAULT_BASE_URL
    if "://" not in host:
        host = "https://" + host
    parts = urlsplit(host)
    path = parts.path.rstrip("/")
    if not path:
        path = "/v2"
    return f"{parts.scheme}://{parts.netloc}{path}"


@dataclass
class ZoomConfig:
    """Everything a client needs. Built from an Airflow connection by :meth:`from_connection_fields`.

    Every field is checked on construction (:func:`zoom_sam.zoom.extras.config_problems`); a bad
    one raises :class:`~zoom_sam.zoom.extras.ZoomConfigError` naming each extra and its range.
    """

    client_id: str
    client_secret: str = field(repr=False)
    account_id: str | None = None
    base_url: str = DEFAULT_BASE_URL
    oauth_url: str = DEFAULT_OAUTH_URL
    grant_type: str = GRANT_ACCOUNT_CREDENTIALS
    refresh_token: str | None = field(default=None, repr=False)  # starts the connection's refresh-token chain
    token_store_conn_id: str | None = None  # the warehouse connection holding that chain
    plan: str = DEFAULT_PLAN
    rate_limits: dict[str, float] | None = None  # explicit requests/second per category
    rate_safety: float = DEFAULT_SAFETY           # run at this fraction of the limit
    max_in_flight: int = 24
    timeout: float = 30.0
    max_retries: int = 5           # 5xx / timeouts / dropped connections (reads)
    max_429_retries: int = 10
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_retry_after: float = 120.0  # a longer Retry-After raises ZoomRateLimited instead of sleeping
    page_size: int = PAGE_SIZE
    max_page_restarts: int = 3

    def __post_init__(self) -> None:
        self.base_url = normalize_base_url(self.base_url)
        self.oauth_url = (self.oauth_url or DEFAULT_OAUTH_URL).strip()
        self.grant_type = (self.grant_type or GRANT_ACCOUNT_CREDENTIALS).strip()
        problems = config_problems(self)
        if problems:
            raise ZoomConfigError(problems)
        self.limits = plan_limits(self.plan, self.rate_limits)

    @property
    def account_key(self) -> str:
        """Identity of the Zoom account for rate limiting (limits are per account)."""
        return f"{self.base_url}|{self.account_id or self.client_id}"

    @classmethod
    def from_connection_fields(cls, *, host: str | None, login: str | None, password: str | None,
                               extra: Mapping[str, Any] | None, **overrides: Any) -> ZoomConfig:
        """Map an Airflow connection (host/login/password/extra) to a config; extras in :mod:`.extras`.

        Raises :class:`~zoom_sam.zoom.extras.ZoomConfigError` listing every bad or unknown extra.
        """
        parsed, problems = parse_extras(extra)
        kw: dict[str, Any] = {"client_id": (login or "").strip(), "client_secret": password or "",
                              "base_url": host or "", **parsed}
        known = {f.name for f in fields(cls)}
        for k, v in overrides.items():
            if k not in known:
                raise TypeError(f"unknown ZoomConfig field {k!r}")
            kw[k] = v
        try:
            config = cls(**kw)
        except ZoomConfigError as exc:
            problems += exc.problems
        if problems:
            raise ZoomConfigError(problems)
        return config


class _Stats:
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


_TRANSIENT_EXC = (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                  requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)


def _fmt_date(d: date | datetime | str | None) -> str | None:
    if d is None:
        return None
    if isinstance(d, str):
        return d
    if isinstance(d, datetime):
        d = d.astimezone(timezone.utc).date() if d.tzinfo else d.date()
    return d.isoformat()


class ZoomClient:
    """Zoom REST API v2 client. Thread-safe: share one per account across the threads of a task.

    ``deadline``, when set, is called before every request attempt and raises to stop the work
    (a task's run-time deadline, :mod:`zoom_sam.timeouts.deadline`).
    """

    def __init__(
        self,
        config: ZoomConfig,
        *,
        token_provider: TokenProvider | None = None,
        token_chain: TokenChainStore | None = None,
        mask: MaskFn | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self._stats = _Stats()
        self._mask = mask
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._local = threading.local()
        self._sessions: weakref.WeakSet[requests.Session] = weakref.WeakSet()
        self._sessions_lock = threading.Lock()
        self.deadline: Callable[[], None] | None = None
        if mask:
            mask(config.client_secret)
            if config.refresh_token:
                mask(config.refresh_token)
        if token_provider is None:
            endpoint = TokenEndpoint(
                config.oauth_url, config.client_id, config.client_secret, timeout=config.timeout,
                on_request=lambda: self._stats.add(token_requests=1),
                backoff_base=config.backoff_base, backoff_max=min(config.backoff_max, 8.0))
            if config.grant_type == GRANT_REFRESH_TOKEN:
                if token_chain is None:
                    raise ValueError("the refresh_token grant needs the connection's token chain store "
                                     "(ZoomHook gives it one in the warehouse)")
                token_provider = RefreshTokenAuth(endpoint, token_chain, seed_refresh_token=config.refresh_token,
                                                  clock=clock, mask=mask)
            else:
                token_provider = AccountCredentialsAuth(endpoint, config.account_id or "", clock=clock, mask=mask)
        self.auth = token_provider
        self._limiters: dict[str, RateLimiter] = {
            cat: get_limiter(config.account_key, cat, rate, config.rate_safety)
            for cat, rate in config.limits.items()
        }

    # ------------------------------------------------------------------ plumbing

    def __repr__(self) -> str:
        return (f"ZoomClient(base_url={self.config.base_url!r}, account_id={self.config.account_id!r}, "
                f"grant_type={self.config.grant_type!r})")

    def __enter__(self) -> ZoomClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._sessions_lock:
            sessions = list(self._sessions)
        for s in sessions:
            s.close()

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

    def limiter(self, category: str) -> RateLimiter:
        return self._limiters.get(category) or self._limiters[endpoints.MEDIUM]

    def stats(self) -> dict[str, Any]:
        """Counters of this client since it was created.

        ``calls``: HTTP requests sent per rate-limit category (retries included); ``retries``:
        repeated requests (backoff, 429, token renewal); ``throttled_429``: 429 answers;
        ``waited_s``: seconds spent waiting on limiters and backoff, summed over all threads;
        ``errors``: exceptions raised to callers; ``token_requests``: token endpoint calls.
        """
        return self._stats.snapshot()

    def token(self) -> AccessToken:
        return self.auth.get_token()

    @property
    def granted_scopes(self) -> frozenset[str]:
        """The scopes of the current access token (obtains a token if needed)."""
        return self.token().scopes

    def has_scope(self, scope: str) -> bool:
        """Granted, directly or through the classic scope that covers it."""
        return scopes_mod.has_scope(self.granted_scopes, scope)

    # ------------------------------------------------------------------ core request

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json: Any = None) -> Any:
        """One API call with limits, auth renewal and the retry policy; returns the JSON body or None."""
        try:
            return self._request(method, path, params=params, json=json)
        except ZoomError:
            self._stats.add(errors=1)
            raise

    def _request(self, method: str, path: str, *, params: Mapping[str, Any] | None, json: Any) -> Any:
        cfg = self.config
        method = method.upper()
        if not path.startswith("/"):
            path = "/" + path
        ep = endpoints.lookup(method, path)
        is_write = method in endpoints.WRITE_METHODS
        url = cfg.base_url + path
        timeout = (min(10.0, cfg.timeout), cfg.timeout)
        clean_params = {k: v for k, v in (params or {}).items() if v is not None}
        retries = 0  # the read retry policy's count (see _retry_read)
        n429 = 0
        reauthed = False
        while True:
            if self.deadline is not None:
                self.deadline()
            tok = self.auth.get_token()
            waited = self.limiter(ep.category).acquire()
            if waited:
                self._stats.add(waited_s=waited)
            self._stats.call(ep.category)
            try:
                resp = self._session().request(
                    method, url, params=clean_params, json=json, timeout=timeout,
                    headers={"Authorization": f"Bearer {tok.value}"},
                )
            except _TRANSIENT_EXC as exc:
                kind = type(exc).__name__
                if is_write and not never_reached_server(exc):
                    log.error("Zoom %s %s: %s after the request may have reached Zoom; not retrying a write",
                              method, path, kind)
                    raise ZoomUncertainOutcome(
                        f"{method} {path}: outcome unknown ({kind} after sending; Zoom may or may not have "
                        "applied it). Re-read the object before retrying.", method=method, path=path) from None
                retries = self._retry_read(retries, method, path, kind, ZoomTransientError(
                    f"{method} {path}: {kind} persisted after {retries} retries"))
                continue

            if resp.status_code < 300:
                if is_write:
                    return _json_or_none(resp)  # the write succeeded (2xx); its body does not matter
                body, problem = _read_answer(resp, ep, clean_params)
                if problem is None:
                    return body
                where = paging.label(path, clean_params)  # a listing's status or type says which one
                retries = self._retry_read(retries, method, where, f"malformed answer ({problem})",
                                           ZoomMalformedResponse(method, where, problem, status=resp.status_code,
                                                                 retries=retries))
                continue

            status = resp.status_code
            body = _json_or_none(resp)
            code = body.get("code") if isinstance(body, dict) else None
            message = scrub(str(body.get("message", "")) if isinstance(body, dict) else (resp.reason or ""),
                            (tok.value,))

            if status == 401 and not reauthed:
                log.info("Zoom %s %s: 401 (code %s); renewing the access token once", method, path, code)
                self.auth.invalidate(tok)
                reauthed = True
                self._stats.add(retries=1)
                continue

            if status == 429:
                self._stats.add(throttled_429=1)
                category = resp.headers.get("X-RateLimit-Category") or ep.category
                if category not in self._limiters:
                    category = ep.category
                limit_type = resp.headers.get("X-RateLimit-Type") or ""
                retry_after = resp.headers.get("Retry-After")
                if "daily" in limit_type.lower():
                    raise ZoomRateLimited(
                        f"{method} {path}: Zoom daily rate limit reached for {category} "
                        f"(Retry-After {retry_after or 'not given'}): {message}",
                        category=category, limit_type=limit_type, retry_after=retry_after)
                wait = _retry_after_seconds(retry_after, resp.headers.get("Date"))
                if wait is None or wait <= 0:
                    wait = backoff_delay(n429, cfg.backoff_base, cfg.backoff_max, self._rng)
                if n429 >= cfg.max_429_retries or wait > cfg.max_retry_after:
                    raise ZoomRateLimited(
                        f"{method} {path}: still rate limited (HTTP 429, {category}) after {n429} retries"
                        f"{f'; Retry-After {retry_after}' if retry_after else ''}: {message}",
                        category=category, limit_type=limit_type or None, retry_after=retry_after)
                limiter = self.limiter(category)
                # the first 429 of a pause is news; the ones already in flight with it are not
                level = logging.DEBUG if limiter.paused_for > 0 else logging.WARNING
                log.log(level, "Zoom %s %s: 429 (%s %s); pausing all %s requests for %.2fs", method, path,
                        category, limit_type or "QPS", category, wait)
                limiter.pause(wait)
                n429 += 1
                self._stats.add(retries=1)
                continue

            if status >= 500:
                if is_write:
                    log.error("Zoom %s %s: HTTP %s; outcome of the write unknown, not retrying", method, path, status)
                    raise ZoomUncertainOutcome(
                        f"{method} {path}: HTTP {status} from Zoom; the write may or may not have been applied. "
                        "Re-read the object before retrying.", method=method, path=path, status=status)
                retries = self._retry_read(retries, method, path, f"HTTP {status}", ZoomTransientError(
                    f"{method} {path}: HTTP {status} persisted after {retries} retries"
                    f"{f' (Zoom code {code}: {message})' if code is not None else ''}"))
                continue

            raise self._api_error(status, code, message, method, path, ep)

    def _retry_read(self, retries: int, method: str, path: str, why: str, give_up: ZoomError) -> int:
        """The one retry policy of reads: a 5xx, a dropped or timed-out connection and a garbled 2xx
        answer are all "this answer was lost on the way", and a read can safely be asked again.
        Bounded exponential backoff with jitter, ``max_retries`` times; then ``give_up`` is raised.
        Returns the new retry count."""
        cfg = self.config
        if retries >= cfg.max_retries:
            raise give_up from None
        delay = backoff_delay(retries, cfg.backoff_base, cfg.backoff_max, self._rng)
        log.warning("Zoom %s %s: %s; retry %d/%d in %.2fs", method, path, why, retries + 1, cfg.max_retries, delay)
        self._stats.add(retries=1, waited_s=delay)
        self._sleep(delay)
        return retries + 1

    def _api_error(self, status: int, code: Any, message: str, method: str, path: str,
                   ep: endpoints.Endpoint) -> ZoomError:
        code = code if isinstance(code, int) else (int(code) if str(code).isdigit() else None)
        if status == 401:
            return ZoomAuthError(f"{method} {path}: Zoom rejected a freshly issued access token "
                                 f"(HTTP 401, code {code}): {message}", status=status, reason=message)
        if code in (4711, 4700) or (status == 403 and "scope" in message.lower()):
            missing = _scopes_in_message(message)
            if not missing and ep.scope:
                missing = (ep.scope,)
            return ZoomMissingScopes(status, code, message, method, path, missing=missing)
        if status == 404 or code == 1001:
            return ZoomNotFound(status, code, message, method, path)
        return ZoomApiError(status, code, message, method, path)

    # ------------------------------------------------------------------ paging

    def paginate(self, path: str, params: Mapping[str, Any] | None = None, *,
                 empty_on: Callable[[ZoomApiError], bool] | None = None) -> Iterator[dict[str, Any]]:
        """Yield every item of a listing once, ``page_size`` items a page: restarts on an expired
        page token, stops on a page loop, and re-lists a short ``GET /users`` once
        (:mod:`zoom_sam.zoom.paging`). ``empty_on``: a predicate on the first page's ZoomApiError
        meaning "there is nothing to list"."""
        listing = shapes.LISTINGS[endpoints.lookup("GET", path).name]
        pages = paging.paginate(lambda query: self._request("GET", path, params=query, json=None), path, listing,
                                params or {}, page_size=self.config.page_size,
                                max_page_restarts=self.config.max_page_restarts, empty_on=empty_on)
        try:
            yield from pages
        except ZoomError:
            self._stats.add(errors=1)
            raise

    # ------------------------------------------------------------------ endpoints

    @staticmethod
    def _uid(user_id: str) -> str:
        if not user_id:
            raise ValueError("user_id is empty")
        return quote(str(user_id), safe="@")

    def list_users(self, status: str = "active", **params: Any) -> Iterator[dict[str, Any]]:
        """GET /users?status=... (active | inactive | pending; pending users have no id: keyed by email)."""
        return self.paginate("/users", {"status": status, **params})

    def get_user(self, user_id: str) -> dict[str, Any]:
        """GET /users/{id} (optional scope user:read:user:admin)."""
        return self.request("GET", f"/users/{self._uid(user_id)}")

    def get_user_settings(self, user_id: str, **params: Any) -> dict[str, Any]:
        """GET /users/{id}/settings; always carries the ``feature`` object (the add-ons) unless an
        ``option`` asks for another document."""
        return self.request("GET", f"/users/{self._uid(user_id)}/settings", params=params or None)

    def list_meetings(self, user_id: str, type: str = "previous_meetings", from_: date | str | None = None,
                      to: date | str | None = None, **params: Any) -> Iterator[dict[str, Any]]:
        q = {"type": type, "from": _fmt_date(from_), "to": _fmt_date(to), **params}
        return self.paginate(f"/users/{self._uid(user_id)}/meetings", q)

    def list_webinars(self, user_id: str, type: str = "scheduled", *, missing_plan_ok: bool = False,
                      **params: Any) -> Iterator[dict[str, Any]]:
        """GET /users/{id}/webinars. A user without the webinar plan gets Zoom's 400 / code 200
        ("Webinar plan is missing") as a ZoomApiError; with ``missing_plan_ok`` it lists nothing."""
        return self.paginate(f"/users/{self._uid(user_id)}/webinars", {"type": type, **params},
                             empty_on=_no_webinar_plan if missing_plan_ok else None)

    def update_user(self, user_id: str, body: Mapping[str, Any]) -> None:
        """PATCH /users/{id} (e.g. {"type": 1}); 204."""
        self.request("PATCH", f"/users/{self._uid(user_id)}", json=dict(body))

    def update_user_settings(self, user_id: str, body: Mapping[str, Any]) -> None:
        """PATCH /users/{id}/settings (e.g. {"feature": {"webinar": False}}); 204."""
        self.request("PATCH", f"/users/{self._uid(user_id)}/settings", json=dict(body))

    def delete_user(self, user_id: str, action: str = "disassociate") -> None:
        """DELETE /users/{id}?action=disassociate|delete; 204."""
        if action not in ("disassociate", "delete"):
            raise ValueError("action must be 'disassociate' or 'delete'")
        self.request("DELETE", f"/users/{self._uid(user_id)}", params={"action": action})

    def report_users(self, type: str = "active", from_: date | str | None = None,
                     to: date | str | None = None, **params: Any) -> Iterator[dict[str, Any]]:
        """GET /report/users (Heavy; optional scope report:read:list_users:admin; windows <= 1 month)."""
        q = {"type": type, "from": _fmt_date(from_), "to": _fmt_date(to), **params}
        return self.paginate("/report/users", q)

    # ------------------------------------------------------------------ fan-out

    def map_concurrent(self, fn: Callable[[T], R], items: Iterable[T], *, max_in_flight: int | None = None,
                       progress_every: int = 1000, label: str = "items") -> Iterator[tuple[T, R | Exception]]:
        """Run ``fn(item)`` for many independent items (e.g. one per user) on a thread pool.

        At most ``max_in_flight`` (default: the connection's ``max_in_flight``, 24) calls are in
        flight; items are consumed lazily; results come in completion order as ``(item, result)``
        with exceptions yielded, not raised. Every call still goes through the shared limiters.
        Progress is logged at INFO every ``progress_every`` results.
        """
        n = max_in_flight or self.config.max_in_flight
        results = _map_concurrent(fn, items, max_in_flight=n, thread_name_prefix="zoom-sam")
        return self._with_progress(results, progress_every, label)

    def _with_progress(self, results: Iterator[tuple[T, Any]], every: int, label: str) -> Iterator[tuple[T, Any]]:
        t0 = time.monotonic()
        done = failed = 0
        try:
            for item, result in results:
                done += 1
                if isinstance(result, Exception):
                    failed += 1
                if every and done % every == 0:
                    st = self.stats()
                    rate = done / max(1e-9, time.monotonic() - t0)
                    log.info("Zoom: %d %s done (%d failed), %.1f/s; calls %s, 429s %d, retries %d",
                             done, label, failed, rate, st["calls"], st["throttled_429"], st["retries"])
                yield item, result
        finally:
            results.close()
        if done:
            log.info("Zoom: finished %d %s (%d failed) in %.1fs", done, label, failed, time.monotonic() - t0)


def _no_webinar_plan(exc: ZoomApiError) -> bool:
    return exc.status == 400 and exc.code == 200 and "webinar plan" in exc.message.lower()


def _json_or_none(resp: requests.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None


def _read_answer(resp: requests.Response, ep: endpoints.Endpoint,
                 params: Mapping[str, Any]) -> tuple[Any, str | None]:
    """(body, None) for a usable 2xx answer of a read, else (None, what is wrong with it)."""
    if not resp.content:
        return None, "the body is empty"
    try:
        body = resp.json()
    except ValueError:
        kind = (resp.headers.get("Content-Type") or "no content type").split(";")[0].strip()
        return None, f"the body is not JSON ({kind})"
    return body, shapes.problem(ep.name, body, params)


def _scopes_in_message(message: str) -> tuple[str, ...]:
    """Scopes named in Zoom's 4711/4700 message, e.g. 'does not contain scopes:[a, b].'."""
    import re

    inside = re.search(r"\[([^\]]*)\]", message)
    text = inside.group(1) if inside else message
    return tuple(dict.fromkeys(re.findall(r"[a-z_]+(?::[a-z_]+){1,3}", text)))


def _retry_after_seconds(value: str | None, date_header: str | None) -> float | None:
    """Seconds to wait. For an absolute Retry-After, trust our clock unless the server's Date header
    shows a clock skew of more than 5 s, in which case measure against the server's Date."""
    if value is None:
        return None
    local = parse_retry_after(value)
    if local is None:
        return None
    try:
        float(value.strip())
        return local  # delta-seconds: no clock involved
    except ValueError:
        pass
    if date_header:
        try:
            server_now = parsedate_to_datetime(date_header)
        except (TypeError, ValueError, IndexError):
            server_now = None
        if server_now is not None:
            if server_now.tzinfo is None:
                server_now = server_now.replace(tzinfo=timezone.utc)
            skew = (server_now - datetime.now(timezone.utc)).total_seconds()
            if abs(skew) > 5:
                return parse_retry_after(value, now=server_now)
    return local


__all__ = [
    "DEFAULT_BASE_URL",
    "ZoomClient",
    "ZoomConfig",
    "normalize_base_url",
]
