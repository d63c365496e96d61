"""What a Zoom user holds, what it is called, and which exclusions apply to it: pure functions.

No I/O and no Airflow here, so the licensing semantics (docs/reconcile.md) can be tested on plain dicts.

Subscription identifiers are the stable, readable names of "one paid thing a user holds", built
from the Zoom user object (``GET /users``) and, for add-ons, the user's settings
(``GET /users/{id}/settings`` -> ``feature``):

=========================  ===========================================  ================================
identifier                 Zoom source                                  software model
=========================  ===========================================  ================================
``user_type:2``            user ``type`` 2 (Licensed), active or        ``zoom_meetings_licensed``
                           pending invitation
``webinar:<C>``            ``feature.webinar`` + ``webinar_capacity``   ``zoom_webinar_<C>``
``large_meeting:<C>``      ``feature.large_meeting`` + capacity         ``zoom_large_meeting_<C>``
``zoom_events:<C>``        ``feature.zoom_events`` + capacity           unrecognized unless mapped
``webinar``,               the add-on flag without a capacity           unrecognized unless mapped
``large_meeting``, ...
``zoom_phone``, ...        any other paid per-user licence flag in      unrecognized unless mapped
                           ``feature`` (see :data:`PAID_FEATURE_FLAGS`)
=========================  ===========================================  ================================

Deactivated, Basic and unlicensed users hold nothing. Add-ons need the Licensed seat, so settings
are read only for active Licensed users (:func:`can_hold_addons`). A profile's
``identifier_models`` maps an unrecognized identifier to a model key of its choosing.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from zoom_sam.vocabulary import UserStatus

LICENSED_TYPE = 2
SEAT_IDENTIFIER = "user_type:2"
SEAT_MODEL = "zoom_meetings_licensed"
PUBLISHER = "Zoom"

# Add-ons with a capacity: feature flag -> capacity field.
CAPACITY_ADDONS = {
    "webinar": "webinar_capacity",
    "large_meeting": "large_meeting_capacity",
    "zoom_events": "zoom_events_capacity",
}
# Per-user licence flags in ``feature`` that are paid add-ons without a capacity. Free flags
# (``zoom_whiteboard``, ``cn_meeting``, ``in_meeting``, ``meeting_capacity``) are not listed.
PAID_FEATURE_FLAGS = (
    "zoom_phone",
    "zoom_whiteboard_plus",
    "zoom_iq_for_sales",
    "zoom_revenue_accelerator",
    "zoom_translated_captions",
    "zoom_customer_managed_key",
    "zoom_huddles",
    "zoom_quality_management",
    "zoom_workforce_management",
    "zoom_scheduler",
    "zoom_clips_plus",
    "zoom_mail_calendar",
    "zoom_compliance_management",
)

_BUILTIN = {
    # identifier prefix -> (model key prefix, product)
    "webinar": ("zoom_webinar_", "Zoom Webinars"),
    "large_meeting": ("zoom_large_meeting_", "Zoom Large Meetings"),
}
_CAPACITY_IDENTIFIER = re.compile(r"^(?P<kind>[a-z_]+):(?P<capacity>[1-9][0-9]*)$")
_CAPACITY_MODEL = re.compile(r"^(?P<prefix>zoom_webinar_|zoom_large_meeting_)(?P<capacity>[1-9][0-9]*)$")


@dataclass(frozen=True)
class Held:
    """One subscription identifier a user holds, with its capacity when it has one."""

    identifier: str
    capacity: int | None = None


@dataclass(frozen=True)
class SoftwareModel:
    """A software model row: publisher Zoom, a product and an edition (capacity)."""

    key: str
    product: str
    edition: str | None
    capacity: int | None
    source: str  # builtin | profile | entitlement
    publisher: str = PUBLISHER


def can_hold_addons(user: Mapping[str, Any]) -> bool:
    """Whether the user's settings must be read: add-ons need an active Licensed seat."""
    return user.get("status") == UserStatus.ACTIVE and user.get("type") == LICENSED_TYPE


def user_key(user: Mapping[str, Any]) -> str:
    """The warehouse key of a Zoom user: its id; pending invitations have none, so their email."""
    return user.get("id") or str(user["email"]).lower()


def needs_seat(identifier: str) -> bool:
    """Whether an add-on lives on the Licensed seat (a downgrade to Basic takes it along)."""
    return identifier.split(":", 1)[0] in CAPACITY_ADDONS


