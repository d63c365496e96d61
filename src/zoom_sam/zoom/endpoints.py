"""Zoom endpoints this project calls: method + path -> rate-limit category and required scope.

Categories are the "Rate Limit Label" of Zoom's OpenAPI document; scopes are Zoom's granular ones
(the README lists what each process needs). Unknown endpoints default to the Medium category (the
conservative middle) and no known scope.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

LIGHT, MEDIUM, HEAVY = "Light", "Medium", "Heavy"
CATEGORIES = (LIGHT, MEDIUM, HEAVY)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    template: str
    category: str
    scope: str | None

    @property
    def is_write(self) -> bool:
        return self.method in WRITE_METHODS


_SEG = r"[^/]+"
_TABLE: tuple[tuple[str, str, str, str, str | None], ...] = (
    # name,                 method,  template,                       category, scope
    ("list_users",          "GET",    "/users",                       MEDIUM, "user:read:list_users:admin"),
    ("get_user",            "GET",    "/users/{userId}",              LIGHT,  "user:read:user:admin"),
    ("get_user_settings",   "GET",    "/users/{userId}/settings",     MEDIUM, "user:read:settings:admin"),
    ("update_user_settings", "PATCH", "/users/{userId}/settings",     MEDIUM, "user:update:settings:admin"),
    ("update_user",         "PATCH",  "/users/{userId}",              LIGHT,  "user:update:user:admin"),
    ("delete_user",         "DELETE", "/users/{userId}",              LIGHT,  "user:delete:user:admin"),
    ("update_user_status",  "PUT",    "/users/{userId}/status",       LIGHT,  "user:update:status:admin"),
    ("list_meetings",       "GET",    "/users/{userId}/meetings",     MEDIUM, "meeting:read:list_meetings:admin"),
    ("list_webinars",       "GET",    "/users/{userId}/webinars",     MEDIUM, "webinar:read:list_webinars:admin"),
    ("report_users",        "GET",    "/report/users",                HEAVY,  "report:read:list_users:admin"),
    ("report_user_meetings", "GET",   "/report/users/{userId}/meetings", HEAVY, "report:read:user:admin"),
)


def _compile(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{[^}]+\}", _SEG, template) + "/?$")


ENDPOINTS: tuple[Endpoint, ...] = tuple(Endpoint(*row) for row in _TABLE)
_MATCHERS = tuple((ep, _compile(ep.template)) for ep in ENDPOINTS)


def lookup(method: str, path: str) -> Endpoint:
    """The endpoint of ``method path`` (path relative to the API base, e.g. ``/users/abc/settings``)."""
    method = method.upper()
    path = path.split("?", 1)[0]
    for ep, rx in _MATCHERS:
        if ep.method == method and rx.match(path):
            return ep
    return Endpoint("unknown", method, path, MEDIUM, None)

