"""ZoomClient: the Zoom REST API v2 calls zoom-sam needs, the one object the processes talk to.

Plain library: no Airflow import. :class:`zoom_sam.hooks.zoom.ZoomHook` builds one from an Airflow
connection; scripts and tests build one from :class:`~zoom_sam.zoom.config.ZoomConfig` directly.

The client only puts the pieces together, each in its own module: the configuration
(:mod:`.config`), the grant that obtains access tokens (:mod:`.auth`, :mod:`.refresh_chain`),
sending with limits and the one retry policy (:mod:`.transport`, :mod:`.retry`), listings
(:mod:`.paging`) and the thread pool (:mod:`.concurrency`).
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime, timezone
from typing import Any, TypeVar
from urllib.parse import quote

from zoom_sam.vocabulary import UserStatus
from zoom_sam.zoom import endpoints, paging, shapes, scopes
from zoom_sam.zoom.auth import AccessToken, AccountCredentialsAuth, MaskFn, TokenProvider
from zoom_sam.zoom.concurrency import map_concurrent as _map_concurrent
from zoom_sam.zoom.concurrency import with_progress
from zoom_sam.zoom.config import ZoomConfig
from zoom_sam.zoom.errors import ZoomError
from zoom_sam.zoom.extras import GRANT_REFRESH_TOKEN
from zoom_sam.zoom.ratelimit import RateLimiter
from zoom_sam.zoom.refresh_chain import RefreshTokenAuth, TokenChainStore
from zoom_sam.zoom.retry import RetryPolicy
from zoom_sam.zoom.token_endpoint import TokenEndpoint
from zoom_sam.zoom.transport import CallStats, Transport

T = TypeVar("T")
R = TypeVar("R")
_USERS = shapes.LISTINGS[endpoints.lookup("GET", "/users").name]


def user_segment(user_id: str) -> str:
    """A user id or email as one path segment (``/users/{segment}``)."""
    if not user_id:
        raise ValueError("user_id is empty")
    return quote(str(user_id), safe="@")


def _fmt_date(d: date | datetime | str | None) -> str | None:
    if d is None:
        return None
    if isinstance(d, str):
        return d
    if isinstance(d, datetime):
        d = d.astimezone(timezone.utc).date() if d.tzinfo else d.date()
    return d.isoformat()


def grant_for(config: ZoomConfig, stats: CallStats, *, token_chain: TokenChainStore | None,
                   clock: Callable[[], float], mask: MaskFn | None) -> TokenProvider:
    """The grant of ``config``: Server-to-Server OAuth, or the connection's refresh-token chain."""
    endpoint = TokenEndpoint(
        config.oauth_url, config.client_id, config.client_secret, timeout=config.timeout,
        on_request=lambda: stats.add(token_requests=1),
        backoff_base=config.backoff_base, backoff_max=min(config.backoff_max, 8.0))
    if config.grant_type == GRANT_REFRESH_TOKEN:
        if token_chain is None:
            raise ValueError("the refresh_token grant needs the connection's token chain store "
                             "(ZoomHook gives it one in the warehouse)")
        return RefreshTokenAuth(endpoint, token_chain, seed_refresh_token=config.refresh_token, clock=clock, mask=mask)
    return AccountCredentialsAuth(endpoint, config.account_id or "", clock=clock, mask=mask)