def held_subscriptions(user: Mapping[str, Any], settings: Mapping[str, Any] | None = None) -> list[Held]:
    """Every subscription identifier the user holds, from the user object and its settings."""
    if user.get("type") != LICENSED_TYPE or user.get("status") not in (UserStatus.ACTIVE, UserStatus.PENDING):
        return []
    held = [Held(SEAT_IDENTIFIER)]
    feature = (settings or {}).get("feature") or {}
    for flag, capacity_field in CAPACITY_ADDONS.items():
        if feature.get(flag) is True:
            capacity = _capacity(feature.get(capacity_field))
            held.append(Held(f"{flag}:{capacity}" if capacity else flag, capacity))
    held.extend(Held(flag) for flag in PAID_FEATURE_FLAGS if feature.get(flag) is True)
    return held


def builtin_model_for(identifier: str) -> SoftwareModel | None:
    """The built-in software model of an identifier, or None when the project does not map it."""
    if identifier == SEAT_IDENTIFIER:
        return SoftwareModel(SEAT_MODEL, "Zoom Meetings", "Licensed", None, "builtin")
    match = _CAPACITY_IDENTIFIER.match(identifier)
    if match and match["kind"] in _BUILTIN:
        prefix, product = _BUILTIN[match["kind"]]
        capacity = int(match["capacity"])
        return SoftwareModel(f"{prefix}{capacity}", product, f"{capacity} attendees", capacity, "builtin")
    return None


def model_for(identifier: str, identifier_models: Mapping[str, str]) -> SoftwareModel | None:
    """The software model of an identifier: built-in first, then the profile's mapping."""
    builtin = builtin_model_for(identifier)
    if builtin is not None:
        return builtin
    key = identifier_models.get(identifier)
    if key is None:
        return None
    described = describe_model(key, source="profile")
    match = _CAPACITY_IDENTIFIER.match(identifier)
    if described.capacity is None and match:  # e.g. zoom_events:500 -> a model with capacity 500
        capacity = int(match["capacity"])
        return SoftwareModel(key, described.product, f"{capacity} attendees", capacity, "profile")
    return described


def describe_model(key: str, source: str) -> SoftwareModel:
    """A software model row for a key named in a profile (entitlement or identifier mapping)."""
    if key == SEAT_MODEL:
        return SoftwareModel(SEAT_MODEL, "Zoom Meetings", "Licensed", None, source)
    match = _CAPACITY_MODEL.match(key)
    if match:
        capacity = int(match["capacity"])
        product = "Zoom Webinars" if match["prefix"] == "zoom_webinar_" else "Zoom Large Meetings"
        return SoftwareModel(key, product, f"{capacity} attendees", capacity, source)
    return SoftwareModel(key, key.replace("_", " ").title(), None, None, source)


def user_exclusion(user: Mapping[str, Any], rules: Iterable[Any]) -> str | None:
    """The first user rule excluding this user, as ``field=pattern``; None when none does.

    Rules have ``field`` (email, user_id, dept, group_id, role_id) and ``pattern`` (fnmatch;
    emails compare case-insensitively, a group rule matches any of the user's groups).
    """
    for rule in rules:
        field, pattern = rule.field, rule.pattern
        if field == "email":
            values = [str(user.get("email") or "").lower()]
            pattern = pattern.lower()
        elif field == "user_id":
            values = [user_key(user)]
        elif field == "group_id":
            values = [str(g) for g in user.get("group_ids") or ()]
        else:
            values = [str(user.get(field) or "")]
        if any(value and fnmatchcase(value, pattern) for value in values):
            return rule_label(field, rule.pattern)
    return None


def identifier_exclusion(identifier: str, patterns: Iterable[str]) -> str | None:
    """The first identifier pattern excluding this identifier, as ``identifier=pattern``."""
    for pattern in patterns:
        if fnmatchcase(identifier, pattern):
            return rule_label("identifier", pattern)
    return None


def rule_label(field: str, pattern: str) -> str:
    """How a subscription records the exclusion rule that matched it (``exclusion_rule`` columns)."""
    return f"{field}={pattern}"


def _capacity(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        capacity = int(value)
    except (TypeError, ValueError):
        return None
    return capacity if capacity > 0 else None
