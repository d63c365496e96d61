"""The /v2 gateway: route table, bearer check, rate limit, scope check, then the endpoint.

The order is Zoom's as seen from a client: a bad token is a 401 whatever the path; a request
over the limit is a 429 before anything else is looked at (and a refused request costs no quota);
a missing scope is answered only to requests that got through the limiter.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable
from urllib.parse import unquote

from . import handlers
from .account import Account
from .errors import ZoomError, invalid_token, missing_scope
from .faults import Hits
from .messages import Request, Response
from .oauth import OAuth
from .paging import PageTokens
from .ratelimit import RateLimiter
from .requestlog import Record


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern
    category: str
    scope: str  # granular scope
    classic: str  # the classic scope that also grants it
    handler: Callable[[handlers.Context], Response]


def _route(method, path, category, scope, classic, handler) -> Route:
    return Route(method, re.compile("^" + path.replace("{user}", "(?P<user>[^/]+)") + "$"), category, scope, classic, handler)


ROUTES = (
    _route("GET", "/users", "Medium", "user:read:list_users:admin", "user:read:admin", handlers.list_users),
    _route("GET", "/users/{user}", "Light", "user:read:user:admin", "user:read:admin", handlers.get_user),
    _route("PATCH", "/users/{user}", "Light", "user:update:user:admin", "user:write:admin", handlers.patch_user),
    _route("DELETE", "/users/{user}", "Light", "user:delete:user:admin", "user:write:admin", handlers.delete_user),
    _route("GET", "/users/{user}/settings", "Medium", "user:read:settings:admin", "user:read:admin", handlers.get_settings),
    _route(
        "PATCH", "/users/{user}/settings", "Medium", "user:update:settings:admin", "user:write:admin", handlers.patch_settings
    ),
    _route(
        "GET", "/users/{user}/meetings", "Medium", "meeting:read:list_meetings:admin", "meeting:read:admin", handlers.list_meetings
    ),
    _route(
        "GET", "/users/{user}/webinars", "Medium", "webinar:read:list_webinars:admin", "webinar:read:admin", handlers.list_webinars
    ),
    _route("GET", "/report/users", "Heavy", "report:read:list_users:admin", "report:read:admin", handlers.report_users),
)


def match(method: str, path: str) -> tuple[Route | None, str | None]:
    """The route for a path below /v2, and the user it names (percent-decoded)."""
    for route in ROUTES:
        if route.method == method:
            m = route.pattern.match(path)
            if m:
                user = m.groupdict().get("user")
                return route, unquote(user) if user is not None else None
    return None, None


def error(e: ZoomError, headers: dict | None = None) -> Response:
    return Response(e.status, e.body(), dict(headers or {}))


class Api:
    def __init__(self, accounts: dict[str, Account], oauth: OAuth, limiter: RateLimiter, pages: PageTokens) -> None:
        self._accounts = accounts
        self._oauth = oauth
        self._limiter = limiter
        self._pages = pages

    def handle(self, request: Request, hits: Hits, record: Record) -> Response:
        route, user = match(request.method, request.path[len("/v2") :])
        if route is not None:
            record.category = route.category
        auth = request.headers.get("Authorization") or ""
        grant = self._oauth.grant(auth[7:].strip()) if auth[:7].lower() == "bearer " else None
        if grant is None:
            return error(invalid_token())
        record.account_id = grant.account_id
        if route is None:
            return Response(404, {"code": 404, "message": "Not Found"})
        account = self._accounts[grant.account_id]
        limit = account.config.limit(route.category)
        verdict = (
            self._limiter.refusal(route.category, limit)
            if hits.burst_429
            else self._limiter.admit(account.config, route.category)
        )
        record.ts = verdict.ts
        if not verdict.allowed:
            return Response(429, verdict.body, verdict.headers)
        record.metered = True
        if route.scope not in grant.scopes and route.classic not in grant.scopes:
            return error(missing_scope(route.scope), verdict.headers)
        ctx = handlers.Context(request, account, self._pages, user, hits.ignore_window)
        try:
            response = route.handler(ctx)
        except ZoomError as e:
            response = error(e)
        response.headers.update(verdict.headers)
        return response
