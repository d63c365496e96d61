"""zoom-sam processes and the Zoom OAuth scopes they need.

The minimal-permissions table of the product description: these seven granular scopes are all a
customer grants by default, and every process must work with exactly them. Two more scopes are
optional: code uses their endpoints only when the token carries them.

Apps created before granular scopes carry classic scopes (``user:read:admin`` ...). A classic
scope covers several granular ones; :func:`has_scope` accepts either.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

DOWNLOAD_SUBSCRIPTIONS = "download_subscriptions"
PULL_ACTIVITY = "pull_activity"
RECLAIM = "reclaim"
PROCESSES = (DOWNLOAD_SUBSCRIPTIONS, PULL_ACTIVITY, RECLAIM)

PROCESS_SCOPES: Mapping[str, tuple[str, ...]] = {
    DOWNLOAD_SUBSCRIPTIONS: ("user:read:list_users:admin", "user:read:settings:admin"),
    PULL_ACTIVITY: ("meeting:read:list_meetings:admin", "webinar:read:list_webinars:admin"),
    RECLAIM: ("user:update:settings:admin", "user:update:user:admin", "user:delete:user:admin"),
}

#: The seven scopes of the minimal-permissions table (what a customer grants by default).
MINIMAL_SCOPES: frozenset[str] = frozenset(s for scopes in PROCESS_SCOPES.values() for s in scopes)

USER_READ = "user:read:user:admin"              # GET /users/{id}
REPORT_USERS = "report:read:list_users:admin"   # GET /report/users
#: Optional scopes: endpoints used only when granted.
OPTIONAL_SCOPES: Mapping[str, str] = {
    USER_READ: "GET /users/{userId} (re-check a user before reclaiming)",
    REPORT_USERS: "GET /report/users (active hosts report)",
}

#: Granular scope -> the classic scope that covers it.
CLASSIC_EQUIVALENT: Mapping[str, str] = {
    "user:read:list_users:admin": "user:read:admin",
    "user:read:user:admin": "user:read:admin",
    "user:read:settings:admin": "user:read:admin",
    "user:update:settings:admin": "user:write:admin",
    "user:update:user:admin": "user:write:admin",
    "user:delete:user:admin": "user:write:admin",
    "user:update:status:admin": "user:write:admin",
    "meeting:read:list_meetings:admin": "meeting:read:admin",
    "webinar:read:list_webinars:admin": "webinar:read:admin",
    "report:read:list_users:admin": "report:read:admin",
    "report:read:user:admin": "report:read:admin",
}


def parse_scope_string(scope: str | None) -> frozenset[str]:
    """The token response's ``scope``: one string of space-separated scopes."""
    if not scope:
        return frozenset()
    return frozenset(s for s in scope.replace(",", " ").split() if s)


def has_scope(granted: Iterable[str], scope: str) -> bool:
    granted = granted if isinstance(granted, (set, frozenset)) else frozenset(granted)
    return scope in granted or CLASSIC_EQUIVALENT.get(scope) in granted


def missing_by_process(granted: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """process -> scopes it needs that are not granted (processes with none missing are omitted)."""
    granted = frozenset(granted)
    out = {}
    for process, scopes in PROCESS_SCOPES.items():
        missing = tuple(s for s in scopes if not has_scope(granted, s))
        if missing:
            out[process] = missing
    return out


def allowed_processes(granted: Iterable[str]) -> tuple[str, ...]:
    """The processes whose every required scope is granted."""
    missing = missing_by_process(granted)
    return tuple(p for p in PROCESSES if p not in missing)


def processes_needing(scopes: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """process -> which of ``scopes`` it needs (a classic scope counts for the granular ones it covers)."""
    scopes = frozenset(scopes)
    out = {}
    for process, required in PROCESS_SCOPES.items():
        hit = tuple(s for s in required if s in scopes or CLASSIC_EQUIVALENT.get(s) in scopes)
        if hit:
            out[process] = hit
    return out


def describe_missing(missing: Mapping[str, Iterable[str]]) -> str:
    """'pull_activity needs meeting:read:list_meetings:admin; reclaim needs ...'."""
    return "; ".join(f"{p} needs {', '.join(s)}" for p, s in missing.items())
