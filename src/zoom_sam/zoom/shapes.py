"""What a usable answer of each read endpoint looks like, checked before anything reads it.

A 200 is not proof of an answer: a proxy, a captive portal or a Zoom incident can hand back
``null``, an empty body, a list, or an object missing the part that matters. Read naively, each of
those becomes "no users", "no add-ons" or "no access token", and the warehouse would then end
subscriptions that are still held. So every read names what it needs here, and a body without it
is a :class:`~zoom_sam.zoom.errors.ZoomMalformedResponse` instead of an empty result.

The checks stop at what zoom-sam reads: the envelope of a listing, the key of each item (paging
de-duplicates by it, the warehouse is keyed by it), a user's ``type`` (it decides the Licensed
seat) and the settings' ``feature`` object (it holds the add-ons). Extra fields never fail.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from zoom_sam.zoom.timestamps import parse_zoom_time


@dataclass(frozen=True)
class Listing:
    """A paged endpoint: where its items are, what keys them, whether ``total_records`` is checked.

    ``counted``: the listing must agree with the ``total_records`` Zoom reports (see
    :mod:`zoom_sam.zoom.paging`); only ``GET /users`` is, because a user missing from it is read
    as gone. ``total_records`` is then required, not merely type-checked. ``item_problem``:
    what else each item must carry to be read.
    """

    items: str
    keys: Sequence[str]
    counted: bool = False
    item_problem: Callable[[Mapping[str, Any], str], str | None] | None = None


# GET /users/{id}/settings with one of these answers a different document, without ``feature``.
_SETTINGS_VARIANTS = ("option", "custom_query_fields")


def item_key(item: Mapping[str, Any], keys: Sequence[str]) -> tuple[str, Any] | None:
    """The first present of ``keys`` as (field, value): pending users have an email but no id.
    Only a string or a number keys an item: anything else could not be compared or stored."""
    for name in keys:
        value = item.get(name)
        if (isinstance(value, str) and value) or _is_int(value):
            return (name, value)
    return None


def problem(endpoint: str, body: Any, params: Mapping[str, Any] | None = None) -> str | None:
    """What is wrong with ``body`` as the answer of ``endpoint`` (by name), or None when usable."""
    listing = LISTINGS.get(endpoint)
    if listing is not None:
        return _listing_problem(listing, body)
    if endpoint == "get_user":
        return _object_problem(body) or _user_problem(body, "the user")
    if endpoint == "get_user_settings":
        if any((params or {}).get(p) for p in _SETTINGS_VARIANTS):
            return _object_problem(body)
        return _object_problem(body) or _settings_problem(body)
    return None


def token_problem(body: Any) -> str | None:
    """What is wrong with the token endpoint's 200 answer, or None when it carries a usable token."""
    wrong = _object_problem(body)
    if wrong:
        return wrong
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        return "it carries no access_token"
    expires_in = body.get("expires_in")
    if expires_in is not None and (not _is_number(expires_in) or expires_in <= 0):
        return f"expires_in is {_describe(expires_in)}, not a positive number of seconds"
    for name in ("scope", "refresh_token"):
        if body.get(name) is not None and not isinstance(body[name], str):
            return f"{name} is {_describe(body[name])}, not a string"
    return None


def _listing_problem(listing: Listing, body: Any) -> str | None:
    wrong = _object_problem(body)
    if wrong:
        return wrong
    items = body.get(listing.items)
    if not isinstance(items, list):
        return (f"it has no '{listing.items}' list" if items is None
                else f"'{listing.items}' is {_describe(items)}, not a list")
    token = body.get("next_page_token")
    if token is not None and not isinstance(token, str):
        return f"next_page_token is {_describe(token)}, not a string"
    total = body.get("total_records")
    if total is None and listing.counted:
        return "it has no total_records, so the listing cannot be checked for completeness"
    if total is not None and not (_is_int(total) and total >= 0):
        return f"total_records is {_describe(total)}, not a count"
    for i, item in enumerate(items):
        where = f"{listing.items}[{i}]"
        if not isinstance(item, dict):
            return f"{where} is {_describe(item)}, not an object"
        if item_key(item, listing.keys) is None:
            return f"{where} has no {' and no '.join(listing.keys)}"
        wrong = listing.item_problem and listing.item_problem(item, where)
        if wrong:
            return wrong
    return None


# A user's timestamps the warehouse keeps: a value that is there must be readable (never guessed).
_USER_TIMES = ("created_at", "last_login_time")


def _user_problem(user: Mapping[str, Any], where: str) -> str | None:
    if item_key(user, ("id", "email")) is None:
        return f"{where} has no id and no email"
    if not _is_int(user.get("type")):
        return f"{where} has type {_describe(user.get('type'))}, not a user type number"
    for name in _USER_TIMES:
        if user.get(name) and parse_zoom_time(user[name]) is None:
            return f"{where} has {name} as {_describe(user[name])} that is not a timestamp with a zone"
    return None


# By endpoint name (zoom_sam.zoom.endpoints).
LISTINGS: dict[str, Listing] = {
    "list_users": Listing("users", ("id", "email"), counted=True, item_problem=_user_problem),
    "list_meetings": Listing("meetings", ("uuid", "id")),
    "list_webinars": Listing("webinars", ("uuid", "id")),
    "report_users": Listing("users", ("id", "email")),
    "report_user_meetings": Listing("meetings", ("uuid", "id")),
}


def _settings_problem(settings: Mapping[str, Any]) -> str | None:
    feature = settings.get("feature")
    if not isinstance(feature, dict):
        what = "no 'feature' object" if feature is None else f"'feature' as {_describe(feature)}"
        return f"it has {what}, so the user's add-ons are unknown"
    return None


def _object_problem(body: Any) -> str | None:
    if isinstance(body, dict):
        return None
    return f"the body is {_describe(body)}, not a JSON object"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _describe(value: Any) -> str:
    """A short, secret-free description of a JSON value: its kind, never its content."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "an empty string" if not value else "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"
