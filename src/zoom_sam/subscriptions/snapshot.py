"""Zoom user objects -> staging rows: the pure part of the download.

Kept apart from the I/O so the licensing decisions of one user (which identifiers, which model,
excluded by which rule) can be tested on plain dicts.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zoom_sam.licensing import held_subscriptions, identifier_exclusion, model_for, user_exclusion, user_key
from zoom_sam.profiles import Profile
from zoom_sam.zoom.timestamps import parse_zoom_time


def user_row(user: Mapping[str, Any]) -> dict[str, Any]:
    """The ``stage_zoom_user`` columns of a Zoom user object (``GET /users``)."""
    return {
        "user_id": user_key(user),
        "email": str(user.get("email") or "").lower(),
        "first_name": user.get("first_name"),
        "last_name": user.get("last_name"),
        "display_name": user.get("display_name"),
        "user_type": int(user.get("type") or 0),
        "status": user.get("status") or "unknown",
        "dept": user.get("dept") or None,
        "role_id": None if user.get("role_id") is None else str(user["role_id"]),
        "group_ids": list(user.get("group_ids") or []),
        "user_created_at": parse_zoom_time(user.get("created_at")),
        "last_login_time": parse_zoom_time(user.get("last_login_time")),
        "last_client_version": user.get("last_client_version"),
    }


def subscription_rows(
    profile: Profile, user: Mapping[str, Any], settings: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """The ``stage_subscription`` rows of a user: what it holds, modelled and exclusion-checked."""
    held = held_subscriptions(user, settings)
    if not held:
        return []
    excluded_by = user_exclusion(user, profile.exclusions.users)
    rows = []
    for item in held:
        model = model_for(item.identifier, profile.identifier_models)
        rule = excluded_by or identifier_exclusion(item.identifier, profile.exclusions.identifiers)
        rows.append({
            "user_id": user_key(user),
            "identifier": item.identifier,
            "email": str(user.get("email") or "").lower(),
            "software_model": model.key if model else None,
            "capacity": item.capacity,
            "user_status": user.get("status"),
            "excluded": rule is not None,
            "exclusion_rule": rule,
        })
    return rows