class ZoomClient:
    """Zoom REST API v2 client. Thread-safe: share one per account across the threads of a task.

    ``deadline``, when set, is called before every request attempt and raises to stop the work
    (a task's run-time deadline, :mod:`zoom_sam.timeouts.deadline`). ``retry`` replaces the
    policy built from the config's retry settings (its ``sleep`` and ``rng`` included).
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
        retry: RetryPolicy | None = None,
    ) -> None:
        self.config = config
        self._stats = CallStats()
        if mask:
            mask(config.client_secret)
            if config.refresh_token:
                mask(config.refresh_token)
        self.auth = token_provider or grant_for(config, self._stats, token_chain=token_chain, clock=clock, mask=mask)
        self._transport = Transport(config, self.auth, retry or RetryPolicy.of(config, sleep=sleep, rng=rng),
                                    self._stats)

    def __repr__(self) -> str:
        return (f"ZoomClient(base_url={self.config.base_url!r}, account_id={self.config.account_id!r}, "
                f"grant_type={self.config.grant_type!r})")

    def __enter__(self) -> ZoomClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._transport.close()

    @property
    def deadline(self) -> Callable[[], None] | None:
        return self._transport.deadline

    @deadline.setter
    def deadline(self, value: Callable[[], None] | None) -> None:
        self._transport.deadline = value

    @property
    def retry(self) -> RetryPolicy:
        """The policy every request of this client is repeated under."""
        return self._transport.retry

    def limiter(self, category: str) -> RateLimiter:
        return self._transport.limiter(category)

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
        return scopes.has_scope(self.granted_scopes, scope)

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json: Any = None) -> Any:
        """One API call with limits, auth renewal and the retry policy; returns the JSON body or None."""
        try:
            return self._transport.send(method, path, params=params, json=json)
        except ZoomError:
            self._stats.add(errors=1)
            raise

    def paginate(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Yield every item of a listing once, ``page_size`` items a page: restarts on an expired
        page token, stops on a page loop, and re-lists a short ``GET /users`` once
        (:mod:`zoom_sam.zoom.paging`)."""
        listing = shapes.LISTINGS[endpoints.lookup("GET", path).name]
        pages = paging.paginate(lambda query: self._transport.send("GET", path, params=query), path, listing,
                                params or {}, page_size=self.config.page_size,
                                max_page_restarts=self.config.max_page_restarts)
        try:
            yield from pages
        except ZoomError:
            self._stats.add(errors=1)
            raise

    def list_users(self, status: str = UserStatus.ACTIVE, **params: Any) -> Iterator[dict[str, Any]]:
        """GET /users?status=... (active | inactive | pending; pending users have no id: keyed by email)."""
        return self.paginate("/users", {"status": status, **params})

    def list_users_by_page_number(self, status: str = UserStatus.ACTIVE, *,
                                  expected_pages: int = 1) -> Iterator[tuple[int | None, dict[str, Any]]]:
        """GET /users?status=..., the pages side by side (``expected_pages`` of them at once), the
        cursor listing after them when the account changed meanwhile; each user with the number
        of its page (:func:`zoom_sam.zoom.paging.pages_by_number`)."""
        return paging.pages_by_number(
            self._user_page, self._fan_out_pages, "/users", _USERS, {"status": status}, page_size=self.config.page_size,
            cursor=lambda: self.list_users(status), expected_pages=expected_pages)

    def list_user_pages(self, status: str, numbers: Iterable[int]) -> Iterator[tuple[int, list[dict[str, Any]]]]:
        """GET /users?status=..., only the pages ``numbers``, side by side (:func:`zoom_sam.zoom.paging.some_pages`)."""
        return paging.some_pages(self._user_page, self._fan_out_pages, _USERS, {"status": status},
                                 page_size=self.config.page_size, numbers=numbers)

    def _user_page(self, query: Mapping[str, Any]) -> Any:
        return self._transport.send("GET", "/users", params=query)

    def _fan_out_pages(self, fn: Callable[[int], Any], numbers: Iterable[int]) -> Iterator[tuple[int, Any]]:
        return _map_concurrent(fn, numbers, max_in_flight=self.config.max_in_flight, thread_name_prefix="zoom-sam-pages")

    def get_user(self, user_id: str) -> dict[str, Any]:
        """GET /users/{id} (optional scope user:read:user:admin)."""
        return self.request("GET", f"/users/{user_segment(user_id)}")

    def get_user_settings(self, user_id: str, **params: Any) -> dict[str, Any]:
        """GET /users/{id}/settings; always carries the ``feature`` object (the add-ons) unless an
        ``option`` asks for another document."""
        return self.request("GET", f"/users/{user_segment(user_id)}/settings", params=params or None)

    def list_meetings(self, user_id: str, type: str = "previous_meetings", from_: date | str | None = None,
                      to: date | str | None = None, **params: Any) -> Iterator[dict[str, Any]]:
        q = {"type": type, "from": _fmt_date(from_), "to": _fmt_date(to), **params}
        return self.paginate(f"/users/{user_segment(user_id)}/meetings", q)

    def list_webinars(self, user_id: str, type: str = "scheduled", **params: Any) -> Iterator[dict[str, Any]]:
        """GET /users/{id}/webinars. A user without the webinar plan gets Zoom's 400 / code 200
        ("Webinar plan is missing") as a ZoomApiError."""
        return self.paginate(f"/users/{user_segment(user_id)}/webinars", {"type": type, **params})

    def update_user(self, user_id: str, body: Mapping[str, Any]) -> None:
        """PATCH /users/{id} (e.g. {"type": 1}); 204."""
        self.request("PATCH", f"/users/{user_segment(user_id)}", json=dict(body))

    def update_user_settings(self, user_id: str, body: Mapping[str, Any]) -> None:
        """PATCH /users/{id}/settings (e.g. {"feature": {"webinar": False}}); 204."""
        self.request("PATCH", f"/users/{user_segment(user_id)}/settings", json=dict(body))

    def delete_user(self, user_id: str, action: str = "disassociate") -> None:
        """DELETE /users/{id}?action=disassociate|delete; 204."""
        if action not in ("disassociate", "delete"):
            raise ValueError("action must be 'disassociate' or 'delete'")
        self.request("DELETE", f"/users/{user_segment(user_id)}", params={"action": action})

    def report_users(self, type: str = "active", from_: date | str | None = None,
                     to: date | str | None = None, **params: Any) -> Iterator[dict[str, Any]]:
        """GET /report/users (Heavy; optional scope report:read:list_users:admin; windows <= 1 month)."""
        q = {"type": type, "from": _fmt_date(from_), "to": _fmt_date(to), **params}
        return self.paginate("/report/users", q)

    def map_concurrent(self, fn: Callable[[T], R], items: Iterable[T], *, max_in_flight: int | None = None,
                       progress_every: int = 1000, label: str = "items") -> Iterator[tuple[T, R | Exception]]:
        """Run ``fn(item)`` for many independent items (e.g. one per user) on a thread pool.

        At most ``max_in_flight`` (default: the connection's ``max_in_flight``, 24) calls are in
        flight; items are consumed lazily; results come in completion order as ``(item, result)``
        with exceptions yielded, not raised. Every call still goes through the shared limiters.
        Progress is logged at INFO every ``progress_every`` results.
        """
        results = _map_concurrent(fn, items, max_in_flight=max_in_flight or self.config.max_in_flight,
                                  thread_name_prefix="zoom-sam")
        return with_progress(results, every=progress_every, label=label, stats=self.stats)


__all__ = ["ZoomClient", "ZoomConfig"]
