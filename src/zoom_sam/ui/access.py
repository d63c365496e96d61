"""Who may see what: the user Airflow's auth manager vouches for, and the profiles they may read.

The views add no user store of their own. A request carries the JWT Airflow issued, either as
``Authorization: Bearer`` (what ``POST /auth/token`` returns, for scripts) or as the cookie the
Airflow UI sets after login (``COOKIE_NAME_JWT_TOKEN``); the auth manager validates it. A profile
is visible exactly to the users allowed to read its DAG ``zoom_sam__<alias>``, so whatever gives
people access to a DAG in Airflow (roles, FAB permissions, a custom auth manager) also decides
what they see here.
"""
from __future__ import annotations

from typing import Annotated

from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from fastapi import Depends, HTTPException, Request

from zoom_sam.profiles import Profile
from zoom_sam.ui.catalog import all_profiles


class NotAuthenticated(Exception):
    """No usable token: answered with 401 (JSON for the API, a page linking to Airflow's login)."""


async def current_user(request: Request) -> BaseUser:
    """The authenticated Airflow user of the request; a bearer token wins over the UI's cookie."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
    from jwt import ExpiredSignatureError, InvalidTokenError

    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    token = credentials.strip() if scheme.lower() == "bearer" else request.cookies.get(COOKIE_NAME_JWT_TOKEN)
    if not token:
        raise NotAuthenticated("not authenticated: log in to Airflow or send Authorization: Bearer <token>")
    try:
        return await get_auth_manager().get_user_from_token(token)
    except ExpiredSignatureError:
        raise NotAuthenticated("the token has expired: log in again") from None
    except InvalidTokenError:
        raise NotAuthenticated("the token is not valid: log in again") from None


User = Annotated[BaseUser, Depends(current_user)]


def may_read(user: BaseUser, profile: Profile) -> bool:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagDetails

    return get_auth_manager().is_authorized_dag(method="GET", details=DagDetails(id=profile.dag_id), user=user)


def readable_profiles(user: User) -> list[Profile]:
    """The profiles whose DAG the user may read; the others are not even listed."""
    return [profile for profile in all_profiles() if may_read(user, profile)]


def readable_profile(alias: str, user: User) -> Profile:
    """The profile ``alias`` if the user may read its DAG: 404 when there is none, 403 otherwise."""
    profile = next((p for p in all_profiles() if p.alias == alias), None)
    if profile is None:
        raise HTTPException(404, f"no profile {alias!r}")
    if not may_read(user, profile):
        raise HTTPException(403, f"not allowed to read DAG {profile.dag_id}, so not profile {alias!r}")
    return profile


ReadableProfiles = Annotated[list[Profile], Depends(readable_profiles)]
ReadableProfile = Annotated[Profile, Depends(readable_profile)]
