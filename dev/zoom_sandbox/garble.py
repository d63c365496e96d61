"""What the answer faults do to a successful answer: the 200s that are wrong.

Status and connection faults (``faults.py``) stop an answer; these change one that Zoom gave, the
way a misbehaving listing, a proxy or a captive portal does, so a client proves it never reads
them as "no users" or "no add-ons":

``repeat_page_token``
    a page of a listing hands back the very ``next_page_token`` it was asked with, so a client that
    follows tokens blindly asks for the same page forever;
``stop_listing``
    a page says it is the last (``next_page_token`` ``""``) while more remain; ``total_records``
    and ``page_count`` still count them all;
``malformed``
    the body is replaced by one of :data:`SHAPES`: ``null``, ``empty`` (no bytes), ``list`` (the
    object wrapped in a JSON array), ``html`` (a proxy's page), ``strings`` (the items of ``field``,
    default ``users``, as strings) or ``missing`` (``field``, default ``feature``, removed).

A fault applies only to an answer it can change (a 200 with a JSON object; a page token to repeat
or to drop; the field it names), and only an answer it changes counts as a match.
"""
from __future__ import annotations

import json
from dataclasses import replace

from .messages import Response

KINDS = ("repeat_page_token", "stop_listing", "malformed")
SHAPES = ("null", "empty", "list", "html", "strings", "missing")
DEFAULT_FIELD = {"strings": "users", "missing": "feature"}
_PROXY_PAGE = (b"<html><head><title>Sign in</title></head>"
               b"<body><form action=\"/login\">Proxy sign-in</form></body></html>")


def applies(kind: str, shape: str | None, field: str | None, query: dict, response: Response) -> bool:
    """Whether the fault can change this answer."""
    body = response.body
    if response.status != 200 or not isinstance(body, dict):
        return False
    if kind == "repeat_page_token":
        return bool(query.get("next_page_token")) and "next_page_token" in body
    if kind == "stop_listing":
        return bool(body.get("next_page_token"))
    if shape == "strings":
        return bool(isinstance(body.get(field), list) and body[field])
    if shape == "missing":
        return field in body
    return True


def apply(kind: str, shape: str | None, field: str | None, query: dict, response: Response) -> Response:
    """The changed answer (``applies`` said it can be changed)."""
    body = dict(response.body)
    if kind == "repeat_page_token":
        return replace(response, body={**body, "next_page_token": query["next_page_token"]})
    if kind == "stop_listing":
        return replace(response, body={**body, "next_page_token": ""})
    if shape == "null":
        return replace(response, body=b"null")
    if shape == "empty":
        return replace(response, body=b"")
    if shape == "list":
        return replace(response, body=json.dumps([body], separators=(",", ":")).encode())
    if shape == "html":
        return replace(response, body=_PROXY_PAGE, content_type="text/html")
    if shape == "strings":
        return replace(response, body={**body, field: [_as_string(item) for item in body[field]]})
    del body[field]
    return replace(response, body=body)


def _as_string(item) -> str:
    if isinstance(item, dict):
        return str(item.get("email") or item.get("id") or json.dumps(item))
    return str(item)
