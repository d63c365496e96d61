"""Responses validate against Zoom's own OpenAPI schemas (a subset kept in data/, see its _origin)."""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import jsonschema
import pytest

SUBSET = json.loads((Path(__file__).parent / "data" / "zoom_openapi_subset.json").read_text())
WINDOW = {"from": "2026-10-29", "to": "2026-11-27"}

# Fields the sandbox sends that the 2023 document does not declare but Zoom's current API
# returns (facts digest 2.1: from Zoom's rivet SDK and the Airbyte schema).
NEWER_FIELDS = {"user_created_at", "display_name", "language", "login_types"}

_FORMATS = jsonschema.FormatChecker(formats=())


@_FORMATS.checks("date-time")
def _date_time(value) -> bool:
    return not isinstance(value, str) or re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", value) is not None


@_FORMATS.checks("date", raises=ValueError)
def _date(value) -> bool:
    if isinstance(value, str):
        date.fromisoformat(value)
    return True


@_FORMATS.checks("email")
def _email(value) -> bool:
    return not isinstance(value, str) or re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", value) is not None


def validate(endpoint: str, body: dict) -> None:
    schema = SUBSET["schemas"][endpoint]
    jsonschema.Draft7Validator(schema, format_checker=_FORMATS).validate(body)
    undeclared = _undeclared(body, schema) - NEWER_FIELDS
    assert not undeclared, f"{endpoint}: fields Zoom does not document: {sorted(undeclared)}"


def _undeclared(value, schema) -> set[str]:
    """Object keys in ``value`` that no (sub)schema declares."""
    if isinstance(value, list):
        items = schema.get("items", {})
        return set().union(*(_undeclared(v, items) for v in value)) if value else set()
    if not isinstance(value, dict):
        return set()
    parts = [schema] + schema.get("allOf", [])
    props = {}
    for part in parts:
        props.update(part.get("properties", {}))
    found = {k for k in value if k not in props}
    for k, v in value.items():
        if k in props:
            found |= _undeclared(v, props[k])
    return found


def test_validation_catches_a_wrong_type():
    with pytest.raises(jsonschema.ValidationError):
        validate("GET /users", {"users": [{"email": "a@example.com", "type": "Licensed"}]})
    with pytest.raises(jsonschema.ValidationError):
        validate("GET /users/{userId}/meetings", {"meetings": [{"start_time": "2026-11-28 10:00"}]})
    with pytest.raises(AssertionError):
        validate("GET /users", {"users": [{"email": "a@example.com", "type": 1, "licence": "x"}]})


@pytest.mark.parametrize("status", ["active", "inactive", "pending"])
def test_list_users(open_client, status):
    validate("GET /users", open_client.get("/users", status=status, page_size=300).json())


def test_get_user(open_client):
    for user in open_client.get("/users", page_size=50).json()["users"]:
        validate("GET /users/{userId}", open_client.get(f"/users/{user['id']}").json())


def test_user_settings(open_client, open_sandbox):
    kinds = {}
    for u in open_sandbox.account().users("active"):
        f = u["settings"]["feature"]
        kinds.setdefault((u["type"], f["webinar"], f["large_meeting"], f["zoom_events"]), u["id"])
    assert len(kinds) >= 4
    for uid in kinds.values():
        validate("GET /users/{userId}/settings", open_client.get(f"/users/{uid}/settings").json())


def test_meetings_and_webinars(open_client, open_sandbox):
    acct = open_sandbox.account()
    hosts = [u for u in acct.users("active") if acct.last_hosted(u["id"])][:15]
    for u in hosts:
        for kind in ("previous_meetings", "upcoming", "scheduled"):
            body = open_client.get(f"/users/{u['id']}/meetings", type=kind, page_size=300, **WINDOW).json()
            validate("GET /users/{userId}/meetings", body)
    holders = [u for u in acct.users("active") if u["settings"]["feature"]["webinar"]]
    assert holders
    for u in holders:
        validate("GET /users/{userId}/webinars", open_client.get(f"/users/{u['id']}/webinars", page_size=300).json())


@pytest.mark.parametrize("kind", ["active", "inactive"])
def test_host_report(open_client, kind):
    body = open_client.get("/report/users", type=kind, page_size=300, **WINDOW).json()
    assert body["users"]
    validate("GET /report/users", body)
